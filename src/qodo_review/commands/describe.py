"""/describe: the model's description of the PR, and the labels from .qodo.yml it chose. Its channels
write it into the PR body between hidden markers (a comment when the body cannot be edited) and add the
labels (channels/body.py)."""

from __future__ import annotations

from typing import Any

from ..channels import Context
from ..channels.views import DescribeView
from ..outcome import Outcome
from ..run import call_model
from ..tasks import describe


def prepare(ctx: Context) -> Outcome[Any]:
    facts = ctx.facts
    result = call_model(facts, ctx.github, ctx.out, ctx.redactor, describe.spec(facts.config, facts.nonce))
    desc = result.answer
    labels: tuple[str, ...] = ()
    if desc is not None:
        labels = describe.choose_labels(desc.labels, facts.config.labels)
        dropped = [label for label in desc.labels if label.lower() not in {x.lower() for x in labels}]
        if dropped:
            ctx.delivery.append(f"labels not in .qodo.yml 'labels:' ignored: {', '.join(dropped)}")
    ctx.view = DescribeView(desc, labels, result.skipped)
    return result
