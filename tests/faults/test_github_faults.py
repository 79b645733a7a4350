"""GitHub faults end to end: entrypoint.py against a FakeGitHub told to fail, in sequence, in the ways the
real API does; each test asserts what was retried, what was posted (once), the job summary and the exit code."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, TOKEN, ActionRun, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, Reply, Request, chat_completion

from qodo_review.channels import CREATE_ATTEMPTS

from .conftest import ActThenFail

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
ON_LINE_12 = {
    "path": "app/users.py",
    "line": 12,
    "end_line": 12,
    "side": "RIGHT",
    "severity": "high",
    "category": "security",
    "title": "SQL injection in find_users",
    "body": "Use a parameter.",
}
ON_LINE_16 = {
    "path": "app/users.py",
    "line": 16,
    "end_line": 16,
    "side": "RIGHT",
    "severity": "medium",
    "category": "bug",
    "title": "Division by zero",
    "body": "len(ages) may be 0.",
}
NOT_IN_DIFF = {
    "path": "app/users.py",
    "line": 2,
    "end_line": 2,
    "side": "RIGHT",
    "severity": "low",
    "category": "docs",
    "title": "Vague docstring",
    "body": "Say what it owns.",
}
PERMISSION = {
    "message": "Resource not accessible by integration",
    "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake
        assert fake.errors == []  # the fake itself never crashed


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def answer(*findings: dict[str, Any]) -> dict[str, Any]:
    return chat_completion(json.dumps({"summary": "Adds user search.", "findings": list(findings)}))


def act(tmp: Path, github: FakeGitHub | str, llm: FakeLLM, **kwargs: Any) -> ActionRun:
    url = github if isinstance(github, str) else github.url
    run = run_action(tmp, github_url=url, llm_url=llm.url, **kwargs)
    assert run.violations == [] and "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run


def unescaped(markdown: str) -> str:
    """Markdown with plain()'s backslash escapes removed, to look for the words a reader sees."""
    return re.sub(r"\\(.)", r"\1", markdown)


def bodies(github: FakeGitHub) -> list[str]:
    return [c["body"] for r in github.posted_reviews for c in r["comments"]]


# --- retried, and posted once ----------------------------------------------------------------------


def test_5xx_twice_then_success_posts_each_thing_once(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(ON_LINE_12, NOT_IN_DIFF))
    github.fail("POST", r"/pulls/7/reviews$", 502, times=2)
    github.fail("POST", r"/issues/7/comments$", 503, times=2)
    github.fail("GET", r"/pulls/7$", 500, times=2)

    run = act(tmp_path, github, llm)

    assert run.code == 0, run.stdout
    assert len(github.find("POST", r"/pulls/7/reviews$")) == 3
    assert len(github.find("POST", r"/issues/7/comments$")) == 3
    assert len(github.posted_reviews) == 1 and len(bodies(github)) == 1
    assert len(github.issue_comments) == 1 and "Vague docstring" in github.issue_comments[0]["body"]


def test_a_secondary_rate_limit_waits_for_retry_after(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(ON_LINE_12))
    github.fail(
        "POST",
        r"/issues/7/comments$",
        403,
        times=1,
        headers={"Retry-After": "2"},
        body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes."},
    )

    run = act(tmp_path, github, llm)

    assert run.code == 0 and len(github.issue_comments) == 1
    assert len(github.find("POST", r"/issues/7/comments$")) == 2
    assert max(run.waits) >= 2.0  # Retry-After honoured (on the injected clock; real time below)


def test_a_provider_retry_after_is_waited_for_end_to_end(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(
        429,
        json={
            "error": {
                "message": "Rate limit reached",
                "type": "rate_limit_error",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        },
        headers={"Retry-After": "1"},
    )
    llm.enqueue(json=answer(ON_LINE_12))

    started = time.monotonic()
    run = act(tmp_path, github, llm, subprocess=True)  # the one run on the real clock: the wait really happens

    assert run.code == 0, run.stdout
    assert len(llm.requests) == 2 and time.monotonic() - started >= 1.0
    assert "retried 1 time after rate limits or provider errors (1 s waited in all)" in unescaped(run.summary)
    assert len(github.posted_reviews) == 1


def test_a_502_after_github_acted_posts_nothing_twice(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """The gateway fails *after* GitHub created the comment and the review: a blind resend would duplicate."""
    llm.enqueue(json=answer(ON_LINE_12, NOT_IN_DIFF))
    llm.enqueue(json=answer(ON_LINE_12, NOT_IN_DIFF))
    with ActThenFail(github.url, "POST", r"/issues/7/comments$") as comments:
        first = act(tmp_path / "1", comments.url, llm)
        assert comments.hits == ["POST /repos/owner/repo/issues/7/comments"]
    with ActThenFail(github.url, "POST", r"/pulls/7/reviews$") as reviews:
        second = act(
            tmp_path / "2", reviews.url, llm, inputs={"command": "review"}, payload=pr_event(action="synchronize")
        )
        assert reviews.hits == []  # the first run's review is there: nothing new to post

    assert len(github.issue_comments) == 1, [c["id"] for c in github.issue_comments]
    assert len(github.posted_reviews) == 1 and len(bodies(github)) == 1
    assert (first.code, second.code) == (0, 0)


def test_a_502_after_github_created_the_review_is_not_resent(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(ON_LINE_12, ON_LINE_16))
    with ActThenFail(github.url, "POST", r"/pulls/7/reviews$") as proxy:
        run = act(tmp_path, proxy.url, llm)
        assert len(proxy.hits) == 1
    assert len(github.posted_reviews) == 1 and len(bodies(github)) == 2
    assert run.code == 0


def test_a_re_run_after_faults_edits_the_summary_and_posts_no_duplicates(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=answer(ON_LINE_12))
    github.fail("POST", r"/pulls/7/reviews$", 500, times=CREATE_ATTEMPTS)  # the first run cannot post it at all
    first = act(tmp_path / "1", github, llm)
    assert github.posted_reviews == [] and len(github.issue_comments) == 1
    assert "SQL injection in find_users" in unescaped(github.issue_comments[0]["body"])  # never lost
    assert "inline: failed" in first.summary

    llm.enqueue(json=answer(ON_LINE_12))
    second = act(
        tmp_path / "2", github, llm, event_name="workflow_dispatch", payload={"inputs": {}}, inputs={"pr-number": "7"}
    )
    third = act(
        tmp_path / "3", github, llm, event_name="workflow_dispatch", payload={"inputs": {}}, inputs={"pr-number": "7"}
    )

    assert (first.code, second.code, third.code) == (0, 0, 0), second.stdout
    assert len(github.issue_comments) == 1  # edited in place by every run
    assert len(github.posted_reviews) == 1 and len(bodies(github)) == 1  # posted once, by the second run


# --- GitHub refuses ------------------------------------------------------------------------------------


def test_403_on_one_channel_leaves_the_others_running(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(ON_LINE_12))
    github.fail("POST", r"/pulls/7/reviews$", 403, times=10, body=PERMISSION)

    run = act(tmp_path, github, llm)

    assert run.code == 0
    assert github.posted_reviews == []
    assert len(github.issue_comments) == 1 and github.check_runs[0]["conclusion"] == "success"
    assert "inline: not published" in run.summary and "pull-requests: write" in run.summary
    assert "SQL injection in find_users" in unescaped(run.summary) and run.outputs["findings"] == "1"


def test_403_everywhere_still_gives_a_job_summary_and_the_gate(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=answer(ON_LINE_12))
    for method, path in (
        ("POST", r"/pulls/7/reviews$"),
        ("POST", r"/issues/7/comments$"),
        ("POST", r"/check-runs$"),
        ("PATCH", r"/check-runs/"),
    ):
        github.fail(method, path, 403, times=10, body=PERMISSION)

    run = act(tmp_path, github, llm, inputs={"fail-on": "high"})

    assert run.code == 1  # the gate is met: the step fails even though no check run could say so
    assert github.posted_reviews == [] and github.issue_comments == [] and github.check_runs == []
    assert "❌ **fail**" in run.summary and "SQL injection in find_users" in unescaped(run.summary)
    assert run.summary.count("not published") >= 2
    assert run.findings is not None and len(run.findings["findings"]) == 1


def test_422_on_a_comment_anchor_moves_it_to_the_summary(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    # Line 13 is in the diff for placement, but GitHub refuses it (as after a force-push that moved lines).
    github.fail(
        "POST",
        r"/pulls/7/reviews$",
        422,
        times=1,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
        },
    )
    llm.enqueue(json=answer(ON_LINE_12, ON_LINE_16))

    run = act(tmp_path, github, llm)

    assert run.code == 0
    assert len(github.posted_reviews) == 1 and len(bodies(github)) == 2  # the bisection found both good
    assert [r for r in github.posted_reviews if r["state"] == "PENDING"] == []  # probes cleaned up


def test_a_pending_review_left_by_a_crashed_run_is_cleaned_up(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    import requests

    left = requests.post(
        f"{github.url}/repos/owner/repo/pulls/7/reviews",
        timeout=10,
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={
            "commit_id": SHA_HEAD,
            "body": "<!-- qodo-review:probe -->",
            "comments": [{"path": "app/users.py", "line": 12, "side": "RIGHT", "body": "x"}],
        },
    )
    assert left.status_code == 200 and left.json()["state"] == "PENDING"
    github.fail(
        "POST",
        r"/pulls/7/reviews$",
        422,
        times=1,
        body={"message": "Unprocessable Entity", "errors": ["User can only have one pending review per pull request"]},
    )
    llm.enqueue(json=answer(ON_LINE_12))

    run = act(tmp_path, github, llm)

    assert run.code == 0, run.stdout
    assert [r["state"] for r in github.posted_reviews] == ["COMMENTED"]
    assert len(bodies(github)) == 1


def test_a_human_draft_review_is_never_deleted(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    import requests

    requests.post(
        f"{github.url}/repos/owner/repo/pulls/7/reviews",
        timeout=10,
        headers={"Authorization": f"Bearer {TOKEN}"},
        json={"commit_id": SHA_HEAD, "body": "my draft", "comments": []},
    )
    github.fail(
        "POST",
        r"/pulls/7/reviews$",
        422,
        times=1,
        body={"message": "Unprocessable Entity", "errors": ["User can only have one pending review per pull request"]},
    )
    llm.enqueue(json=answer(ON_LINE_12))

    run = act(tmp_path, github, llm)

    assert run.code == 0
    assert [r["body"] for r in github.posted_reviews if r["state"] == "PENDING"] == ["my draft"]
    assert "pending (draft) review" in run.summary and "SQL injection in find_users" in unescaped(run.summary)


def test_a_too_long_summary_is_trimmed_not_refused(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    many = [
        dict(
            NOT_IN_DIFF,
            line=1000 + i,
            title=f"Finding {i} " + "x" * 100,
            body="AKIAIOSFODNN7EXAMPL" + "E" * 1 + " " + "y" * 1400,
        )
        for i in range(150)
    ]
    llm.enqueue(json=answer(*many))

    run = act(tmp_path, github, llm)

    assert run.code == 0, run.stdout
    (comment,) = github.issue_comments
    assert len(comment["body"]) <= 65_536 and "truncated" in comment["body"]
    assert run.findings is not None and len(run.findings["findings"]) == 150  # all of them, in the file


# --- the pull request moved on ------------------------------------------------------------------------------


def test_a_pr_closed_while_it_was_reviewed_still_gets_its_review(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    def close_then_answer(request: Request) -> Reply:
        github.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, state="closed")
        return Reply(json=answer(ON_LINE_12))

    llm.default = close_then_answer
    run = act(tmp_path, github, llm)

    assert run.code == 0
    assert len(github.posted_reviews) == 1 and len(github.issue_comments) == 1


def test_a_head_pushed_away_while_reviewing_says_so(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    def push_then_answer(request: Request) -> Reply:
        github.set_head(7, "d" * 40, SAMPLE_DIFF)
        return Reply(json=answer(ON_LINE_12, ON_LINE_16))

    llm.default = push_then_answer
    run = act(tmp_path, github, llm)

    assert run.code == 0, run.stdout
    reviews = github.find("POST", r"/pulls/7/reviews$")
    assert len(reviews) <= 2  # no bisection of comments that are fine: the commit is what moved
    assert github.posted_reviews == []
    assert "SQL injection in find_users" in unescaped(github.issue_comments[0]["body"])
    assert "head moved during the review" in unescaped(run.summary)


def test_a_pull_request_that_does_not_exist(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = act(tmp_path, github, llm, event_name="workflow_dispatch", payload={"inputs": {}}, inputs={"pr-number": "99"})
    assert run.code == 2, run.stdout
    assert "#99" in run.summary and "pr-number" in run.summary
    assert llm.requests == []


# --- the job summary when everything fails ---------------------------------------------------------------------


def test_everything_down_still_gives_a_job_summary_with_the_reason(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    for _ in range(4):
        llm.enqueue(
            503,
            json={"error": {"message": "Service Unavailable", "type": "server_error", "param": None, "code": None}},
            headers={"retry-after-ms": "10"},
        )
    for method in ("POST", "PATCH"):
        github.fail(method, r".", 500, times=100)

    run = act(tmp_path, github, llm, inputs={"fail-on": "high"})

    assert run.code == 3
    summary = unescaped(run.summary)
    assert "incomplete" in summary.lower() and "HTTP 503: Service Unavailable" in summary
    assert "gave up after 4 attempts" in summary and "Re-run the job later" in summary
    assert "**Sent** to" in summary  # the code did leave the runner, though no answer came back
    assert "### Coverage" in run.summary and "### Delivery" in run.summary
    assert run.outputs["verdict"] == "fail"


def test_github_down_at_the_start_is_reported_in_the_summary(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("GET", r"/pulls/7$", 502, times=100)
    run = act(tmp_path, github, llm)
    assert run.code == 3
    assert "could not be completed" in run.summary and "HTTP 502" in run.summary
    assert llm.requests == []
