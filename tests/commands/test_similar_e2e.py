"""/similar_issue end to end through action.main (and once through entrypoint.py in a subprocess), against the fake
GitHub and the fake provider: the ranking of a planted duplicate, pagination, authorization, the reply edited in
place, an issue-only repository, provider failures falling back to BM25, redaction of what is sent, dry run, and
nothing left on disk."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, ActionRun, comment_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion, openai_error

from qodo_review.policy import REPLY_MARKER, UNAUTHORIZED_REPLY
from qodo_review.tasks.similar import MARKER

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
DEFAULT_BRANCH_SHA = "d" * 40
TARGET = 300
DUPLICATE = 120
AWS_KEY = "AKIAQX7ZPL4MN2RS5TUV"  # planted in an issue body: must never reach the provider
TOPICS = [
    ("Dark mode colours are wrong in the settings page", "The toggle text is unreadable on dark backgrounds."),
    ("Add CSV export for the reports table", "Users want to download the monthly report as CSV."),
    ("Login redirect loops with SSO enabled", "After SAML login the browser keeps redirecting to /login."),
    ("Typo in the README installation section", "It says pip instal instead of pip install."),
    ("Search results are not paginated", "With 10k results the page takes a minute to render."),
    ("Webhook retries flood the queue", "Failed deliveries are retried without backoff."),
    ("Timezone shown as UTC in notifications", "Email notifications ignore the user's timezone setting."),
    ("Crash when the config file is empty", "An empty YAML file raises a TypeError at startup."),
]


def populate(github: FakeGitHub, noise: int = 150) -> None:
    """Issues 1..noise are noise on eight topics; the target, its duplicate and decoys sit among them."""
    for n in range(1, noise + 1):
        title, body = TOPICS[n % len(TOPICS)]
        github.add_issue(n, f"{title} ({n})", f"{body} Seen in build {n}.")
    github.add_issue(
        DUPLICATE,
        "Crash on avatar upload with big PNG images",
        "Uploading a large PNG as profile avatar crashes the app with an out of memory error.",
        state="closed",
        state_reason="duplicate",
        labels=["bug", "uploads"],
    )
    github.add_issue(
        130, "Avatar upload crashes with large PNG", "Same crash: avatar PNG upload, out of memory.", locked=True
    )
    github.add_issue(
        131, "Avatar PNG upload crash out of memory", "Buy cheap avatars! PNG upload crash", labels=["Spam"]
    )
    github.add_issue(132, "PNG avatar upload crash, out of memory", "avatar upload crash large PNG", user=None)
    github.add_issue(
        140,
        "Avatar thumbnails are blurry",
        f"The avatar resize uses nearest neighbour. Our staging key was {AWS_KEY}, rotate it.",
    )
    github.add_issue(
        TARGET,
        "App crashes when uploading a PNG avatar larger than 5 MB",
        "Steps: open profile, upload a 6 MB PNG as avatar. The app crashes (out of memory).",
    )


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        populate(fake)
        fake.set_permission("maintainer", "write")
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def ask(
    tmp: Path,
    github: FakeGitHub,
    llm: FakeLLM,
    *,
    login: str = "maintainer",
    number: int = TARGET,
    on_pr: bool = False,
    **kwargs: Any,
) -> ActionRun:
    cid = github.add_issue_comment(number, "/similar_issue", user=login)
    payload = comment_event("/similar_issue", cid, number=number, login=login, on_pr=on_pr)
    return run(tmp, github, llm, "issue_comment", payload, **kwargs)


def run(tmp: Path, github: FakeGitHub, llm: FakeLLM, event: str, payload: dict[str, Any], **kwargs: Any) -> ActionRun:
    result = run_action(
        tmp,
        github_url=github.url,
        llm_url=llm.url,
        event_name=event,
        payload=payload,
        extra_env={"GITHUB_SHA": DEFAULT_BRANCH_SHA, **kwargs.pop("extra_env", {})},
        **kwargs,
    )
    assert result.violations == [] and github.errors == []
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def replies(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.issue_comments if c["user"]["login"] == github.bot_login]


def ranked(body: str) -> list[int]:
    return [int(n) for n in re.findall(r"^\d+\. \[#(\d+)\]", body, re.M)]


def sent_bodies(llm: FakeLLM) -> str:
    return "\n".join(r.body.decode("utf-8", "replace") for r in llm.requests)


def test_planted_duplicate_ranks_first(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    result = ask(tmp_path, github, llm)
    assert result.code == 0
    (reply,) = replies(github)
    body = reply["body"]
    assert body.startswith(MARKER) and reply["issue_number"] == TARGET
    order = ranked(body)
    assert order[0] == DUPLICATE and len(order) == 5  # similar-max's default
    assert not {130, 131, 132, TARGET} & set(order)  # locked, spam, deleted user, the issue itself
    line = next(x for x in body.splitlines() if f"[#{DUPLICATE}]" in x)
    assert "closed as duplicate" in line and "`bug`" in line and "https://github.com/owner/repo/issues/120" in line
    assert "skipped: 1 deleted user, 1 locked, 1 spam" in body
    assert llm.requests == []  # BM25 alone: nothing left the runner
    assert [r["content"] for r in github.reactions] == ["eyes"]
    assert result.findings is not None and result.findings["command"] == "similar-issue"
    assert result.findings["similar"]["matches"][0]["number"] == DUPLICATE
    assert result.outputs["findings"] == "5"
    assert "Nothing: the ranking ran on the runner." in result.summary


def test_pagination_reads_every_page_newest_first(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    result = ask(tmp_path, github, llm)
    pages = github.find("GET", r"/issues$")
    assert len(pages) == 2 and pages[0].query["direction"] == "desc" and pages[1].query.get("page") == "2"
    searched = result.findings["similar"] if result.findings else {}
    assert searched["searched"] == 150  # every issue but the target (1-150 hold 120, 130-132 and 140)
    assert searched["oldest"].startswith("2020-01-01")


def test_rate_limit_while_paginating_is_waited_for(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("GET", r"/issues$", 429, times=1, headers={"Retry-After": "7"})
    result = ask(tmp_path, github, llm)
    assert result.code == 0 and any(7 <= w <= 8 for w in result.waits)
    assert result.findings is not None and result.findings["similar"]["searched"] == 150


def test_a_token_that_cannot_read_issues_is_named(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("GET", r"/issues$", 403, body={"message": "Resource not accessible by integration"})
    result = ask(tmp_path, github, llm)
    assert result.code == 3 and "`issues: read`" in result.summary and replies(github) == []


def test_similar_scan_caps_what_is_read(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-scan: 50\nsimilar-max: 3\n")
    result = ask(tmp_path, github, llm)
    assert len(github.find("GET", r"/issues$")) == 1
    assert result.findings is not None and result.findings["similar"]["searched"] == 50
    assert len(ranked(replies(github)[0]["body"])) == 3


def test_unauthorized_commenter_is_refused(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    result = ask(tmp_path, github, llm, login="mallory")
    assert result.code == 0 and github.reactions == [] and github.find("GET", r"/issues$") == []
    assert [c["body"] for c in replies(github)] == [f"{REPLY_MARKER}\n{UNAUTHORIZED_REPLY}"]


def test_unknown_argument_on_a_plain_issue_is_refused(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    cid = github.add_issue_comment(TARGET, "/similar_issue --scan 99999", user="maintainer")
    payload = comment_event("/similar_issue --scan 99999", cid, number=TARGET, on_pr=False)
    result = run(tmp_path, github, llm, "issue_comment", payload)
    assert result.code == 0 and github.find("GET", r"/issues$") == []
    (reply,) = replies(github)
    assert reply["body"].startswith(f"{REPLY_MARKER}\n⚠️ ") and reply["issue_number"] == TARGET


def test_repeated_command_edits_its_reply(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    ask(tmp_path / "1", github, llm)
    github.add_issue(299, "PNG avatar upload crashes the app", "avatar PNG upload crash out of memory large")
    ask(tmp_path / "2", github, llm)
    (reply,) = replies(github)
    assert len(github.find("PATCH", rf"/issues/comments/{reply['id']}$")) == 1
    assert 299 in ranked(reply["body"])


def test_issue_only_repository(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """No pull request anywhere: nothing reads a pull request, the reply lands on the issue."""
    result = ask(tmp_path, github, llm)
    assert result.code == 0 and github.find("GET", r"/pulls") == []
    assert len(replies(github)) == 1


def test_pull_requests_only_when_configured(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(
        400, "Fix crash on large PNG avatar upload", "avatar upload out of memory", SHA_BASE, SHA_HEAD, SAMPLE_DIFF
    )
    ask(tmp_path / "1", github, llm)
    assert 400 not in ranked(replies(github)[0]["body"])
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-include-prs: true\n")
    ask(tmp_path / "2", github, llm)
    body = replies(github)[0]["body"]
    assert 400 in ranked(body) and "(pull request open)" in body


def test_on_a_pull_request_and_other_commands_stay_pr_only(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(
        401, "Avatar upload crashes with big PNG", "Fixes the PNG avatar crash.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF
    )
    result = ask(tmp_path / "1", github, llm, number=401, on_pr=True)
    assert result.code == 0 and ranked(replies(github)[0]["body"])[0] == DUPLICATE
    cid = github.add_issue_comment(TARGET, "/review", user="maintainer")
    skipped = run(
        tmp_path / "2", github, llm, "issue_comment", comment_event("/review", cid, number=TARGET, on_pr=False)
    )
    assert skipped.code == 0 and "on an issue, not a pull request" in skipped.stdout


def test_dispatch_with_issue_number(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    payload = {"inputs": {"issue-number": str(TARGET)}, "ref": "refs/heads/main", "sender": {"login": "maintainer"}}
    result = run(tmp_path, github, llm, "workflow_dispatch", payload, inputs={"command": "similar-issue"})
    assert result.code == 0 and ranked(replies(github)[0]["body"])[0] == DUPLICATE


def test_dispatch_without_issue_number_names_the_input(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    result = run(tmp_path, github, llm, "workflow_dispatch", {"inputs": {}}, inputs={"command": "similar-issue"})
    assert result.code == 2 and "issue-number" in result.stdout


def test_embeddings_are_redacted_and_fused(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-embeddings: true\n")
    result = ask(tmp_path, github, llm)
    assert result.code == 0
    assert {r.path for r in llm.requests} == {"/v1/embeddings"} and len(llm.requests) == 2  # 148 texts, 100 a batch
    assert llm.requests[0].json["model"] == "text-embedding-3-small"
    sent = sent_bodies(llm)
    assert AWS_KEY not in sent and "<<SECRET:" in sent
    body = replies(github)[0]["body"]
    assert ranked(body)[0] == DUPLICATE and "embeddings (`text-embedding-3-small`)" in body
    assert "redacted issue texts" in result.summary


def test_embeddings_failure_falls_back_to_bm25(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-embeddings: true\n")
    for _ in range(4):  # every attempt of the retry policy
        llm.enqueue(503, openai_error("overloaded", type="server_error"))
    result = ask(tmp_path, github, llm)
    assert result.code == 0 and len(result.waits) == 3
    body = replies(github)[0]["body"]
    assert "ranked by BM25 alone" in body and ranked(body)[0] == DUPLICATE
    assert "ranked by BM25 alone" in result.summary


def test_rerank_reorders_and_writes_reasons(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-rerank: true\nsimilar-max: 2\n")
    answer = {
        "matches": [
            {"number": 99999, "reason": "not a candidate: dropped"},
            {"number": 140, "reason": "Both are about <b>avatars</b> @everyone"},
            {"number": DUPLICATE, "reason": "The same PNG avatar crash."},
        ]
    }
    llm.enqueue(json=chat_completion(json.dumps(answer)))
    result = ask(tmp_path, github, llm)
    assert result.code == 0 and len(llm.requests) == 1
    body = replies(github)[0]["body"]
    assert ranked(body) == [140, DUPLICATE] and "The same PNG avatar crash" in body
    assert "<b>" not in body and "@everyone" not in body
    assert AWS_KEY not in sent_bodies(llm)
    assert "a re-rank by `gpt-4.1`" in body


def test_rerank_failure_keeps_the_ranking(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-rerank: true\n")
    llm.enqueue(json=chat_completion("not json"))
    llm.enqueue(json=chat_completion("still not json"))
    result = ask(tmp_path, github, llm)
    assert result.code == 0
    body = replies(github)[0]["body"]
    assert ranked(body)[0] == DUPLICATE and "rank failed" in body
    assert result.findings is not None and result.findings["errors"] == []


def test_dry_run_shows_what_would_be_sent(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-rerank: true\nsimilar-embeddings: true\n")
    result = ask(tmp_path, github, llm, inputs={"dry-run": "true"})
    assert result.code == 0 and llm.requests == [] and replies(github) == []
    assert "148 texts would be sent" in result.stdout and "----- call 1: user -----" in result.stdout
    assert AWS_KEY not in result.stdout and "Would be sent" in result.summary


def test_nothing_is_left_on_disk(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """Through entrypoint.py in a subprocess: the reply, the summary and the outputs are the only results."""
    github.set_file(".qodo.yml", DEFAULT_BRANCH_SHA, "similar-embeddings: true\nsimilar-comments: 5\n")
    github.add_issue_comment(DUPLICATE, "Same here with a 7 MB PNG avatar.")
    (tmp_path / "runner-temp").mkdir()
    result = ask(tmp_path, github, llm, subprocess=True)
    assert result.code == 0 and ranked(replies(github)[0]["body"])[0] == DUPLICATE
    assert len(github.find("GET", rf"/issues/{DUPLICATE}/comments$")) == 1 and len(llm.requests) == 2
    assert list((tmp_path / "runner-temp").iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "workspace").iterdir()) == ["qodo-findings.json"]
    home = {p.name for p in tmp_path.iterdir()}
    assert home - {"violations.txt"} == {"event.json", "summary.md", "output.txt", "workspace", "runner-temp"}
