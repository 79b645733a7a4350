"""GitHub JSON into our own frozen types: pull requests, comments, reviews, check runs.

Tolerant on purpose: real payloads vary by age and endpoint, so a missing or null field becomes an empty
value rather than an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qodo_review.models import PullRequest


@dataclass(frozen=True, slots=True)
class Comment:
    """An issue (conversation) comment on a pull request."""

    id: int
    body: str
    user_login: str
    user_type: str  # "User" or "Bot"


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    state: str  # PENDING, COMMENTED, APPROVED, CHANGES_REQUESTED, DISMISSED
    user_login: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """An inline comment in a review thread."""

    id: int
    body: str
    path: str
    line: int | None
    side: str | None
    user_login: str
    in_reply_to_id: int | None
    pull_request_review_id: int | None
    html_url: str = ""  # the comment's thread on the PR's page (the summary links to it)


@dataclass(frozen=True, slots=True)
class CheckRun:
    id: int


def pull_from_json(d: Mapping[str, Any]) -> PullRequest:
    """Convert a REST or webhook `pull_request` object; tolerant, since real payloads vary by age."""
    base, head = _obj(d.get("base")), _obj(d.get("head"))
    base_repo = _obj(base.get("repo")).get("full_name")
    head_repo = _obj(head.get("repo")).get("full_name")
    return PullRequest(
        number=int(d.get("number") or 0),
        title=str(d.get("title") or ""),
        body=str(d.get("body") or ""),
        base_sha=str(base.get("sha") or ""),
        head_sha=str(head.get("sha") or ""),
        base_ref=str(base.get("ref") or ""),
        head_ref=str(head.get("ref") or ""),
        author=str(_obj(d.get("user")).get("login") or ""),
        draft=bool(d.get("draft")),
        state=str(d.get("state") or "open"),
        # A deleted fork has head.repo == null. `head.repo.fork` is no signal: a same-repo PR inside a fork
        # has it too. Unknown counts as a fork, the safe side (read-only token, no secrets).
        is_fork=head_repo is None or head_repo != base_repo,
        html_url=str(d.get("html_url") or ""),
        changed_files=_int_or_none(d.get("changed_files")),
        additions=_int_or_none(d.get("additions")),
        deletions=_int_or_none(d.get("deletions")),
    )


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _login(d: Mapping[str, Any]) -> str:
    return str(_obj(d.get("user")).get("login") or "")


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


def _comment(d: Mapping[str, Any]) -> Comment:
    user = _obj(d.get("user"))
    return Comment(
        id=int(d["id"]),
        body=str(d.get("body") or ""),
        user_login=str(user.get("login") or ""),
        user_type=str(user.get("type") or ""),
    )


def _review_comment(d: Mapping[str, Any]) -> ReviewComment:
    return ReviewComment(
        id=int(d["id"]),
        body=str(d.get("body") or ""),
        path=str(d.get("path") or ""),
        line=_int_or_none(d.get("line")),
        side=str(d["side"]) if d.get("side") else None,
        user_login=_login(d),
        in_reply_to_id=_int_or_none(d.get("in_reply_to_id")),
        pull_request_review_id=_int_or_none(d.get("pull_request_review_id")),
        html_url=str(d.get("html_url") or ""),
    )
