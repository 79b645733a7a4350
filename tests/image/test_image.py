"""The built image, end to end: the action in its container as GitHub runs it (tests/image/container.py),
against the fake GitHub and the fake provider on the host's 127.0.0.1.

Skipped unless QODO_IMAGE names an image (the README's `python -m pytest` does not build one). Locally:
`bash tests/image/build.sh` then `QODO_IMAGE=qodo-review:test python -m pytest tests/image`; CI's `image`
job does the same with docker, and the release workflow with the pushed digest.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from container import ImageRun, engine, image, run_image
from e2e import SHA_BASE, SHA_HEAD, comment_event, pr_event
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion
from test_e2e import ANSWER, SAMPLE_DIFF
from test_fetch import large_pull, make_repo

pytestmark = pytest.mark.skipif(
    not image(), reason="QODO_IMAGE names no image: build one with tests/image/build.sh (see tests/image)"
)

# Where the action may write in the container: the workspace (the findings file), the runner's file-command
# files (outputs, job summary) and the runner's temp folder (git's empty work tree).
WRITABLE = ("/github/workspace/", "/github/file_commands/", "/github/runner_temp/")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        fake.set_permission("maintainer", "write")
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def contained(run: ImageRun, *fakes: str) -> None:
    """The run's own promises: no traceback, no refusal by the lockdown, and only the two fakes contacted."""
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.violations == [], run.violations
    ports = {urlsplit(url).port for url in fakes}
    for event in run.audit:
        if event["kind"] in ("connect", "sendto", "sendmsg"):
            assert (event.get("host"), event.get("port")) in {("127.0.0.1", p) for p in ports}, event
        if event["kind"] == "resolve":
            assert event["host"] in ("", "127.0.0.1", "localhost"), event


def test_full_review(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "fail-on: high\n")
    llm.enqueue(json=chat_completion(json.dumps(ANSWER), prompt_tokens=1200, completion_tokens=300))

    run = run_image(tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event())

    contained(run, github.url, llm.url)
    assert run.code == 1, run.stdout + run.stderr  # the critical finding meets fail-on: high
    (request,) = llm.requests
    assert request.json["store"] is False and "R12 + |" in request.json["messages"][1]["content"]
    (review,) = github.posted_reviews
    assert sorted(c["line"] for c in review["comments"]) == [12, 16]
    (comment,) = github.issue_comments
    assert comment["body"].startswith("<!-- qodo-review:summary -->")
    (check,) = github.check_runs
    assert (check["head_sha"], check["conclusion"]) == (SHA_HEAD, "failure")
    assert "What left the runner" in run.summary  # GITHUB_STEP_SUMMARY, in /github/file_commands
    assert run.outputs["verdict"] == "fail" and run.outputs["findings"] == "3"
    # A following step, in the workspace on the runner, opens the findings_file output as it is.
    assert run.outputs["findings_file"] == "qodo-findings.json"
    findings = run.findings()
    assert findings["verdict"] == "fail" and len(findings["findings"]) == 3


def test_findings_file_in_a_subfolder_is_found_by_the_next_step(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
    run = run_image(
        tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event(), inputs={"findings-file": "out/q.json"}
    )
    contained(run, github.url, llm.url)
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["findings_file"] == "out/q.json"
    assert run.findings()["complete"] is True


def test_dry_run(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = run_image(tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event(), inputs={"dry-run": "true"})

    contained(run, github.url, llm.url)
    assert run.code == 0, run.stdout + run.stderr
    assert "Dry run: nothing was sent." in run.stdout
    assert llm.requests == []
    assert github.posted_reviews == [] and github.issue_comments == [] and github.check_runs == []
    assert run.findings()["dry_run"] is True


def test_comment_command(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    cid = github.add_issue_comment(7, "/review", user="maintainer")
    llm.enqueue(json=chat_completion(json.dumps(ANSWER)))

    run = run_image(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        event_name="issue_comment",
        payload=comment_event("/review", cid),
    )

    contained(run, github.url, llm.url)
    assert run.code == 0, run.stdout + run.stderr
    assert [(r["comment_id"], r["content"]) for r in github.reactions] == [(cid, "eyes")]
    assert len(llm.requests) == 1 and len(github.posted_reviews) == 1
    (check,) = github.check_runs  # on the PR's head commit
    assert check["head_sha"] == SHA_HEAD


def test_reads_a_git_checkout(tmp_path: Path, llm: FakeLLM) -> None:
    """A PR too large for GitHub's diff, every patch omitted: the image's git reads them from the mounted
    checkout (owned by another user than the container's root on a hosted runner: no ownership check
    applies, GIT_DIR is given), each checked against GitHub's blob ids."""
    root, base, head = make_repo(tmp_path)  # the checkout: tmp_path/workspace
    with FakeGitHub() as github:
        large_pull(github, root, base, head)
        run = run_image(tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event(), workspace=root)
        contained(run, github.url, llm.url)

    assert run.code == 0, run.stdout + run.stderr
    assert "6 were read from the git checkout, checked against GitHub's blob ids" in run.stdout
    assert "if not user.is_admin:" in json.dumps([r.json for r in llm.requests])  # the removed check, from git
    gits = [e["argv"] for e in run.audit if e["kind"] == "process"]
    assert gits and {argv[0] for argv in gits} == {"/usr/local/bin/git"}, gits


def test_contacts_only_the_two_fakes_and_writes_only_its_outputs(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    """The flight recorder inside the container: every connection and name lookup, every process and every
    file written by the action, for a full review."""
    llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
    run = run_image(tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event())
    assert run.code == 0, run.stdout + run.stderr
    contained(run, github.url, llm.url)

    kinds = {e["kind"] for e in run.audit}
    assert "connect" in kinds, "the recorder saw no connection: is the lockdown mounted as sitecustomize?"
    reached = {(e["host"], e["port"]) for e in run.audit if e["kind"] == "connect"}
    assert reached == {("127.0.0.1", urlsplit(github.url).port), ("127.0.0.1", urlsplit(llm.url).port)}
    assert [e for e in run.audit if e["kind"] == "process"] == []  # no checkout: git is not even started
    written = sorted({e["path"] for e in run.audit if e["kind"] in ("write", "mkdir", "mkstemp", "mkdtemp")})
    assert written and all(p.startswith(WRITABLE) for p in written), written
    assert not [p for p in written if p.endswith(".pyc")], "bytecode is compiled in the image, never at run time"
    assert github.requests and len(llm.requests) == 1


def test_image_ships_bytecode(tmp_path: Path) -> None:
    """Every module of the package and of the SDKs has its bytecode in the image (compiled at build time)."""
    probe = (
        "import importlib.util, pathlib, sys\n"
        "sys.path.insert(0, '/app/src')\n"
        "missing = []\n"
        "for name in ('qodo_review', 'openai', 'anthropic', 'yaml', 'requests', 'pydantic'):\n"
        "    root = pathlib.Path(importlib.util.find_spec(name).origin).parent\n"
        "    for source in root.rglob('*.py'):\n"
        "        if not pathlib.Path(importlib.util.cache_from_source(str(source))).exists():\n"
        "            missing.append(str(source))\n"
        "print(len(missing)); print('\\n'.join(missing[:20]))\n"
    )
    done = subprocess.run(
        [engine(), "run", "--rm", "--network", "none", "--entrypoint", "python", image(), "-I", "-c", probe],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "0", done.stdout
