"""The CLI as a developer uses it (issue 13), in process through ``cli.main(argv, env, stdin, stdout, stderr=)``: the
rendered terminal output (exact snapshots, without and with colour), Markdown when piped, JSON and SARIF; the
git sources (--uncommitted, --staged); a GitHub pull request (--pr) against the fake GitHub; progress and errors on
stderr only; per-command options, help and examples; internal errors exit 3, never 1."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from e2e import SHA_BASE, SHA_HEAD
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review import cli
from qodo_review.errors import UsageError
from qodo_review.sources import PullRef, parse_pull_ref

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample.diff"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text("utf-8"))
KEY = "sk-test-cli-0123456789abcdef"
GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0" * 2  # looks like a personal access token
ANSWER = {
    "summary": "Adds user search and an average helper; the search builds SQL from user input.",
    "findings": [
        {
            "path": "app/users.py",
            "line": 12,
            "end_line": 12,
            "side": "RIGHT",
            "severity": "critical",
            "category": "security",
            "title": "SQL injection in find_users",
            "body": 'The name is interpolated into the SQL string: `name = "%\' OR 1=1 --"` returns every user.',
            "suggestion": (
                '    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()'
            ),
        },
        {
            "path": "app/users.py",
            "line": 17,
            "end_line": 17,
            "side": "RIGHT",
            "severity": "medium",
            "category": "bug",
            "title": "Division by zero on an empty list",
            "body": "`len(ages)` is 0 for an empty list; return 0.0 or raise a clear error.",
        },
    ],
}


class Tty(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def run(
    argv: list[str],
    env: dict[str, str] | None = None,
    *,
    stdout: io.StringIO | None = None,
    stderr: io.StringIO | None = None,
    stdin: str = "",
) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), stderr or io.StringIO()
    code = cli.main(argv, env=env if env is not None else {}, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def with_model(llm: FakeLLM, answer: dict[str, Any] = ANSWER) -> list[str]:
    llm.enqueue(json=chat_completion(json.dumps(answer), prompt_tokens=1200, completion_tokens=300))
    return ["--provider", "openai", "--base-url", f"{llm.url}/v1"]


def snapshot(name: str, text: str) -> None:
    """Exact comparison with tests/snapshots/NAME (QODO_UPDATE_SNAPSHOTS=1 rewrites it; review it by eye). The
    fake model's port is the one thing that changes between runs."""
    text = re.sub(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:PORT", text)
    path = SNAPSHOTS / name
    if os.environ.get("QODO_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- the terminal outputs -------------------------------------------------------------------------------------


def test_the_rendered_review_on_a_terminal_is_exactly_the_snapshot(llm: FakeLLM) -> None:
    argv = ["review", "--diff", str(SAMPLE), "--fail-on", "high", *with_model(llm)]
    code, out, err = run(argv, {"OPENAI_API_KEY": KEY, "COLUMNS": "100", "NO_COLOR": "1"}, stdout=Tty())
    assert code == 1, err  # the gate: a critical finding
    assert "\x1b[" not in out and "**" not in out and "\\" not in out  # rendered, not Markdown, no escapes
    snapshot("cli_review_pretty.txt", out)


def test_the_rendered_review_with_colours_is_exactly_the_snapshot(llm: FakeLLM) -> None:
    argv = ["review", "--diff", str(SAMPLE), "--format", "pretty", *with_model(llm)]
    code, out, _ = run(argv, {"OPENAI_API_KEY": KEY, "COLUMNS": "100", "FORCE_COLOR": "1"})
    assert code == 0
    assert "\x1b[1;31m" in out  # the critical finding in bold red
    snapshot("cli_review_pretty_color.txt", out)


def test_no_color_turns_the_colours_off_on_a_terminal(llm: FakeLLM) -> None:
    code, out, _ = run(
        ["review", "--diff", str(SAMPLE), *with_model(llm)],
        {"OPENAI_API_KEY": KEY, "COLUMNS": "100", "NO_COLOR": "1"},
        stdout=Tty(),
    )
    assert code == 0 and "SQL injection" in out and "\x1b[" not in out


def test_piped_output_is_markdown(llm: FakeLLM) -> None:
    code, out, err = run(["review", "--diff", str(SAMPLE), *with_model(llm)], {"OPENAI_API_KEY": KEY})
    assert code == 0 and err == ""
    assert out.startswith("## qodo-review\n") and "### All findings" in out


def test_format_markdown_on_a_terminal_is_markdown(llm: FakeLLM) -> None:
    argv = ["review", "--diff", str(SAMPLE), "--format", "markdown", *with_model(llm)]
    code, out, _ = run(argv, {"OPENAI_API_KEY": KEY}, stdout=Tty())
    assert code == 0 and out.startswith("## qodo-review\n")


def test_a_rendered_dry_run_never_says_pass() -> None:
    code, out, _ = run(["review", "--diff", str(SAMPLE), "--format", "pretty"], {"COLUMNS": "100"})
    assert code == 0
    assert "not reviewed (dry run)" in out and "✔" not in out and "pass ·" not in out
    assert "No API key is set" in out


def test_model_text_cannot_drive_the_terminal(llm: FakeLLM) -> None:
    hostile = {
        "summary": "fine \x1b]0;pwned\x07 \x1b[2J",
        "findings": [
            {
                **ANSWER["findings"][1],
                "title": "[bold red]x[/] \x1b[31mred \u202eevil",
                "body": "\x1b[1A up, see [the docs](https://evil.example/login)",
            }
        ],
    }
    code, out, _ = run(
        ["review", "--diff", str(SAMPLE), "--format", "pretty", *with_model(llm, hostile)],
        {"OPENAI_API_KEY": KEY, "FORCE_COLOR": "1"},
    )
    assert code == 0
    assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x1b[1A" not in out and "\u202e" not in out
    assert "[bold red]x[/]" in out  # shown as text, not taken as markup
    assert "\x1b]8;" not in out and "https://evil.example/login" in out  # no hyperlink hides the address


def test_a_tool_is_rendered_too(llm: FakeLLM) -> None:
    llm.enqueue(
        json=chat_completion(
            json.dumps({"answer": "It is **not** invalidated.", "citations": [{"path": "app/users.py", "line": 12}]})
        )
    )
    argv = ["ask", "--diff", str(SAMPLE), "--question", "Is it cached?", "--provider", "openai"]
    code, out, err = run([*argv, "--base-url", f"{llm.url}/v1", "--format", "pretty"], {"OPENAI_API_KEY": KEY})
    assert code == 0, err
    assert "It is not invalidated." in out and "**" not in out


def test_sarif_on_stdout_is_valid_sarif(llm: FakeLLM) -> None:
    code, out, _ = run(
        ["review", "--diff", str(SAMPLE), "--format", "sarif", *with_model(llm)], {"OPENAI_API_KEY": KEY}
    )
    assert code == 0
    doc = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["qodo-review/security", "qodo-review/bug"]


def test_the_tools_take_no_sarif_and_no_gate() -> None:
    code, out, err = run(["describe", "--diff", str(SAMPLE), "--format", "sarif"])
    assert code == 2 and out == ""
    assert "invalid choice: 'sarif' (choose from 'pretty', 'markdown', 'json')" in err
    code, out, err = run(["describe", "--diff", str(SAMPLE), "--fail-on", "high"])
    assert code == 2 and out == ""
    assert (
        "qodo-review describe: error: unrecognized arguments: --fail-on high (--fail-on is an option of: review)" in err
    )


# --- progress, errors, exit codes --------------------------------------------------------------------------------


def test_progress_goes_to_a_terminals_stderr_and_is_erased(llm: FakeLLM) -> None:
    err = Tty()
    code, out, progress = run(["review", "--diff", str(SAMPLE), *with_model(llm)], {"OPENAI_API_KEY": KEY}, stderr=err)
    assert code == 0 and "SQL injection" in out
    assert "qodo-review: 2 files read" in progress
    assert "calls 0/1" in progress and "calls 1/1 · tokens 1,200 in / 300 out" in progress
    assert progress.endswith("\r\x1b[K")  # the line is erased before the results


def test_no_progress_when_stderr_is_not_a_terminal(llm: FakeLLM) -> None:
    code, _, err = run(["review", "--diff", str(SAMPLE), *with_model(llm)], {"OPENAI_API_KEY": KEY})
    assert code == 0 and err == ""


def test_wrong_values_name_the_valid_ones_in_the_clis_words() -> None:
    code, out, err = run(["review", "--diff", str(SAMPLE), "--provider", "gemini"])
    assert code == 2 and out == ""
    assert "argument --provider: invalid choice: 'gemini' (choose from 'auto', 'openai', 'anthropic'" in err
    code, _, err = run(["review", "--diff", str(SAMPLE), "--fail-on", "severe"])
    assert code == 2 and "(choose from '', 'none', 'critical', 'high', 'medium', 'low')" in err
    code, _, err = run(["review", "--diff", str(SAMPLE), "--base-url", "ftp://llm.internal"])
    assert code == 2 and "Input" not in err
    assert (
        err == "qodo-review: --base-url is 'ftp://llm.internal': it must be an http(s) URL such as https://host/v1.\n"
    )
    code, _, err = run(["review", "--diff", str(SAMPLE), "--provider", "openai-compatible"])
    assert code == 2 and "--provider is openai-compatible but --base-url is empty" in err
    code, _, err = run(["review", "--diff", str(SAMPLE), "--max-calls", "many"])
    assert code == 2 and err == "qodo-review: --max-calls must be a whole number (got 'many').\n"
    code, _, err = run(["review", "--diff", str(SAMPLE), "--fallback-api-key", "sk-fallback-0123456789"])
    assert code == 2 and "(--fallback-model gpt-4.1-mini)" in err and "with:" not in err


def test_an_internal_error_exits_3_with_a_redacted_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    """The boundary itself: whatever raises inside (here a stand-in for a bug), the exit is 3, never 1."""

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"bug while holding {KEY}")

    monkeypatch.setattr(cli, "review_diff", broken)
    code, out, err = run(["review", "--diff", str(SAMPLE), "--dry-run"], {"OPENAI_API_KEY": KEY})
    assert code == 3 and out == ""
    assert err.startswith("qodo-review: internal error (RuntimeError); the review did not complete.")
    assert "Traceback (most recent call last)" in err and KEY not in err and "bug while holding" in err


def test_errors_go_to_stderr_and_results_to_stdout(tmp_path: Path) -> None:
    code, out, err = run(["review", "--diff", str(tmp_path / "missing.diff")])
    assert (code, out) == (2, "")
    assert (
        err
        == "qodo-review: --diff " + str(tmp_path / "missing.diff") + ": cannot read it (No such file or directory).\n"
    )


# --- help -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["help", "review"], ["review", "--help"]])
def test_subcommand_help_shows_examples(argv: list[str]) -> None:
    code, out, err = run(argv)
    assert code == 0 and err == ""
    assert out.startswith("usage: qodo-review review")
    assert "examples:\n  qodo-review review --uncommitted" in out
    assert "qodo-review review --pr OWNER/REPO#42" in out
    assert "--question" not in out  # ask's option is not review's


def test_help_is_a_subcommand() -> None:
    code, out, _ = run(["help"])
    assert code == 0 and out.startswith("usage: qodo-review [-h] [--version] COMMAND ...")
    assert "`qodo-review help COMMAND`" in out and "GH_TOKEN, GITHUB_TOKEN" in out
    code, out, _ = run(["help", "ask"])
    assert code == 0 and "--question QUESTION" in out and "--fail-on" not in out
    code, _, err = run(["help", "deploy"])
    assert code == 2 and "invalid choice: 'deploy'" in err


# --- git sources ------------------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(repo), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with one commit, a staged change to a.py and an unstaged one to b.py."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "a.py").write_text("A = 1\n", encoding="utf-8")
    (repo / "b.py").write_text("B = 1\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    (repo / "a.py").write_text("A = 2\n", encoding="utf-8")
    git(repo, "add", "a.py")
    (repo / "b.py").write_text("B = 2\n", encoding="utf-8")
    monkeypatch.chdir(repo)
    return repo


def sent_files(out: str) -> set[str]:
    doc = json.loads(out)
    user = "\n".join(p["user"] for p in doc["prompts"])
    return {name for name in ("a.py", "b.py") if f"{name}" in user}


def test_uncommitted_reviews_the_working_tree_and_the_index_against_head(repo: Path) -> None:
    code, out, err = run(["review", "--uncommitted", "--format", "json"])
    assert code == 0, err
    assert sent_files(out) == {"a.py", "b.py"}


def test_staged_reviews_only_the_index(repo: Path) -> None:
    code, out, err = run(["review", "--staged", "--format", "json"])
    assert code == 0, err
    assert sent_files(out) == {"a.py"}


def test_the_repositorys_git_config_runs_nothing(repo: Path, tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {mark}\n", encoding="utf-8")
    script.chmod(0o755)
    git(repo, "config", "diff.external", str(script))
    git(repo, "config", "core.pager", str(script))
    git(repo, "config", "core.fsmonitor", str(script))
    git(repo, "config", "diff.noprefix", "true")
    code, out, err = run(["review", "--uncommitted", "--format", "json"])
    assert code == 0, err
    assert not mark.exists() and sent_files(out) == {"a.py", "b.py"}


def test_nothing_staged_says_so(repo: Path) -> None:
    git(repo, "reset", "-q")
    code, out, _ = run(["review", "--staged", "--format", "json"])
    assert code == 0
    assert "The diff is empty (the staged changes (git diff --cached HEAD))" in json.loads(out)["notices"][0]


def test_outside_a_repository_the_message_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["review", "--uncommitted"], {"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert code == 2 and out == ""
    assert err.startswith("qodo-review: --uncommitted: git diff failed (") and "inside a git repository" in err


# --- a pull request on GitHub ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("https://github.com/octo/hello-world/pull/42", PullRef("github.com", "octo/hello-world", 42)),
        ("https://github.com/octo/hello.world/pull/42/files#diff-1", PullRef("github.com", "octo/hello.world", 42)),
        ("github.com/octo/repo/pull/7", PullRef("github.com", "octo/repo", 7)),
        ("octo/repo#7", PullRef("github.com", "octo/repo", 7)),
        ("https://ghe.example.com/team/app/pull/3", PullRef("ghe.example.com", "team/app", 3)),
    ],
)
def test_pull_request_references(text: str, ref: PullRef) -> None:
    assert parse_pull_ref(text) == ref


@pytest.mark.parametrize(
    "text", ["42", "octo/repo", "http://github.com/o/r/pull/1", "https://github.com/o/r/issues/1", "o/r#0", "o/r#x"]
)
def test_what_is_not_a_pull_request_says_both_forms(text: str) -> None:
    with pytest.raises(UsageError, match=re.escape("give https://github.com/OWNER/REPO/pull/N or OWNER/REPO#N")):
        parse_pull_ref(text)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GH_TOKEN, repo="octo/app") as fake:
        fake.add_pull(42, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE.read_text("utf-8"))
        fake.set_file(".qodo.yml", SHA_BASE, "fail-on: high\n")
        yield fake


def test_review_a_pull_request_prints_and_posts_nothing(github: FakeGitHub, llm: FakeLLM) -> None:
    env = {"GH_TOKEN": GH_TOKEN, "GITHUB_API_URL": github.url, "OPENAI_API_KEY": KEY}
    argv = ["review", "--pr", "https://github.com/octo/app/pull/42", "--format", "json", *with_model(llm)]
    code, out, err = run(argv, env)
    assert code == 1, err  # the base branch's .qodo.yml set fail-on: high; the critical finding meets it
    doc = json.loads(out)
    assert [f["title"] for f in doc["findings"]] == ["SQL injection in find_users", "Division by zero on an empty list"]
    assert "Add user search" in llm.requests[0].json["messages"][1]["content"]  # the PR's title reached the model
    assert {r.method for r in github.requests} == {"GET"}  # read only: nothing posted, edited or reacted to
    assert all(r.headers.get("authorization") == f"Bearer {GH_TOKEN}" for r in github.requests)
    assert GH_TOKEN not in out + err and github.errors == []


def test_a_pull_request_by_its_short_name_with_the_token_from_gh(
    github: FakeGitHub, llm: FakeLLM, tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(f'#!/bin/sh\n[ "$*" = "auth token --hostname github.com" ] && echo {GH_TOKEN}\n')
    (bin_dir / "gh").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_API_URL": github.url, "OPENAI_API_KEY": KEY}
    code, out, err = run(["review", "--pr", "octo/app#42", "--format", "pretty", *with_model(llm)], env)
    assert code == 1, err
    assert "SQL injection in find_users" in out and GH_TOKEN not in out


def test_without_a_github_token_the_message_says_how_to_get_one(github: FakeGitHub) -> None:
    code, out, err = run(["review", "--pr", "octo/app#42"], {"PATH": "/nonexistent", "GITHUB_API_URL": github.url})
    assert code == 2 and out == ""
    assert "set GH_TOKEN (or GITHUB_TOKEN), or log in with `gh auth login`" in err


def test_a_pull_request_that_is_not_there_is_a_usage_error(github: FakeGitHub) -> None:
    env = {"GH_TOKEN": GH_TOKEN, "GITHUB_API_URL": github.url}
    code, out, err = run(["review", "--pr", "octo/app#9"], env)
    assert code == 2 and out == ""
    assert err.startswith(f"qodo-review: --pr octo/app#9: not found at {github.url} (HTTP 404).")


def test_describe_a_pull_request_writes_nothing_on_it(github: FakeGitHub) -> None:
    env = {"GH_TOKEN": GH_TOKEN, "GITHUB_API_URL": github.url}
    code, out, err = run(["describe", "--pr", "octo/app#42", "--format", "json", "--dry-run"], env)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["command"] == "describe" and doc["dry_run"] is True
    assert "Add user search" in doc["prompts"][0]["user"]  # the PR's title, read from GitHub
    assert {r.method for r in github.requests} == {"GET"} and github.body_updates == []


def test_the_configs_allow_secrets_applies_in_the_cli(tmp_path: Path) -> None:
    """A known public test value listed in allow-secrets is sent as is (the action does the same); any other
    secret of the same kind is still replaced."""
    public, other = "AKIAIOSFODNN7EXAMPLE", "AKIAZ7QX3RT5UV2WY4BC"
    diff = tmp_path / "d.diff"
    diff.write_text(
        "diff --git a/c.py b/c.py\n--- a/c.py\n+++ b/c.py\n@@ -1 +1,2 @@\n-x = 1\n"
        f"+EXAMPLE_KEY = '{public}'\n+REAL_KEY = '{other}'\n",
        encoding="utf-8",
    )
    config = tmp_path / "q.yml"
    config.write_text(f"allow-secrets: ['{public}']\n", encoding="utf-8")
    out = io.StringIO()
    code = cli.main(
        ["review", "--diff", str(diff), "--config", str(config), "--dry-run", "--format", "json"], env={}, stdout=out
    )
    assert code == 0
    (prompt,) = json.loads(out.getvalue())["prompts"]
    assert public in prompt["user"] and other not in prompt["user"]
