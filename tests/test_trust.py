"""The container runs only our code and trusts only what it verified (issue 10, section 5), end to end
through entrypoint.py: an earlier step's PYTHONPATH and PATH run nothing, the findings file is never written
through a link and is named for later steps, a forged state is ignored, other authors' comments are not ours.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import ROOT, SHA_BASE, SHA_HEAD, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM
from test_fetch import large_pull, make_repo

from qodo_review.render import SUMMARY_MARKER
from qodo_review.state import STATE_OPEN

DIFF = "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,3 @@\n x = 1\n+y = compute()\n z = 3\n"
KEY = "sk-test-key-0123456789abcdef"  # e2e.run_action's default api-key


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


# --- only our code runs -----------------------------------------------------------------------------------


def plant(tmp_path: Path) -> tuple[Path, Path, Path]:
    """What an earlier step could leave: modules for PYTHONPATH (sitecustomize, a `requests`, a
    `qodo_review`) and a `git` for PATH, each leaving a mark (with the key it saw) if it ever runs."""
    marks, modules, bin_dir = tmp_path / "marks", tmp_path / "evil-modules", tmp_path / "evil-bin"
    for d in (marks, modules, bin_dir, modules / "requests", modules / "qodo_review"):
        d.mkdir(parents=True)
    mark = "import os\nopen(os.path.join({marks!r}, {name!r}), 'w').write(os.environ.get('QODO_API_KEY', ''))\n"
    (modules / "sitecustomize.py").write_text(mark.format(marks=str(marks), name="sitecustomize"), encoding="utf-8")
    (modules / "usercustomize.py").write_text(mark.format(marks=str(marks), name="usercustomize"), encoding="utf-8")
    (modules / "requests" / "__init__.py").write_text(mark.format(marks=str(marks), name="requests"), encoding="utf-8")
    (modules / "qodo_review" / "__init__.py").write_text(
        mark.format(marks=str(marks), name="qodo_review"), encoding="utf-8"
    )
    startup = modules / "startup.py"
    startup.write_text(mark.format(marks=str(marks), name="startup"), encoding="utf-8")
    git = bin_dir / "git"
    git.write_text(f"#!/bin/sh\necho \"$QODO_API_KEY\" > '{marks}/git'\nexit 1\n", encoding="utf-8")
    git.chmod(0o755)
    return marks, modules, bin_dir


def test_an_earlier_steps_pythonpath_and_path_run_nothing(tmp_path: Path, llm: FakeLLM) -> None:
    """`python -I entrypoint.py`, as the image runs it, with PYTHONPATH, PYTHONSTARTUP, PYTHONUSERBASE and
    PATH set by an earlier step: none of its code runs, git is the image's, and the review completes."""
    marks, modules, bin_dir = plant(tmp_path)
    root, base, head = make_repo(tmp_path)
    with FakeGitHub() as github:
        large_pull(github, root, base, head)
        run = run_action(
            root.parent,
            github_url=github.url,
            llm_url=llm.url,
            isolated=True,
            extra_env={
                "PYTHONPATH": str(modules),
                "PYTHONSTARTUP": str(modules / "startup.py"),
                "PYTHONUSERBASE": str(modules),
                "PATH": str(bin_dir),
                "PYTHONINSPECT": "1",
            },
        )

    assert sorted(p.name for p in marks.iterdir()) == []
    assert run.code == 0, run.stdout + run.stderr
    assert "6 were read from the git checkout, checked against GitHub's blob ids" in run.stdout  # the real git


def test_the_images_entrypoint_runs_python_isolated() -> None:
    """The Dockerfile's ENTRYPOINT (exec form) starts Python with -I, by its absolute path."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith("ENTRYPOINT")]
    argv = json.loads(line.removeprefix("ENTRYPOINT"))
    assert argv[0].startswith("/") and argv[0].rsplit("/", 1)[-1].startswith("python")
    assert "-I" in argv[1 : argv.index("/app/entrypoint.py")]
    assert re.search(r"^COPY --from=git /usr/bin/git /usr/local/bin/git$", text, re.M)
    from qodo_review.gitread import TRUSTED_GIT

    assert TRUSTED_GIT[0] == "/usr/local/bin/git"


def test_the_isolated_interpreter_still_finds_our_package() -> None:
    """-I drops the script's directory from sys.path; entrypoint.py puts src there itself."""
    import subprocess

    entrypoint = str(ROOT / "entrypoint.py")
    code = (
        f"import runpy, sys; sys.argv = ['x']; g = runpy.run_path({entrypoint!r}, run_name='not-main'); "
        "import qodo_review; print(qodo_review.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True, env={"PATH": os.defpath}
    )
    assert done.stdout.strip() == str(ROOT / "src" / "qodo_review" / "__init__.py")


# --- files we write: never through a link, at a path later steps can open ---------------------------------


def dry_run(tmp: Path, github: FakeGitHub, **inputs: str) -> object:
    return run_action(tmp, github_url=github.url, inputs={"dry-run": "true", **inputs})


def test_the_findings_file_output_is_a_path_a_later_step_opens_as_is(tmp_path: Path) -> None:
    """A later step runs in GITHUB_WORKSPACE: the output, resolved there, names the file written."""
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        run = dry_run(tmp_path, github, **{"findings-file": "./reports/qodo.json"})

    assert run.code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    output = run.outputs["findings_file"]  # type: ignore[attr-defined]
    assert output == "reports/qodo.json" and not os.path.isabs(output)
    written = json.loads((tmp_path / "workspace" / output).read_text(encoding="utf-8"))
    assert written["command"] == "review"


def test_a_symlink_at_the_findings_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours\n", encoding="utf-8")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "qodo-findings.json").symlink_to(outside)
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        run = dry_run(tmp_path, github)

    assert run.code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert outside.read_text(encoding="utf-8") == "not yours\n"
    target = workspace / run.outputs["findings_file"]  # type: ignore[attr-defined]
    assert not target.is_symlink() and json.loads(target.read_text(encoding="utf-8"))["command"] == "review"


def test_a_symlinked_directory_on_the_findings_path_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "reports").symlink_to(elsewhere)
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        run = dry_run(tmp_path, github, **{"findings-file": "reports/qodo.json"})

    assert run.code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert list(elsewhere.iterdir()) == []
    assert not (workspace / "reports").is_symlink() and (workspace / "reports" / "qodo.json").is_file()


@pytest.mark.parametrize("value", ["/github/workspace/qodo.json", "../qodo.json", "a/../../qodo.json", "reports/.."])
def test_a_findings_file_outside_the_workspace_is_a_clear_usage_error(tmp_path: Path, value: str) -> None:
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        run = dry_run(tmp_path, github, **{"findings-file": value})

    assert run.code == 2 and "Input 'findings-file'" in run.stdout  # type: ignore[attr-defined]
    assert "Traceback" not in run.stdout + run.stderr  # type: ignore[attr-defined]


# --- hidden state and our comments: only our own account's, only when signed ----------------------------


def review(tmp: Path, github: FakeGitHub, llm: FakeLLM, **inputs: str) -> object:
    return run_action(tmp, github_url=github.url, llm_url=llm.url, inputs=inputs, payload=pr_event())


@pytest.mark.parametrize(("login", "kind"), [("other-app[bot]", "Bot"), ("mallory", "User")])
def test_a_comment_by_another_author_carrying_our_marker_is_never_edited(
    tmp_path: Path, llm: FakeLLM, login: str, kind: str
) -> None:
    """Another bot's (or a person's) comment dressed as our summary, with a state saying the head was
    reviewed already: it is not edited, its state is not read, and our own summary is created."""
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        other = f'{SUMMARY_MARKER}\n## qodo-review\n\n{STATE_OPEN}{{"v":1,"last":"{SHA_HEAD}"}} {"0" * 64} -->'
        github.add_issue_comment(7, other, user=login, user_type=kind)
        run = review(tmp_path, github, llm)
        comments = github.issue_comments

    assert run.code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert "Full review (first review)." in run.summary and len(llm.requests) == 1  # type: ignore[attr-defined]
    assert comments[0]["body"] == other and comments[0]["user"]["login"] == login
    assert len(comments) == 2 and comments[1]["user"]["login"] == "github-actions[bot]"
    assert comments[1]["body"].startswith(SUMMARY_MARKER)


def test_with_a_personal_token_our_comments_are_those_of_its_user(tmp_path: Path, llm: FakeLLM) -> None:
    """A PAT writes as its user (GET /user): that user's summary is edited in place; the workflow bot's
    comment with our marker is someone else's and stays as it is."""
    pat = "ghp_" + "a" * 36
    with FakeGitHub(token=pat, bot_login="release-robot") as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        bots = github.add_issue_comment(
            7, f"{SUMMARY_MARKER}\nthe workflow bot's", user="github-actions[bot]", user_type="Bot"
        )
        mine = github.add_issue_comment(7, f"{SUMMARY_MARKER}\nan earlier run's", user="release-robot")
        run = review(tmp_path, github, llm, **{"github-token": pat})
        comments = {c["id"]: c for c in github.issue_comments}
        users = github.find("GET", r"^/user$")

    assert run.code == 0, run.stdout + run.stderr  # type: ignore[attr-defined]
    assert len(users) == 1 and len(comments) == 2
    assert comments[bots]["body"] == f"{SUMMARY_MARKER}\nthe workflow bot's"
    edited = comments[mine]["body"]
    assert edited != f"{SUMMARY_MARKER}\nan earlier run's" and "qodo-review:state" in edited


def test_with_a_github_app_token_our_comments_are_those_of_its_bot(tmp_path: Path, llm: FakeLLM) -> None:
    """A GitHub App's installation token (`ghs_`, like the workflow's) cannot read GET /user; GraphQL's viewer
    names its bot. Run twice: the second run finds the first one's summary (the App's) and trusts its state,
    where it used to look for github-actions[bot]'s, post a second summary and review everything again."""
    app = "ghs_" + "b" * 36
    with FakeGitHub(token=app, bot_login="review-app[bot]") as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        bots = github.add_issue_comment(
            7, f"{SUMMARY_MARKER}\nthe workflow bot's", user="github-actions[bot]", user_type="Bot"
        )
        review(tmp_path / "1", github, llm, **{"github-token": app})
        second = review(tmp_path / "2", github, llm, **{"github-token": app})
        comments = {c["id"]: c for c in github.issue_comments}
        viewer_calls = github.viewer_calls

    assert second.code == 0, second.stdout + second.stderr  # type: ignore[attr-defined]
    assert len(comments) == 2 and comments[bots]["body"] == f"{SUMMARY_MARKER}\nthe workflow bot's"
    (ours,) = (c for c in comments.values() if c["id"] != bots)
    assert ours["user"]["login"] == "review-app[bot]" and "qodo-review:state" in ours["body"]
    assert len(llm.requests) == 1  # the second run trusted the first one's state: nothing new to review
    assert viewer_calls == 2  # once a run


def test_a_genuine_state_verifies_end_to_end_and_the_key_stays_out_of_the_comment(tmp_path: Path, llm: FakeLLM) -> None:
    """Run twice on the same head: the second run trusts the state the first one signed (nothing new to
    review), and neither the key nor anything derived in the open is in the comment."""
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, DIFF)
        review(tmp_path / "1", github, llm)
        second = review(tmp_path / "2", github, llm)
        (comment,) = github.issue_comments

    assert len(llm.requests) == 1, second.stdout  # type: ignore[attr-defined]
    assert KEY not in comment["body"] and KEY.encode().hex() not in comment["body"]
    assert re.search(r"qodo-review:state \{.*\} [0-9a-f]{64} -->$", comment["body"])
