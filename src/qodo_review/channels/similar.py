"""/similar_issue's reply, one comment on the issue (or PR) kept by its hidden marker and edited in place when
the command is asked again, and its view for the job summary, the findings file and the outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..limits import COMMENT_BODY_MAX
from ..outcome import Outcome
from ..render import cap
from ..tasks import similar
from . import SKIP, Context, Delivery
from .comment import upsert_marked


@dataclass(frozen=True)
class SimilarView:
    search: similar.Search
    text: str  # the reply comment, marker first

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        return similar.summary_markdown(self.search, self.text, dry_run=outcome.dry_run, delivery=ctx.delivery)

    def payload(self) -> dict[str, Any]:
        return {"similar": self.search.to_json()}

    def count(self) -> int | None:
        return len(self.search.matches)


class SimilarReply:
    """The reply: created once, then updated (only our own account's comment with the marker counts)."""

    name = "reply"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if not ctx.on("comment"):
            return SKIP
        view = ctx.shown()
        assert isinstance(view, SimilarView)
        # On a plain issue the token needs issues: write; on a PR, pull-requests: write.
        permission = "issues: write" if ctx.facts.activity.plain_issue else "pull-requests: write"
        text = cap(ctx.scrub(view.text), COMMENT_BODY_MAX)
        done = upsert_marked(ctx.github, outcome.pr.number, similar.MARKER, text, permission=permission)
        return Delivery((f"{self.name}: {done}",))
