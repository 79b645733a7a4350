"""What the triggering event asks for: one pure function from (event name, payload) to an Activity.

Payloads are read tolerantly (only the fields we need, with .get()), because real payloads
vary across years of GitHub and runner files have ended with stray bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .errors import EventError, UsageError

PR_EVENTS = ("pull_request", "pull_request_target")
PR_ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")
# Slash commands and the arguments each accepts: an allowlist, never a blocklist.
COMMAND_WORDS = ("review", "describe", "improve", "ask", "help", "similar_issue")
# The comment word of a command whose name has a hyphen elsewhere (input `command:`, the CLI).
COMMAND_NAMES = {"similar_issue": "similar-issue"}
# The one command that also runs on a plain issue (no pull request).
ISSUE_COMMANDS = ("similar_issue",)
_COMMAND_WORD = re.compile(r"/([a-z]+(?:_[a-z]+)*)\b")  # a comment's first word, when it is a slash command
OWN_LOGINS = ("github-actions[bot]",)
MAX_QUESTION_CHARS = 2000


@dataclass(frozen=True)
class Activity:
    """kind: "review" (run command on PR), "skip" (notice, exit 0), "reject" (polite reply, exit 0)."""

    kind: str
    reason: str = ""
    pr_number: int | None = None
    command: str = "review"
    args: str = ""
    full: bool = False
    comment_id: int | None = None
    review_comment: bool = False
    commenter: str = ""
    before: str | None = None
    draft: bool = False
    author: str = ""
    action: str = ""
    plain_issue: bool = False  # pr_number is an issue's, not a pull request's (/similar_issue)


def load_event(text: str, path: str = "GITHUB_EVENT_PATH") -> dict[str, Any]:
    """Parse the event file; tolerate trailing garbage after the JSON object (seen on real runners)."""
    stripped = text.strip()
    if not stripped:
        raise EventError(
            f"The event file ({path}) is empty. Run this action from a GitHub Actions workflow, "
            "or use the qodo-review CLI locally."
        )
    try:
        data, _end = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError as exc:
        raise EventError(f"The event file ({path}) is not JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(data, dict):
        raise EventError(f"The event file ({path}) holds a {type(data).__name__}, not a JSON object.")
    return data


def parse_command(body: str) -> tuple[str, str, bool] | None:
    """Return (command, args, full) when the comment's first word is one of our commands.

    Returns None when the comment is not addressed to us at all. Raises UsageError for a
    command of ours with arguments outside its allowlist.
    """
    text = body.lstrip()
    match = _COMMAND_WORD.match(text)
    if not match or match.group(1) not in COMMAND_WORDS:
        return None
    word = match.group(1)
    rest = text[match.end() :].strip()
    if word == "ask":
        if not rest:
            raise UsageError("/ask needs a question, for example: /ask why is the cache not invalidated?")
        # Not cut here: commands/ask.py cuts it to MAX_QUESTION_CHARS once it is redacted.
        return word, rest, False
    first_line = rest.splitlines()[0].strip() if rest else ""
    if word == "review" and first_line in ("", "full"):
        return word, "", first_line == "full"
    if first_line == "":
        return word, "", False
    raise UsageError(f"/{word} does not take arguments ({first_line[:40]!r}). Try /help.")


def _obj(data: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """data[key] when it is a JSON object, else {} (payload fields vary; never trust their types)."""
    value = (data or {}).get(key)
    return value if isinstance(value, dict) else {}


def _pr_number(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def find_activity(
    event_name: str,
    payload: dict[str, Any],
    pr_input: int | None,
    *,
    command: str = "review",
    issue_input: int | None = None,
) -> Activity:
    """Decide what this run does. Pure: no network, no environment. ``command`` and ``issue_input`` are the
    workflow's inputs (a dispatched similar-issue names an issue, not a pull request)."""
    action = str(payload.get("action") or "")
    if event_name in PR_EVENTS:
        return _from_pull_request(event_name, action, payload)
    if event_name == "workflow_dispatch" and command == "similar-issue":
        inputs = _obj(payload, "inputs")
        number = (
            issue_input
            or _pr_number(inputs.get("issue-number"))
            or _pr_number(inputs.get("issue_number"))
            or pr_input
            or _pr_number(inputs.get("pr-number"))
        )
        if number is None:
            raise UsageError(
                "command: similar-issue needs an issue: set the 'issue-number' input "
                "(with: issue-number: ${{ inputs.issue-number }})."
            )
        return Activity("review", pr_number=number, command="similar-issue", action="dispatch")
    if event_name == "workflow_dispatch":
        inputs = _obj(payload, "inputs")
        number = pr_input or _pr_number(inputs.get("pr-number")) or _pr_number(inputs.get("pr_number"))
        if number is None:
            raise UsageError(
                "workflow_dispatch needs a pull request: set the 'pr-number' input "
                "(with: pr-number: ${{ inputs.pr-number }})."
            )
        return Activity("review", pr_number=number, action="dispatch")
    if event_name in ("issue_comment", "pull_request_review_comment"):
        return _from_comment(event_name, action, payload)
    if pr_input is not None:
        return Activity("review", pr_number=pr_input, action=event_name)
    return Activity(
        "skip",
        reason=f"qodo-review does nothing on '{event_name}' events; "
        "run it on pull_request, issue_comment or workflow_dispatch.",
    )


def _from_pull_request(event_name: str, action: str, payload: dict[str, Any]) -> Activity:
    pull = _obj(payload, "pull_request")
    number = _pr_number(pull.get("number")) or _pr_number(payload.get("number"))
    if number is None:
        raise EventError(f"The {event_name} event carries no pull request number.")
    if action not in PR_ACTIONS:
        return Activity("skip", reason=f"Nothing to do for pull request action '{action}'.", pr_number=number)
    return Activity(
        "review",
        pr_number=number,
        action=action,
        before=str(payload.get("before")) if action == "synchronize" and payload.get("before") else None,
        draft=bool(pull.get("draft")),
        author=str(_obj(pull, "user").get("login") or ""),
    )


def _from_comment(event_name: str, action: str, payload: dict[str, Any]) -> Activity:
    comment = _obj(payload, "comment")
    login = str(_obj(comment, "user").get("login") or _obj(payload, "sender").get("login") or "")
    if action != "created":
        return Activity("skip", reason=f"Comment {action or 'event'}: only new comments are read.")
    if login in OWN_LOGINS or str(comment.get("body") or "").lstrip().startswith("<!-- qodo-review"):
        return Activity("skip", reason="The comment is the action's own.")
    plain_issue = False
    if event_name == "issue_comment":
        issue = _obj(payload, "issue")
        plain_issue = not issue.get("pull_request")
        asked = _COMMAND_WORD.match(str(comment.get("body") or "").lstrip())
        if plain_issue and not (asked and asked.group(1) in ISSUE_COMMANDS):
            return Activity("skip", reason="The comment is on an issue, not a pull request.")
        number = _pr_number(issue.get("number"))
    else:
        number = _pr_number(_obj(payload, "pull_request").get("number"))
    if number is None:
        raise EventError(f"The {event_name} event carries no pull request number.")
    comment_id = _pr_number(comment.get("id"))
    try:
        parsed = parse_command(str(comment.get("body") or ""))
    except UsageError as exc:
        return Activity(
            "reject",
            reason=str(exc),
            pr_number=number,
            comment_id=comment_id,
            commenter=login,
            review_comment=event_name != "issue_comment",
            plain_issue=plain_issue,
        )
    if parsed is None:
        return Activity("skip", reason="The comment is not a qodo-review command.")
    word, args, full = parsed
    if event_name == "pull_request_review_comment" and word != "ask":
        return Activity("skip", reason="In a review thread only /ask is answered.")
    return Activity(
        "review",
        pr_number=number,
        command=COMMAND_NAMES.get(word, word),
        args=args,
        full=full,
        comment_id=comment_id,
        review_comment=event_name != "issue_comment",
        commenter=login,
        action="comment",
        plain_issue=plain_issue,
    )
