"""Replies to who asked: /ask's answer (in the review thread it was asked in, else a comment), /help's
comment, and the one short refusal of a command the policy turned down."""

from __future__ import annotations

from typing import Any

from ..errors import GitHubError, QodoError
from ..event import Activity
from ..github import GitHub
from ..limits import COMMENT_BODY_MAX
from ..outcome import Outcome
from ..output import Out
from ..render import cap
from . import SKIP, Context, Delivery
from .views import ReplyView


class Reply:
    """The command's answer; in a review thread when there is one (GitHub answers replies only to a
    thread's first comment), else, or when that fails, a comment on the PR."""

    name = "reply"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        view = ctx.shown()
        assert isinstance(view, ReplyView)
        if ctx.facts.dry_run:
            return SKIP
        number, text, what = outcome.pr.number, ctx.scrub(cap(view.text, COMMENT_BODY_MAX)), view.what
        lines: list[str] = []
        if view.reply_to is not None:
            try:
                ctx.github.reply_to_review_comment(number, view.reply_to, text)
                return Delivery((f"{what}: replied in the review thread of comment {view.reply_to}",))
            except GitHubError as exc:
                lines.append(f"{what}: the thread reply failed ({exc}); posted as a comment instead")
        try:
            created = ctx.github.create_issue_comment(number, text)
        except GitHubError as exc:
            return Delivery((*lines, f"{what}: not posted ({exc})"), ok=False)
        return Delivery((*lines, f"{what}: posted comment {created.id}"))


def refuse(github: GitHub, activity: Activity, text: str, out: Out) -> None:
    """One short answer to a refused command, in the review thread when the command came from one."""
    body = out.redactor.redact(text)
    try:
        if activity.review_comment and activity.comment_id:
            github.reply_to_review_comment(activity.pr_number or 0, activity.comment_id, body)
        else:
            github.create_issue_comment(activity.pr_number or 0, body)
    except QodoError as exc:
        out.warning(f"Could not reply: {exc}")
