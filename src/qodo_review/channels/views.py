"""What each command hands its channels once its task ran (``Context.view``): the review's summary-comment
parts, /describe's description and labels, /improve's plan, the text of a reply. Each says what the shared
channels show for it: the job summary, the command's own findings-file keys, the ``findings`` output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..layout import Placement, review_summary
from ..models import Skipped
from ..outcome import Outcome
from ..render import addressed_section, outside_section, tool_summary
from ..state import State
from ..tasks import describe, improve
from . import Context


def moved(ctx: Context) -> list[str]:
    """Findings a channel could not place inline (rejected anchor, over the cap) go to the summary."""
    if not ctx.moved_to_summary:
        return []
    return [
        outside_section(ctx.moved_to_summary, ctx.host).replace(
            "### Findings outside the diff", "### Findings not posted inline"
        )
    ]


def placement(ctx: Context) -> Placement:
    """What the inline channel did with the findings: their threads' links, and those kept off the diff."""
    return Placement(ctx.threads, ctx.moved_to_summary, ctx.summary_only, ctx.dismissed)


@dataclass(frozen=True)
class ReviewView:
    """What the summary comment adds to the review: the scope, addressed findings, history, hidden state."""

    scope: str
    addressed: Sequence[tuple[str, str, bool]]  # (headline, path, resolved) of earlier findings now addressed
    state: State
    key: bytes | None

    def sections(self, ctx: Context) -> list[str]:
        return [*moved(ctx), addressed_section(self.addressed, ctx.host)]

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        delivery = ["### Delivery\n" + "\n".join(f"- {line}" for line in ctx.delivery)] if ctx.delivery else []
        return review_summary(
            outcome,
            ctx.host,
            job=True,
            extra=self.sections(ctx),
            scope=self.scope,
            placement=placement(ctx),
            operations=delivery,
        )

    def payload(self) -> dict[str, Any]:
        return {}

    def count(self) -> int | None:
        return None


@dataclass(frozen=True)
class DescribeView:
    """/describe's description (None: the model wrote none) and the labels chosen from .qodo.yml's list."""

    desc: describe.Description | None
    labels: tuple[str, ...]
    not_shown: Sequence[Skipped]

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        body = (
            describe.render_section(self.desc, ctx.host, not_shown=self.not_shown, labels=self.labels, markers=False)
            if self.desc is not None
            else "No description was written."
        )
        return tool_summary(outcome, body)

    def payload(self) -> dict[str, Any]:
        return {"description": self.desc.to_json() if self.desc else None, "labels_applied": list(self.labels)}

    def count(self) -> int | None:
        return 0


@dataclass(frozen=True)
class ImproveView:
    """/improve's plan; its channels move what they could not post from ``plan.inline`` to ``plan.invalid``."""

    plan: improve.Plan
    cap: int
    extra: Sequence[str] = ()  # what the summary comment adds: problems, coverage

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        return tool_summary(outcome, improve.summary_markdown(self.plan, cap=self.cap, dry_run=outcome.dry_run))

    def payload(self) -> dict[str, Any]:
        return {"suggestions": document(self.plan)}

    def count(self) -> int | None:
        p = self.plan
        return len(p.inline) + len(p.repeats) + len(p.invalid) + len(p.over_cap)


def document(plan: improve.Plan) -> list[dict[str, Any]]:
    """Every suggestion of the run with what happened to it: the findings file's ``suggestions``."""
    rows = [{**s.to_json(), "status": "posted", "fingerprint": fp} for s, fp in plan.inline]
    rows += [{**s.to_json(), "status": "already-posted", "fingerprint": fp} for s, fp in plan.repeats]
    rows += [{**s.to_json(), "status": "not-inline", "why": why} for s, why in plan.invalid]
    rows += [{**s.to_json(), "status": "over-cap"} for s in plan.over_cap]
    return rows


@dataclass(frozen=True)
class ReplyView:
    """A comment that answers who asked: /ask's answer (in the review thread it was asked in), /help."""

    what: str  # the delivery line's name: "answer", "help"
    text: str  # the comment
    body: str  # its Markdown in the job summary
    reply_to: int | None = None  # the review comment whose thread gets the reply
    fields: dict[str, Any] = field(default_factory=dict)  # the command's own findings-file keys
    whole: bool = False  # the job summary is ``body`` alone (/help), not a tool's summary around it

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        return self.body if self.whole else tool_summary(outcome, self.body)

    def payload(self) -> dict[str, Any]:
        return dict(self.fields)

    def count(self) -> int | None:
        return 0
