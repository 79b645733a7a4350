"""The one summary comment, found again by its hidden marker and edited in place on every run."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import GitHubError
from ..github import Comment, GitHub
from ..render import SUMMARY_MARKER
from . import CREATE_ATTEMPTS, Context, maybe_done

# Comments written by the workflow's token come from this account; only those are ever edited, so a
# user who pastes our marker into their own comment cannot make us overwrite it.
BOT_LOGINS = ("github-actions[bot]",)


def find_summary(github: GitHub, number: int) -> Comment | None:
    """Our summary comment on the PR, if an earlier run wrote one."""
    mine = [c for c in github.list_issue_comments(number)
            if c.body.startswith(SUMMARY_MARKER) and (c.user_login in BOT_LOGINS or c.user_type == "Bot")]
    return mine[0] if mine else None


class SummaryComment:
    name = "comment"

    def __init__(self, body: Callable[[Context], str]) -> None:
        self.body = body

    def publish(self, ctx: Context) -> str:
        number = ctx.report.pr.number
        text = ctx.scrub(self.body(ctx))
        found = find_summary(ctx.github, number)
        if found is not None:
            ctx.github.update_issue_comment(found.id, text)
            return f"updated comment {found.id}"
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                created = ctx.github.create_issue_comment(number, text)
                return f"created comment {created.id}"
            except GitHubError as exc:
                if not maybe_done(exc) or attempt == CREATE_ATTEMPTS:
                    raise
                found = find_summary(ctx.github, number)
                if found is not None:  # GitHub created it before failing: posting again would duplicate it
                    return f"created comment {found.id} (confirmed after: {exc})"
        raise AssertionError("unreachable")  # pragma: no cover
