"""/describe's places: the PR body, between hidden markers (our describe comment when the body cannot be
edited or has no room), and the labels from .qodo.yml that the model chose."""

from __future__ import annotations

from typing import Any

from ..errors import GitHubError
from ..limits import COMMENT_BODY_MAX, PR_BODY_MAX
from ..outcome import Outcome
from ..tasks import describe
from . import SKIP, Context, Delivery
from .comment import upsert_marked
from .views import DescribeView


def _view(ctx: Context) -> DescribeView:
    view = ctx.shown()
    assert isinstance(view, DescribeView)
    return view


class PullBody:
    """Into the body between the markers; when that is refused or there is no room, the describe comment."""

    name = "description"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        view = _view(ctx)
        if ctx.facts.dry_run:
            return SKIP
        if view.desc is None:
            return Delivery(ok=False)  # nothing to deliver: the run is incomplete
        desc, labels, skipped, pr, scrub = view.desc, view.labels, view.not_shown, outcome.pr, ctx.scrub
        lines: list[str] = []
        try:
            # Read the body again: the author may have edited it while the model was writing.
            current = ctx.github.get_pull(pr.number).body
            room = PR_BODY_MAX - (len(current) - len(describe.section_of(current) or "")) - 2
            section = describe.fit_section(desc, ctx.host, room, not_shown=skipped, labels=labels)
            if section is not None and len(scrub(section)) <= room:
                ctx.github.update_pull_body(pr.number, describe.splice_body(current, scrub(section)))
                return Delivery(("description: written into the PR body, between hidden markers",))
            lines.append("description: the PR body has no room left for it; posted as a comment instead")
        except GitHubError as exc:
            lines.append(f"description: the PR body could not be edited ({exc}); posted as a comment instead")
        text = (
            describe.fit_section(
                desc, ctx.host, COMMENT_BODY_MAX - 200, not_shown=skipped, labels=labels, markers=False
            )
            or "The description did not fit in a comment; see the job summary."
        )
        try:
            marked = scrub(f"{describe.COMMENT_MARKER}\n{text}")
            lines.append("description: " + upsert_marked(ctx.github, pr.number, describe.COMMENT_MARKER, marked))
        except GitHubError as exc:
            lines.append(f"description: the comment could not be posted either ({exc})")
            return Delivery(tuple(lines), ok=False)
        return Delivery(tuple(lines))


class Labels:
    """The chosen labels, added to the PR; a failure here is said, and does not make the run incomplete."""

    name = "labels"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        labels = _view(ctx).labels
        if ctx.facts.dry_run or not labels:
            return SKIP
        try:
            ctx.github.add_labels(outcome.pr.number, labels)
        except GitHubError as exc:
            return Delivery((f"labels: not added ({exc})",))
        return Delivery((f"labels: added {', '.join(labels)}",))
