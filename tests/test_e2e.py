"""End to end: entrypoint.py as GitHub runs it, against a fake GitHub and a fake provider on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")

ANSWER = {
    "summary": "Adds user search and an average helper.",
    "findings": [
        {
            "path": "app/users.py",
            "line": 12,
            "end_line": 12,
            "side": "RIGHT",
            "severity": "critical",
            "category": "security",
            "title": "SQL injection in find_users",
            "body": "The name is interpolated into SQL.",
            "suggestion": (
                '    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()'
            ),
        },
        {
            "path": "app/users.py",
            "line": 16,
            "end_line": 16,
            "side": "RIGHT",
            "severity": "medium",
            "category": "bug",
            "title": "Division by zero on empty list",
            "body": "len(ages) may be 0.",
        },
        {
            "path": "app/users.py",
            "line": 3,
            "end_line": 3,
            "side": "RIGHT",
            "severity": "low",
            "category": "maintainability",
            "title": "Module docstring is vague",
            "body": "Say what it owns.",
        },
    ],
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def test_pull_request_review_end_to_end(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "fail-on: high\ninstructions: Watch for SQL injection.\n")
    llm.enqueue(json=chat_completion(json.dumps(ANSWER), prompt_tokens=1200, completion_tokens=300))
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)

    assert run.violations == []
    assert run.code == 1, run.stdout + run.stderr  # fail-on: high met by the critical finding
    assert "Traceback" not in run.stderr + run.stdout

    # the provider got one request, redacted and fenced, with the repo's instructions
    (request,) = llm.requests
    body = request.json
    assert body["store"] is False and body["model"] == "gpt-4.1"
    assert "Watch for SQL injection." in body["messages"][0]["content"]
    user = body["messages"][1]["content"]
    assert "R12 + |" in user and "Add user search" in user and "<<<DATA-" in user

    # one review with the two findings on changed lines; the third is outside the diff
    (review,) = github.posted_reviews
    assert review["state"] == "COMMENTED"
    assert sorted((c["path"], c["line"]) for c in review["comments"]) == [("app/users.py", 12), ("app/users.py", 16)]
    sql = next(c for c in review["comments"] if c["line"] == 12)
    assert "```suggestion" in sql["body"] and "<!-- qodo-review:fp=" in sql["body"]

    # one summary comment, carrying the finding that could not be placed inline
    (comment,) = github.issue_comments
    assert comment["body"].startswith("<!-- qodo-review:summary -->")
    assert "Module docstring is vague" in comment["body"] and "Findings outside the diff" in comment["body"]

    # the check run: created in progress, completed as failure with annotations
    (check,) = github.check_runs
    assert check["name"] == "qodo-review" and check["head_sha"] == SHA_HEAD
    assert check["conclusion"] == "failure" and len(check["annotations"]) == 2

    # job summary, outputs, findings file
    assert "What left the runner" in run.summary and "api" not in run.summary.split("Sent")[0][-5:]
    assert "127.0.0.1" in run.summary and "app/users.py" in run.summary
    assert run.outputs["verdict"] == "fail" and run.outputs["findings"] == "3"
    assert run.outputs["max_severity"] == "critical"
    assert (run.outputs["tokens_in"], run.outputs["tokens_out"]) == ("1200", "300")
    assert run.findings is not None and len(run.findings["findings"]) == 3
    assert [n["reason"] for n in run.findings["not_inline"]] == ["line 3 is not part of the diff"]


def test_second_run_edits_summary_and_posts_no_duplicates(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    for _ in range(2):
        llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
    first = run_action(tmp_path / "1", github_url=github.url, llm_url=llm.url)
    second = run_action(tmp_path / "2", github_url=github.url, llm_url=llm.url)
    assert (first.code, second.code) == (0, 0), second.stdout
    assert len(github.issue_comments) == 1
    assert len(github.posted_reviews) == 1  # the second run found nothing new to post
    # same head: nothing changed since the last complete review, so the model is not asked again
    assert "Incremental: reviewed 0 files changed since" in second.stdout and len(llm.requests) == 1


def test_key_never_leaks_and_is_masked(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    key = "sk-test-key-0123456789abcdef"
    llm.enqueue(
        status=401,
        json={
            "error": {
                "message": f"Incorrect API key provided: {key}",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
    )
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 2
    assert f"::add-mask::{key}" in run.stdout
    assert key not in run.stdout.replace(f"::add-mask::{key}", "") + run.stderr + run.summary
    assert "api-key" in run.stdout
    for req in github.requests:
        assert key not in json.dumps(req.json or {})


def test_dry_run_posts_nothing_and_calls_no_provider(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"dry-run": "true"})
    assert run.code == 0, run.stdout + run.stderr
    assert llm.requests == []
    assert github.posted_reviews == [] and github.issue_comments == [] and github.check_runs == []
    assert "----- call 1: user -----" in run.stdout and "find_users" in run.stdout
    assert "Would be sent" in run.summary


def test_unsupported_event_is_a_notice(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github_url=github.url, event_name="push", payload={"ref": "refs/heads/main"})
    assert run.code == 0 and "does nothing on 'push'" in run.stdout
    assert github.requests == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [("", "is empty"), ("{nope", "is not JSON"), (json.dumps({"action": "opened"}), "no pull request number")],
)
def test_bad_event_file(tmp_path: Path, github: FakeGitHub, payload: str, message: str) -> None:
    run = run_action(tmp_path, github_url=github.url, payload=payload)
    assert run.code == 2 and message in run.stdout and "Traceback" not in run.stdout + run.stderr
    assert "::error::" in run.stdout and message in run.summary


def test_invalid_config_names_key_and_file(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "fail-on: sometimes\n")
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 2 and ".qodo.yml (base branch): 'fail-on' must be one of" in run.stdout
    assert llm.requests == []


def test_config_from_pr_head_is_ignored(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_HEAD, "base-url: https://evil.example\nignore: ['**']\n")
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 0 and len(llm.requests) == 1 and run.violations == []
    assert all("ref=" + SHA_HEAD not in r.query for r in github.requests if "contents" in r.path)


def test_missing_key_is_a_usage_error(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github_url=github.url, inputs={"api-key": ""})
    assert run.code == 2 and "Input 'api-key' is empty" in run.stdout


def test_provider_failure_is_incomplete_and_never_passes(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    for _ in range(4):  # retry.py tries 4 times; retry-after-ms keeps the waits short
        llm.enqueue(
            status=500,
            json={"error": {"message": "boom", "type": "server_error", "param": None, "code": None}},
            headers={"retry-after-ms": "10"},
        )
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"})
    assert run.code == 3, run.stdout
    assert run.outputs["verdict"] == "fail" and "incomplete" in run.summary.lower()
    (check,) = github.check_runs
    assert check["conclusion"] == "failure"


def test_unparseable_answer_is_reported(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    for _ in range(2):  # asked once more, then the part fails
        llm.enqueue(json=chat_completion("I think the code is fine, no JSON for you."))
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 3 and "no JSON object" in run.summary


def test_dispatch_reviews_the_given_pr(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        event_name="workflow_dispatch",
        payload={"inputs": {}},
        inputs={"pr-number": "7"},
    )
    assert run.code == 0, run.stdout + run.stderr
    assert len(llm.requests) == 1 and len(github.issue_comments) == 1
    assert pr_event()["number"] == 7
