"""The event stage: which events and actions lead to a review, a command, or a skip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from qodo_review.errors import EventError, UsageError
from qodo_review.event import find_activity, load_event, parse_command


def pr_payload(action: str = "opened", number: int = 7, draft: bool = False) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {"number": number, "draft": draft, "user": {"login": "alice"}},
        "before": "a" * 40,
        "after": "b" * 40,
    }


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target"])
@pytest.mark.parametrize("action", ["opened", "synchronize", "reopened", "ready_for_review"])
def test_pull_request_actions_review(event: str, action: str) -> None:
    activity = find_activity(event, pr_payload(action), None)
    assert (activity.kind, activity.pr_number, activity.action) == ("review", 7, action)


@pytest.mark.parametrize("action", ["closed", "labeled", "edited", "converted_to_draft", ""])
def test_other_pull_request_actions_skip(action: str) -> None:
    assert find_activity("pull_request", pr_payload(action), None).kind == "skip"


def test_synchronize_keeps_before_sha() -> None:
    assert find_activity("pull_request", pr_payload("synchronize"), None).before == "a" * 40
    assert find_activity("pull_request", pr_payload("opened"), None).before is None


def test_dispatch_needs_pr_number() -> None:
    assert find_activity("workflow_dispatch", {"inputs": {}}, 12).pr_number == 12
    assert find_activity("workflow_dispatch", {"inputs": {"pr-number": "13"}}, None).pr_number == 13
    with pytest.raises(UsageError, match="pr-number"):
        find_activity("workflow_dispatch", {"inputs": {}}, None)


@pytest.mark.parametrize("event", ["push", "ping", "check_run", "schedule"])
def test_unrelated_events_skip(event: str) -> None:
    assert find_activity(event, {}, None).kind == "skip"


def comment_payload(body: str, *, on_pr: bool = True, action: str = "created", login: str = "bob") -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 5}
    if on_pr:
        issue["pull_request"] = {"url": "https://api.github.com/repos/o/r/pulls/5"}
    return {
        "action": action,
        "issue": issue,
        "comment": {"id": 99, "body": body, "user": {"login": login}},
        "sender": {"login": login},
    }


def test_comment_command_on_pr() -> None:
    activity = find_activity("issue_comment", comment_payload("/review full"), None)
    assert (activity.kind, activity.command, activity.full, activity.comment_id, activity.commenter) == (
        "review",
        "review",
        True,
        99,
        "bob",
    )


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (comment_payload("/review", on_pr=False), "issue, not a pull request"),
        (comment_payload("/review", action="edited"), "only new comments"),
        (comment_payload("looks good /review"), "not a qodo-review command"),
        (comment_payload("/review", login="github-actions[bot]"), "own"),
        (comment_payload("<!-- qodo-review:summary -->\n/review"), "own"),
    ],
)
def test_comments_that_are_skipped(payload: dict[str, Any], why: str) -> None:
    activity = find_activity("issue_comment", payload, None)
    assert activity.kind == "skip" and why in activity.reason


def test_unknown_argument_rejects_whole_command() -> None:
    activity = find_activity("issue_comment", comment_payload("/review --model=evil"), None)
    assert activity.kind == "reject" and "does not take arguments" in activity.reason


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/review", ("review", "", False)),
        ("  /review full\nthanks", ("review", "", True)),
        ("/help", ("help", "", False)),
        ("/ask why is this slow?", ("ask", "why is this slow?", False)),
        ("/reviewer", None),
        ("please /review", None),
        ("/deploy prod", None),
    ],
)
def test_parse_command(body: str, expected: tuple[str, str, bool] | None) -> None:
    assert parse_command(body) == expected


def test_load_event_tolerates_trailing_garbage() -> None:
    assert load_event('{"action": "opened"},\n') == {"action": "opened"}


@pytest.mark.parametrize(("text", "message"), [("", "empty"), ("not json", "not JSON"), ("[1]", "not a JSON object")])
def test_load_event_errors(text: str, message: str) -> None:
    with pytest.raises(EventError, match=message):
        load_event(text)


def test_real_webhook_payloads(realdata: Path) -> None:
    """GitHub's own examples: PR events review or skip; plain-issue comments skip; the /build PR comment skips."""
    folder = realdata / "events"
    decided = 0
    for path in sorted(folder.rglob("*.json")):
        if "schemas" in path.parts:
            continue
        name = path.name.split(".")[0].replace("-", "_")
        event = {"pull_request_issue_comment": "issue_comment"}.get(name, name)
        payload = load_event(path.read_text(encoding="utf-8"))
        try:
            activity = find_activity(event, payload, None)
        except (UsageError, EventError):
            assert event == "workflow_dispatch"
            continue
        decided += 1
        if event in ("pull_request",) and payload.get("action") in ("opened", "synchronize", "reopened"):
            assert activity.kind == "review", path.name
        if event == "issue_comment" and not (payload.get("issue") or {}).get("pull_request"):
            assert activity.kind == "skip", path.name
    assert decided > 20


def test_octokit_index_never_crashes(realdata: Path) -> None:
    index = realdata / "events" / "schemas" / "octokit-webhooks-examples-7.6.1.api.github.com.index.json"
    for entry in json.loads(index.read_text(encoding="utf-8")):
        for example in entry.get("examples", []):
            try:
                activity = find_activity(entry["name"], example, None)
            except (UsageError, EventError):
                continue
            assert activity.kind in ("review", "skip", "reject")
