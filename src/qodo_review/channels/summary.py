"""The job summary: the command's result on the workflow run's page (``View.markdown``), written when
``publish:`` has ``summary`` and always in a dry run (it is where a dry run shows what it would do)."""

from __future__ import annotations

from typing import Any

from ..outcome import Outcome
from . import SKIP, Context, Delivery


class JobSummary:
    name = "summary"

    def __init__(self, *, always: bool = False) -> None:
        self.always = always  # /help writes its text whatever publish: says

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if self.always or "summary" in ctx.facts.config.publish or ctx.facts.dry_run:
            ctx.out.summary(ctx.shown().markdown(outcome, ctx))
        return SKIP
