"""The summary comments: the review's and /improve's, kept one each, found again by a hidden marker (as is
/describe's fallback comment) and edited in place on every run."""

from __future__ import annotations

from typing import Any

from ..errors import GitHubError
from ..github import Comment, GitHub
from ..layout import review_summary
from ..limits import COMMENT_BODY_MAX
from ..outcome import Outcome
from ..render import SUMMARY_MARKER, cap, history_section
from ..state import render_state
from ..tasks import improve
from . import CREATE_ATTEMPTS, SKIP, Context, Delivery, maybe_done
from .views import ImproveView, ReviewView, placement


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


def upsert_marked(
    github: GitHub, number: int, marker: str, text: str, *, permission: str = "pull-requests: write"
) -> str:
    """Edit our comment in place, else create it once: a create that failed after GitHub acted
    (a 5xx) is looked for before it is sent again, so a comment is never duplicated. ``permission``: what a
    403 asks for (``issues: write`` on a plain issue)."""
    found = find_marked(github, number, marker)
    if found is not None:
        github.update_issue_comment(found.id, text, permission=permission)
        return f"updated comment {found.id}"
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return f"created comment {github.create_issue_comment(number, text, permission=permission).id}"
        except GitHubError as exc:
            if not maybe_done(exc) or attempt == CREATE_ATTEMPTS:
                raise
            found = find_marked(github, number, marker)
            if found is not None:
                return f"created comment {found.id} (confirmed after: {exc})"
    raise AssertionError("unreachable")  # pragma: no cover


class SummaryComment:
    """The review's summary comment, with its signed hidden state (state.py) at the end."""

    name = "comment"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if not ctx.on("comment"):
            return SKIP
        text = ctx.scrub(self.text(outcome, ctx))
        return Delivery((f"{self.name}: " + upsert_marked(ctx.github, outcome.pr.number, SUMMARY_MARKER, text),))

    @staticmethod
    def text(outcome: Outcome[Any], ctx: Context) -> str:
        view = ctx.shown()
        assert isinstance(view, ReviewView)
        marker = render_state(view.key, view.state) if view.key is not None else ""
        text = review_summary(
            outcome,
            ctx.host,
            extra=view.sections(ctx),
            scope=view.scope,
            history=history_section(view.state.history),
            placement=placement(ctx),
        )
        # Redacted before it is cut to size: a placeholder can be longer than what it replaces (a 422).
        return cap(ctx.scrub(text), COMMENT_BODY_MAX - len(marker) - 2) + "\n\n" + marker


class SuggestionsComment:
    """/improve's summary comment: every suggestion not posted inline, problems and coverage."""

    name = "summary comment"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if not ctx.on("comment"):
            return SKIP
        view = ctx.shown()
        assert isinstance(view, ImproveView)
        text = f"{improve.SUMMARY_MARKER}\n" + improve.summary_markdown(view.plan, cap=view.cap, extra=view.extra)
        try:
            done = upsert_marked(
                ctx.github, outcome.pr.number, improve.SUMMARY_MARKER, ctx.scrub(cap(text, COMMENT_BODY_MAX))
            )
        except GitHubError as exc:
            return Delivery((f"summary comment: failed ({exc})",), ok=False)
        return Delivery((f"summary comment: {done}",))
