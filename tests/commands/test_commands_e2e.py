"""End to end, per trigger: comment commands (authorized, refused, on a plain issue, our own), /help,
dispatch, drafts, bots and auto-review off, with GitHub's payload shapes (octokit's examples when present)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e import SHA_BASE, SHA_HEAD, ActionRun, comment_event, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review.policy import REPLY_MARKER, UNAUTHORIZED_REPLY

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
DEFAULT_BRANCH_SHA = "d" * 40  # GITHUB_SHA of an issue_comment run: the default branch, not the PR
ANSWER = {
    "summary": "Adds user search.",
    "findings": [
        {
            "path": "app/users.py",
            "line": 12,
            "side": "RIGHT",
            "severity": "critical",
            "category": "security",
            "title": "SQL injection in find_users",
            "body": "The name is interpolated into SQL.",
        }
    ],
}


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


def run(
    tmp: Path, github: FakeGitHub, llm: FakeLLM, event_name: str, payload: dict[str, Any], **kwargs: Any
) -> ActionRun:
    result = run_action(
        tmp,
        github_url=github.url,
        llm_url=llm.url,
        event_name=event_name,
        payload=payload,
        extra_env={"GITHUB_SHA": DEFAULT_BRANCH_SHA},
        **kwargs,
    )
    assert result.violations == [] and github.errors == []
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def bot_comments(github: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in github.issue_comments if c["user"]["login"] == github.bot_login]


def test_maintainer_review_command(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    cid = github.add_issue_comment(7, "/review", user="maintainer")
    llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
    result = run(tmp_path, github, llm, "issue_comment", comment_event("/review", cid), inputs={"fail-on": "high"})
    assert result.code == 1  # the gate holds for a command as for a push
    assert [(r["comment_id"], r["content"]) for r in github.reactions] == [(cid, "eyes")]
    assert github.find("POST", r"/reactions$")[0] is github.requests[1]  # at once, right after the permission check
    assert len(llm.requests) == 1
    (check,) = github.check_runs  # on the PR's head commit, not the default branch the workflow ran on
    assert (check["head_sha"], check["conclusion"]) == (SHA_HEAD, "failure")
    (summary,) = bot_comments(github)
    assert summary["body"].startswith("<!-- qodo-review:summary -->")


@pytest.mark.parametrize(("config", "replies"), [("", 1), ("unauthorized-reply: false\n", 0)])
def test_unauthorized_command(tmp_path: Path, github: FakeGitHub, llm: FakeLLM, config: str, replies: int) -> None:
    if config:
        github.set_file(".qodo.yml", SHA_BASE, config)
    cid = github.add_issue_comment(7, "/review full", user="mallory")  # read access: the default
    result = run(tmp_path, github, llm, "issue_comment", comment_event("/review full", cid, login="mallory"))
    assert result.code == 0
    assert "Ignoring a command from mallory" in result.stdout
    assert llm.requests == [] and github.reactions == [] and github.check_runs == [] and github.posted_reviews == []
    assert [c["body"] for c in bot_comments(github)] == [f"{REPLY_MARKER}\n{UNAUTHORIZED_REPLY}"] * replies


def test_permission_lookup_failure_denies(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("GET", r"/collaborators/maintainer/permission$", 403, times=5)
    cid = github.add_issue_comment(7, "/review", user="maintainer")
    result = run(tmp_path, github, llm, "issue_comment", comment_event("/review", cid))
    assert result.code == 0 and llm.requests == [] and github.reactions == []
    assert [c["body"] for c in bot_comments(github)] == [f"{REPLY_MARKER}\n{UNAUTHORIZED_REPLY}"]


def test_broken_config_does_not_fail_a_refused_command(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "fail-on: sometimes\n")
    cid = github.add_issue_comment(7, "/review", user="mallory")
    result = run(tmp_path, github, llm, "issue_comment", comment_event("/review", cid, login="mallory"))
    assert result.code == 0 and len(bot_comments(github)) == 1 and llm.requests == []


def test_command_with_unknown_argument_is_refused(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    body = "/review --model=gpt-evil @everyone"
    cid = github.add_issue_comment(7, body, user="maintainer")
    result = run(tmp_path, github, llm, "issue_comment", comment_event(body, cid))
    assert result.code == 0 and llm.requests == [] and github.check_runs == []
    (reply,) = bot_comments(github)
    assert reply["body"].startswith(f"{REPLY_MARKER}\n⚠️ ") and "does not take arguments" in reply["body"]
    assert "@everyone" not in reply["body"]


def test_unauthorized_command_in_a_review_thread_is_answered_there(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    cid = github.add_review_comment(7, "app/users.py", 12, "/ask is this safe?", user="mallory")
    payload = comment_event("/ask is this safe?", cid, login="mallory", review_thread=True)
    result = run(tmp_path, github, llm, "pull_request_review_comment", payload)
    assert result.code == 0 and llm.requests == [] and bot_comments(github) == []
    reply = next(c for c in github.review_comments if c["in_reply_to_id"] == cid)
    assert reply["body"] == f"{REPLY_MARKER}\n{UNAUTHORIZED_REPLY}"


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (comment_event("/review", 1, on_pr=False), "on an issue, not a pull request"),
        (comment_event("/review", 1, login="github-actions[bot]"), "the action's own"),
        (comment_event(f"{REPLY_MARKER}\n/review", 1), "the action's own"),  # ours, posted with a person's PAT
        (comment_event("Thanks! /review later", 1), "not a qodo-review command"),
        ({**comment_event("/review", 1), "action": "edited"}, "only new comments"),
    ],
)
def test_comments_that_are_ignored(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, payload: dict[str, Any], why: str
) -> None:
    result = run(tmp_path, github, llm, "issue_comment", payload)
    assert result.code == 0 and why in result.stdout
    assert github.requests == [] and llm.requests == []  # not even a permission lookup


def test_help_command(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    cid = github.add_issue_comment(7, "/help", user="maintainer")
    result = run(tmp_path, github, llm, "issue_comment", comment_event("/help", cid))
    assert result.code == 0 and llm.requests == []
    (reply,) = bot_comments(github)
    assert "`/review full`" in reply["body"] and "sk-test" not in reply["body"]


def test_dispatch_reviews_the_pr_number(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    payload = {
        "inputs": {"pr-number": "7"},
        "ref": "refs/heads/main",
        "repository": {"full_name": "owner/repo"},
        "sender": {"login": "maintainer"},
        "workflow": ".github/workflows/qodo-review.yml",
    }
    result = run(tmp_path, github, llm, "workflow_dispatch", payload)
    assert result.code == 0 and len(llm.requests) == 1
    assert "Full review" in result.summary and github.check_runs[0]["head_sha"] == SHA_HEAD


def test_draft_is_skipped_until_ready(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(7, "WIP", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, draft=True)
    skipped = run(tmp_path / "1", github, llm, "pull_request", pr_event(action="opened", draft=True))
    assert skipped.code == 0 and "is a draft" in skipped.stdout and "is a draft" in skipped.summary
    assert llm.requests == [] and github.check_runs == [] and bot_comments(github) == []
    github.add_pull(7, "Ready", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, draft=False)
    ready = run(tmp_path / "2", github, llm, "pull_request", pr_event(action="ready_for_review"))
    assert ready.code == 0 and len(llm.requests) == 1


def test_drafts_reviewed_when_configured(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(7, "WIP", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, draft=True)
    github.set_file(".qodo.yml", SHA_BASE, "review-drafts: true\n")
    result = run(tmp_path, github, llm, "pull_request", pr_event(action="synchronize", draft=True))
    assert result.code == 0 and len(llm.requests) == 1


@pytest.mark.parametrize("bot", ["dependabot[bot]", "renovate[bot]"])
def test_bot_pull_requests_are_skipped(tmp_path: Path, github: FakeGitHub, llm: FakeLLM, bot: str) -> None:
    github.add_pull(7, "Bump requests", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, user=bot)
    result = run(tmp_path, github, llm, "pull_request", pr_event(user={"login": bot, "type": "Bot"}))
    assert result.code == 0 and f"opened by {bot}" in result.stdout
    assert llm.requests == [] and github.check_runs == []


def test_bot_pull_requests_reviewed_when_configured(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_pull(7, "Bump requests", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF, user="dependabot[bot]")
    github.set_file(".qodo.yml", SHA_BASE, "review-bots: true\n")
    result = run(tmp_path, github, llm, "pull_request", pr_event())
    assert result.code == 0 and len(llm.requests) == 1


def test_auto_review_off_leaves_only_commands(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "auto-review: false\n")
    auto = run(tmp_path / "1", github, llm, "pull_request", pr_event())
    assert auto.code == 0 and "auto-review: false" in auto.stdout and llm.requests == []
    cid = github.add_issue_comment(7, "/review", user="maintainer")
    asked = run(tmp_path / "2", github, llm, "issue_comment", comment_event("/review", cid))
    assert asked.code == 0 and len(llm.requests) == 1


# --- GitHub's own payloads (octokit's and go-playground's examples), when ../shared/realdata is present ---


def test_real_pr_comment_payload(tmp_path: Path, github: FakeGitHub, llm: FakeLLM, realdata: Path) -> None:
    """go-playground's recorded PR comment ("/build" by chhsia0 on PR 3), turned into a /review."""
    payload = json.loads((realdata / "events" / "go-playground" / "pull-request-issue-comment.json").read_text())
    number, login = payload["issue"]["number"], payload["comment"]["user"]["login"]
    github.add_pull(number, payload["issue"]["title"], "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
    payload["comment"]["id"] = github.add_issue_comment(number, "/review", user=login)
    payload["comment"]["body"] = "/review"
    refused = run(tmp_path / "1", github, llm, "issue_comment", payload)
    assert refused.code == 0 and llm.requests == [] and len(bot_comments(github)) == 1
    github.set_permission(login, "maintain")
    allowed = run(tmp_path / "2", github, llm, "issue_comment", payload)
    assert allowed.code == 0 and len(llm.requests) == 1
    assert github.check_runs[0]["head_sha"] == SHA_HEAD


@pytest.mark.parametrize(
    ("name", "event", "reviews"),
    [
        ("issue_comment.created.payload.json", "issue_comment", False),  # a plain issue: ignored
        ("pull_request.converted_to_draft.payload.json", "pull_request", False),
        ("pull_request_review_comment.created.payload.json", "pull_request_review_comment", False),  # no command
        ("pull_request.opened.payload.json", "pull_request", True),
        ("pull_request.ready_for_review.payload.json", "pull_request", True),
    ],
)
def test_octokit_payloads(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, realdata: Path, name: str, event: str, reviews: bool
) -> None:
    payload = json.loads((realdata / "events" / "octokit-webhooks" / name).read_text(encoding="utf-8"))
    pull = payload.get("pull_request") or {}
    if pull:
        github.add_pull(
            pull["number"],
            pull["title"],
            pull["body"],
            SHA_BASE,
            SHA_HEAD,
            SAMPLE_DIFF,
            user=pull["user"]["login"],
            draft=bool(pull.get("draft")),
        )
    result = run(tmp_path, github, llm, event, payload)
    assert result.code == 0
    assert len(llm.requests) == (1 if reviews else 0)


# --- the README's workflows: valid, least privilege, and concurrency that never cancels someone else's run ---


CLOUDS = ("azure", "bedrock", "vertex")  # README: Your own cloud


def readme_workflows() -> dict[str, dict[Any, Any]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it in a workflow") : text.index("## Inputs")]
    blocks = re.findall(r"```yaml\n(# \.github/workflows/(\S+)\n.*?)```", section, re.S)
    return {name: yaml.safe_load(block) for block, name in blocks}


def test_readme_workflows() -> None:
    workflows = readme_workflows()
    groups = {name: wf["concurrency"]["group"] for name, wf in workflows.items()}
    assert groups == {
        "qodo-review.yml": "qodo-review-pr-${{ github.event.pull_request.number }}",
        "qodo-review-commands.yml": "qodo-review-comment-${{ github.event.comment.id }}",
        "qodo-review-manual.yml": "qodo-review-dispatch-${{ inputs.pr-number }}",
        **{f"qodo-review-{c}.yml": f"qodo-review-{c}-pr-${{{{ github.event.pull_request.number }}}}" for c in CLOUDS},
    }
    assert workflows["qodo-review-commands.yml"]["concurrency"]["cancel-in-progress"] is False
    for name, wf in workflows.items():
        assert wf["permissions"] == {}, name
        (job,) = wf["jobs"].values()
        least = {"contents": "read", "pull-requests": "write", "checks": "write"}
        if name in {f"qodo-review-{c}.yml" for c in CLOUDS}:  # the cloud logins exchange the job's OIDC token
            least["id-token"] = "write"
        if name == "qodo-review-commands.yml":  # /similar_issue answers on plain issues too
            least["issues"] = "write"
        assert job["permissions"] == least, name
        assert all("actions/checkout" not in str(step.get("uses")) for step in job["steps"]), name
    triggers = {name: sorted(wf[True]) for name, wf in workflows.items()}  # YAML 1.1 reads "on" as True
    assert triggers == {
        "qodo-review.yml": ["pull_request"],
        "qodo-review-commands.yml": ["issue_comment", "pull_request_review_comment"],
        "qodo-review-manual.yml": ["workflow_dispatch"],
        **{f"qodo-review-{c}.yml": ["pull_request"] for c in CLOUDS},
    }
