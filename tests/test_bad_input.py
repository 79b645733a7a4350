"""Bad input, each with its own message and the exit code of the contract, never a traceback: event files,
diffs (through the CLI and through the action) and configuration files."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REALDATA
from e2e import SHA_BASE, SHA_HEAD, ActionRun, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM

from qodo_review import cli
from qodo_review.config import parse_config_text
from qodo_review.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
EVENT_RUNS = REALDATA / "events" / "actions-runs"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake
        assert fake.errors == []


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def act(tmp: Path, github: FakeGitHub, llm: FakeLLM | None = None, **kwargs: Any) -> ActionRun:
    run = run_action(tmp, github_url=github.url, llm_url=llm.url if llm else "", **kwargs)
    assert "Traceback" not in run.stdout + run.stderr + run.summary, run.stdout + run.stderr
    assert run.violations == []
    return run


def unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


# --- the event file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("", "is empty"),
        ("   \n\t\n", "is empty"),
        ("{nope", "is not JSON (Expecting property name enclosed in double quotes at line 1)"),
        ("\x00\x01binary", "is not JSON"),
        ("[1, 2, 3]", "holds a list, not a JSON object"),
        ('"just a string"', "holds a str, not a JSON object"),
        (json.dumps({"action": "opened"}), "The pull_request event carries no pull request number."),
        (json.dumps({"action": "opened", "pull_request": {"number": "seven"}}), "carries no pull request number"),
    ],
)
def test_a_bad_event_file_is_a_usage_error(tmp_path: Path, github: FakeGitHub, payload: str, message: str) -> None:
    run = act(tmp_path, github, payload=payload)
    assert run.code == 2, run.stdout
    assert message in run.stdout and message in run.summary and "::error::" in run.stdout
    assert github.requests == []  # nothing was asked of GitHub


def test_a_missing_event_file_names_the_path(tmp_path: Path, github: FakeGitHub) -> None:
    run = act(tmp_path, github, extra_env={"GITHUB_EVENT_PATH": str(tmp_path / "gone.json")})
    assert run.code == 2
    assert f"The event file {tmp_path / 'gone.json'} cannot be read (No such file or directory)." in run.stdout


def test_an_event_file_with_a_trailing_comma_is_read(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = act(tmp_path, github, llm, payload=json.dumps(pr_event()) + ",\n")
    assert run.code == 0, run.stdout
    assert len(llm.requests) == 1 and len(github.issue_comments) == 1


@pytest.mark.parametrize(
    "name",
    [
        "reviewdog.github_event_pull_request.json",
        "reviewdog.github_event_rerun.json",
        "reviewdog.github_event_push.json",
    ],
)
def test_real_runner_event_files_are_read(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, realdata: Path, name: str
) -> None:
    text = (EVENT_RUNS / name).read_text(encoding="utf-8")
    event = "pull_request" if "pull_request" in name else "check_suite" if "rerun" in name else "push"
    if event == "pull_request":
        number = json.loads(text.rstrip().rstrip(","))["pull_request"]["number"]
        github.add_pull(number, "Real PR", None, SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
    run = act(tmp_path, github, llm, event_name=event, payload=text)
    assert run.code == 0, run.stdout
    if event == "pull_request":
        assert len(llm.requests) == 1 and len(github.issue_comments) == 1
    else:
        assert f"does nothing on '{event}' events" in run.stdout and llm.requests == []


def test_dispatch_without_a_pull_request_names_the_input(tmp_path: Path, github: FakeGitHub) -> None:
    run = act(tmp_path, github, event_name="workflow_dispatch", payload={"inputs": {}})
    assert run.code == 2 and "set the 'pr-number' input" in run.stdout


def test_a_comment_on_a_plain_issue_is_a_notice(tmp_path: Path, github: FakeGitHub) -> None:
    payload = {
        "action": "created",
        "issue": {"number": 3},
        "comment": {"id": 1, "body": "/review", "user": {"login": "alice"}},
    }
    run = act(tmp_path, github, event_name="issue_comment", payload=payload)
    assert run.code == 0 and "not a pull request" in run.stdout


def test_a_closed_or_merged_pull_request_is_not_reviewed(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    # A merged PR reads as state "closed" in the REST API, like one closed without merging.
    github.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, state="closed")
    run = act(tmp_path, github, llm, payload=pr_event(action="synchronize"))
    assert run.code == 0
    assert "#7 is closed" in run.stdout and "#7 is closed" in run.summary
    assert llm.requests == [] and github.issue_comments == [] and github.posted_reviews == []


# --- diffs through the CLI ----------------------------------------------------------------------------------

BINARY = (
    b"diff --git a/logo.png b/logo.png\nnew file mode 100644\nindex 0000000..1c90387\n"
    b"Binary files /dev/null and b/logo.png differ\n"
)
RENAME = b"diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n"
COPY = b"diff --git a/a.py b/b.py\nsimilarity index 100%\ncopy from a.py\ncopy to b.py\n"
MODE = b"diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n"
SUBMODULE = (
    b"diff --git a/libs/core b/libs/core\nindex 1111111..2222222 160000\n--- a/libs/core\n+++ b/libs/core\n"
    b"@@ -1 +1 @@\n-Subproject commit " + b"1" * 40 + b"\n+Subproject commit " + b"2" * 40 + b"\n"
)
NO_NEWLINE = (
    b"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n\\ No newline at end of file\n"
    b"+new\n\\ No newline at end of file\n"
)
CRLF = b"diff --git a/w.txt b/w.txt\r\n--- a/w.txt\r\n+++ b/w.txt\r\n@@ -1,2 +1,2 @@\r\n-a\r\n+b\rc\r\n ctx\r\n"
NOT_UTF8 = b"diff --git a/l.txt b/l.txt\n--- a/l.txt\n+++ b/l.txt\n@@ -1 +1 @@\n-caf\xe9\n+caf\xc3\xa9 \xff\xfe\n"
ODD_NAME = 'sp ace \\"q\\" \\tt\\303\\251.py'
ODD_NAMES = (
    f'diff --git "a/{ODD_NAME}" "b/{ODD_NAME}"\n--- "a/{ODD_NAME}"\n+++ "b/{ODD_NAME}"\n@@ -1 +1 @@\n-x\n+y\n'
).encode()
DIFF_IN_DIFF = (
    b"diff --git a/t.patch b/t.patch\nnew file mode 100644\n--- /dev/null\n+++ b/t.patch\n@@ -0,0 +1,6 @@\n"
    b"+diff --git a/x b/x\n+--- a/x\n++++ b/x\n+@@ -1 +1 @@\n+-a\n++b\n"
)
LONG_LINE = b"diff --git a/min.js b/min.js\n--- a/min.js\n+++ b/min.js\n@@ -1 +1 @@\n-x\n+" + b"a" * 2_000_000 + b"\n"


def run_cli(tmp: Path, data: bytes, *extra: str) -> tuple[int, dict[str, Any], str]:
    path = tmp / "change.diff"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    original = sys.stderr
    sys.stderr = err
    try:
        code = cli.main(["review", "--diff", str(path), "--format", "json", *extra], env={}, stdout=out)
    finally:
        sys.stderr = original
    text = out.getvalue()
    return code, json.loads(text) if text.strip() else {}, err.getvalue()


@pytest.mark.parametrize(
    ("data", "skipped"),
    [
        (BINARY, [("logo.png", "binary file")]),
        (RENAME, [("new.py", "renamed without changes")]),
        (COPY, [("b.py", "no content changes")]),
        (MODE, [("run.sh", "no content changes")]),
    ],
)
def test_changes_without_content_are_listed_not_sent(
    tmp_path: Path, data: bytes, skipped: list[tuple[str, str]]
) -> None:
    code, doc, err = run_cli(tmp_path, data)
    assert (code, err) == (0, "")
    assert [(s["path"], s["reason"]) for s in doc["skipped"]] == skipped
    assert doc["prompts"] == [] and doc["complete"] is True


@pytest.mark.parametrize(
    ("data", "path", "shown"),
    [
        (SUBMODULE, "libs/core", "Subproject commit " + "2" * 40),
        (NO_NEWLINE, "a.txt", "new"),
        (CRLF, "w.txt", "b\rc"),
        (NOT_UTF8, "l.txt", "café \ufffd\ufffd"),
        (ODD_NAMES, 'sp ace "q" \ttté.py', "y"),
        (DIFF_IN_DIFF, "t.patch", "+++ b/x"),
    ],
)
def test_odd_but_valid_diffs_are_reviewed(tmp_path: Path, data: bytes, path: str, shown: str) -> None:
    code, doc, err = run_cli(tmp_path, data)
    assert (code, err) == (0, "")
    (prompt,) = doc["prompts"]
    assert shown in prompt["user"]
    assert doc["skipped"] == [] or doc["skipped"][0]["path"] == path


def test_a_diff_inside_a_diff_stays_one_file(tmp_path: Path) -> None:
    code, doc, _ = run_cli(tmp_path, DIFF_IN_DIFF)
    (prompt,) = doc["prompts"]
    assert code == 0 and prompt["user"].count("### File: ") == 1
    assert "R3 + | +++ b/x" in prompt["user"] and "R6 + | +b" in prompt["user"]


def test_an_extremely_long_line_is_counted_not_reviewed_not_fatal(tmp_path: Path) -> None:
    """A 2 MB line is not sent as 5,000 rows (issue 10: nor clipped, which hid its tail): the file is counted
    not reviewed with its reason, so the review is not complete."""
    code, doc, err = run_cli(tmp_path, LONG_LINE)
    assert (code, err) == (0, "")
    assert doc["prompts"] == [] and doc["complete"] is False
    (row,) = doc["skipped"]
    assert (row["path"], row["kind"], row["content_reason"]) == ("min.js", "not-reviewed", True)
    assert row["reason"].startswith("long lines")


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_an_empty_diff_says_so(tmp_path: Path, data: bytes) -> None:
    code, doc, err = run_cli(tmp_path, data)
    assert (code, err) == (0, "")
    assert doc["notices"] == [f"The diff is empty (--diff {tmp_path / 'change.diff'}): there is nothing to review."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello world\nthis is not a diff\n", "The input is not a unified diff: no file header"),
        (
            b"diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,5 +1,5 @@\n-old\n+new\n",
            "The diff of a.txt is malformed: hunk '@@ -1,5 +1,5 @@' ends before all the lines its header announces",
        ),
    ],
)
def test_text_that_is_not_a_diff_is_a_usage_error(tmp_path: Path, data: bytes, message: str) -> None:
    code, doc, err = run_cli(tmp_path, data)
    assert code == 2 and doc == {}
    assert err.startswith(f"qodo-review: {message}") and "git diff" in err


def test_a_missing_diff_file_is_a_usage_error(tmp_path: Path) -> None:
    out = io.StringIO()
    code = cli.main(["review", "--diff", str(tmp_path / "nope.diff")], env={}, stdout=out)
    assert code == 2


def test_real_diffs_through_the_cli(tmp_path: Path, realdata: Path) -> None:
    """Every real diff is reviewed (dry run); the samples the oracle marks malformed are refused with exit 2."""
    oracle = json.loads((realdata / "diffs" / "unidiff-samples" / "EXPECTED.oracle.json").read_text())["cases"]
    rejected = {name for name, case in oracle.items() if str(case.get("expected_outcome", "")).startswith("reject")}
    paths = sorted((realdata / "diffs").rglob("*.diff"))
    assert len(paths) > 30 and len(rejected) == 4
    for path in paths:
        code, doc, err = run_cli(tmp_path, path.read_bytes())
        if path.name in rejected and path.parent.name == "unidiff-samples":
            assert code == 2 and "is malformed: hunk" in err and "Regenerate the diff" in err, path
            continue
        assert (code, err) == (0, ""), path
        assert doc["errors"] == [], path


def big_file_diff(megabytes: int = 50) -> bytes:
    lines = megabytes * 1024 * 1024 // 52
    body = b"".join(b"+line %010d of a very large generated file here\n" % i for i in range(lines))
    header = b"diff --git a/big.txt b/big.txt\nnew file mode 100644\n--- /dev/null\n+++ b/big.txt\n"
    return header + b"@@ -0,0 +1,%d @@\n" % lines + body


def test_a_single_50_mb_file_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "big.diff"
    path.write_bytes(big_file_diff())
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["review", "--diff", str(path), "--format", "json"], env={}, stdout=out)
    assert code == 0 and "Traceback" not in err.getvalue(), err.getvalue()
    doc = json.loads(out.getvalue().split("\n\nNo API key")[0])
    (skipped,) = doc["skipped"]
    assert skipped["path"] == "big.txt" and skipped["reason"].startswith("over the max-calls budget (8 calls)")
    assert len(doc["prompts"]) == 8 and doc["complete"] is False  # its speed: bench/bench_pipeline.py


# --- diffs through the action ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [BINARY, RENAME, COPY, MODE, SUBMODULE, NO_NEWLINE, CRLF, NOT_UTF8, ODD_NAMES, DIFF_IN_DIFF, LONG_LINE, b""],
    ids=[
        "binary",
        "rename",
        "copy",
        "mode",
        "submodule",
        "no-newline",
        "crlf",
        "not-utf8",
        "odd-names",
        "diff-in-diff",
        "long-line",
        "empty",
    ],
)
def test_odd_diffs_through_the_action(tmp_path: Path, github: FakeGitHub, llm: FakeLLM, data: bytes) -> None:
    github.add_pull(7, "Odd diff", "", SHA_BASE, SHA_HEAD, data.decode("utf-8", "replace"))
    run = act(tmp_path, github, llm)
    assert run.code == 0, run.stdout
    assert run.findings is not None and run.findings["errors"] == []
    assert len(github.issue_comments) == 1 and "### Coverage" in run.summary


@pytest.mark.e2e
def test_a_single_50_mb_file_through_the_action(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(7, "Huge file", "", SHA_BASE, SHA_HEAD, big_file_diff().decode())
    run = act(tmp_path, github, llm, timeout=300)
    assert run.code == 0, run.stdout  # no gate: what did not fit is reported, not failed
    assert len(llm.requests) == 8
    summary = unescaped(run.summary)
    assert "incomplete review" in summary and "Not reviewed: over the max-calls budget (8 calls)" in summary
    assert run.outputs["complete"] == "false"


@pytest.mark.e2e
def test_a_50_mb_file_fails_a_gate_as_incomplete(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(7, "Huge file", "", SHA_BASE, SHA_HEAD, big_file_diff(megabytes=5).decode())
    run = act(tmp_path, github, llm, inputs={"fail-on": "critical"}, timeout=300)
    assert run.code == 1 and run.outputs["verdict"] == "fail"


# --- the configuration file ---------------------------------------------------------------------------------------

SOURCE = ".qodo.yml (base branch)"
BOMB = (
    "max-calls: [&a [x, x, x, x, x, x, x, x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a], "
    "&c [*b, *b, *b, *b, *b, *b, *b, *b, *b], &d [*c, *c, *c, *c, *c, *c, *c, *c, *c], "
    "&e [*d, *d, *d, *d, *d, *d, *d, *d, *d], &f [*e, *e, *e, *e, *e, *e, *e, *e, *e], "
    "&g [*f, *f, *f, *f, *f, *f, *f, *f, *f], &h [*g, *g, *g, *g, *g, *g, *g, *g, *g], "
    "&i [*h, *h, *h, *h, *h, *h, *h, *h, *h]]\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "fail-on: [high\n",
            f"{SOURCE} is not valid YAML at line 2: expected ',' or ']', but got '<stream end>'. "
            "Fix the syntax or delete the file to use the defaults.",
        ),
        ("\x00\x01", f"{SOURCE} is not valid YAML: unacceptable character #x0000"),
        ("- inline\n- comment\n", f"{SOURCE} must be a mapping of keys to values (like 'fail-on: high'), not a list."),
        ("just words", f"{SOURCE} must be a mapping of keys to values (like 'fail-on: high'), not a str."),
        (
            "fail_on: high\n",
            f"{SOURCE}: unknown key 'fail_on'; did you mean 'fail-on'? Known keys: allow-partial, allow-secrets,",
        ),
        ("colour: red\n", f"{SOURCE}: unknown key 'colour'. Known keys: allow-partial, allow-secrets, auto-review,"),
        ("max-calls: many\n", f"{SOURCE}: 'max-calls' must be a whole number (got 'many')."),
        ("max-calls: true\n", f"{SOURCE}: 'max-calls' must be a whole number (got 'True')."),
        ("max-calls: 100000\n", f"{SOURCE}: 'max-calls' must be between 1 and 200 (got '100000')."),
        ("ignore: {a: 1}\n", f"{SOURCE}: 'ignore' must be a list of strings (got \"{{'a': 1}}\")."),
        ("fail-on: sometimes\n", f"{SOURCE}: 'fail-on' must be one of none, critical, high, medium, low, info"),
        ("base-url: https://evil.example\n", f"{SOURCE}: key 'base-url' is not allowed here. Where code is sent"),
        ("instructions: '" + "x" * 70_000 + "'\n", f"{SOURCE} is larger than 64 KB; a review config is a few lines."),
        (
            "model: !!python/object/apply:os.system ['echo pwned']\n",
            f"{SOURCE} at line 1 uses the YAML tag !!python/object/apply:os.system, which a review config may not use",
        ),
        ("!!python/object:builtins.dict {}\n", f"{SOURCE} at line 1 uses the YAML tag !!python/object:builtins.dict"),
        (BOMB, f"{SOURCE} at line 1: aliases (*name) are not allowed in a review config"),
        ("ignore: &x [a]\nlabels: *x\n", f"{SOURCE} at line 2: aliases (*name) are not allowed"),
        ("fail-on: high\nfail-on: low\n", f"{SOURCE} at line 2: key 'fail-on' appears twice; keep one."),
        ("ignore: " + "[" * 5000 + "]" * 5000 + "\n", f"{SOURCE} nests too deeply to be a review config."),
    ],
)
def test_a_bad_config_names_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:  # bombs are refused, not expanded (bench/ has the speed)
        parse_config_text(text, SOURCE)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.exit_code == 2


def test_a_bad_config_through_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "review.yml"
    config.write_text(BOMB, encoding="utf-8")
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    err = io.StringIO()
    original, sys.stderr = sys.stderr, err
    try:
        code = cli.main(["review", "--diff", str(diff), "--config", str(config)], env={}, stdout=io.StringIO())
    finally:
        sys.stderr = original
    assert code == 2 and err.getvalue().startswith(f"qodo-review: {config} at line 1: aliases")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "model: !!python/object/apply:os.system ['echo pwned']\n",
            "uses the YAML tag !!python/object/apply:os.system",
        ),
        (BOMB, "aliases (*name) are not allowed"),
        ("[1, 2]\n", "must be a mapping of keys to values"),
    ],
)
def test_a_bad_config_through_the_action(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, text: str, message: str
) -> None:
    github.set_file(".qodo.yml", SHA_BASE, text)
    run = act(tmp_path, github, llm)
    assert run.code == 2 and message in run.stdout and message in unescaped(run.summary)
    assert llm.requests == []


def test_a_dry_runs_json_survives_keyword_dense_code(tmp_path: Path) -> None:
    """Serialised, a dry run's prompt is one JSON line holding the whole diff; redacted as text, that line was
    over the redactor's keyword density and withheld whole, leaving invalid JSON. Strings are redacted first."""
    lines = [f"+    session_{i} = load_token(settings, refresh=True)  # row {i}" for i in range(200)]
    diff = "diff --git a/auth.py b/auth.py\n--- a/auth.py\n+++ b/auth.py\n@@ -0,0 +1,200 @@\n" + "\n".join(lines) + "\n"
    code, doc, err = run_cli(tmp_path, diff.encode(), "--dry-run")
    assert (code, err) == (0, "")
    assert "load_token(settings, refresh=True)  # row 199" in doc["prompts"][0]["user"]
