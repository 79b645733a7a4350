"""Comments we keep one of (the summary, /describe's and /improve's), found again by a hidden marker and
edited in place on every run."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GitHubError
from ..github import Comment, GitHub
from ..render import SUMMARY_MARKER
from . import CREATE_ATTEMPTS, Context, maybe_done


def find_marked(github: GitHub, number: int, marker: str) -> Comment | None:
    """Our comment starting with this marker, if an earlier run wrote one.

    Only comments written by our own account (`GitHub.own_login`) count: a person, or another bot, who
    pastes our marker into a comment of theirs can neither have it edited nor feed it our state."""
    comments = github.list_issue_comments(number)
    me = github.own_login()
    mine = [c for c in comments if c.body.startswith(marker) and c.user_login == me]
    return mine[0] if mine else None


def find_summary(github: GitHub, number: int) -> Comment | None:
    """Our summary comment on the PR, if an earlier run wrote one."""
    return find_marked(github, number, SUMMARY_MARKER)


def upsert_marked(github: GitHub, number: int, marker: str, text: str) -> str:
    """Edit our comment in place, else create it once: a create that failed after GitHub acted
    (a 5xx) is looked for before it is sent again, so a comment is never duplicated."""
    found = find_marked(github, number, marker)
    if found is not None:
        github.update_issue_comment(found.id, text)
        return f"updated comment {found.id}"
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return f"created comment {github.create_issue_comment(number, text).id}"
        except GitHubError as exc:
            if not maybe_done(exc) or attempt == CREATE_ATTEMPTS:
                raise
            found = find_marked(github, number, marker)
            if found is not None:
                return f"created comment {found.id} (confirmed after: {exc})"
    raise AssertionError("unreachable")  # pragma: no cover


class SummaryComment:
    name = "comment"

    def __init__(self, body: Callable[[Context], str]) -> None:
        self.body = body

    def publish(self, ctx: Context) -> str:
        return upsert_marked(ctx.github, ctx.report.pr.number, SUMMARY_MARKER, ctx.scrub(self.body(ctx)))
