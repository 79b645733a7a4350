"""The CLI's one channel: an Outcome as terminal Markdown or as the findings document (JSON).

There is no pull request: citations and suggestions are checked against the diff, and shown as
``path:line`` instead of links; nothing is posted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, Any

from ..config import ReviewConfig
from ..outcome import Outcome, document_prompts
from ..redact import Redactor
from ..render import terminal_text, tool_summary
from ..sanitize import suggestion_block
from ..tasks import ask, describe, improve
from . import Delivery

NO_KEY = (
    "\n\nNo API key is set, so nothing was sent. To get {what}, set one:\n"
    "  export OPENAI_API_KEY=...     (or ANTHROPIC_API_KEY=..., or pass --api-key)"
)


@dataclass(frozen=True)
class Screen:
    """Where the terminal channel writes, and how (the CLI's flags)."""

    stream: IO[str]
    redactor: Redactor
    config: ReviewConfig
    fmt: str = "markdown"
    question: str = ""
    show_prompts: bool = False
    no_key: bool = False


class Terminal:
    name = "terminal"

    def deliver(self, outcome: Outcome[Any], ctx: Screen) -> Delivery:
        text = render(
            outcome,
            ctx.config,
            fmt=ctx.fmt,
            question=ctx.question,
            show_prompts=ctx.show_prompts,
            no_key=ctx.no_key,
            redactor=ctx.redactor,
        )
        # JSON is redacted string by string before it is serialised; text gets the last pass here.
        ctx.stream.write((text if ctx.fmt == "json" else ctx.redactor.redact(text)) + "\n")
        return Delivery()


def render(
    outcome: Outcome[Any],
    config: ReviewConfig,
    *,
    fmt: str,
    question: str = "",
    show_prompts: bool = False,
    no_key: bool = False,
    redactor: Redactor | None = None,
) -> str:
    """What the CLI prints for any command: the findings document as JSON (with the prompts of a dry run),
    or Markdown with the one dry-run printout and, without a key, how to set one."""
    body = terminal_text(outcome) if outcome.is_review else tool_summary(outcome, tool_body(outcome, config, question))
    if fmt == "json":
        doc = outcome.findings_document()
        if outcome.dry_run:
            doc["prompts"] = document_prompts(outcome.prompts)
        # Redacted value by value before it is serialised (Redactor.redact_data): the caller prints it as is.
        return json.dumps(redactor.redact_data(doc) if redactor else doc, indent=2, ensure_ascii=False)
    if outcome.dry_run:
        body += "\n\n" + outcome.dry_run_text(show_prompts=show_prompts)
    if no_key:
        body += NO_KEY.format(what="a review" if outcome.is_review else "an answer")
    return body


def tool_body(outcome: Outcome[Any], config: ReviewConfig, question: str) -> str:
    """A tool's Markdown; its own findings-file keys are set on the outcome (``payload``)."""
    if outcome.command == "describe":
        desc: describe.Description | None = outcome.answer
        outcome.payload = {"description": desc.to_json() if desc else None}
        return (
            describe.render_section(desc, "github.com", not_shown=outcome.skipped, markers=False)
            if desc
            else "No description was written."
        )
    if outcome.command == "improve":
        plan = improve.plan(outcome.answer or (), outcome.file, cap=config.max_suggestions)
        outcome.payload = {"suggestions": [{**s.to_json(), "status": status} for s, status in _statuses(plan)]}
        body = improve.summary_markdown(plan, cap=config.max_suggestions, dry_run=outcome.dry_run)
        if plan.inline:
            body += "\n\n### Suggested changes\n\n" + "\n\n".join(
                f"{improve.headline(s)}\n{improve.location(s)}\n\n{suggestion_block(s.replacement)}"
                for s, _ in plan.inline
            )
        return body
    reply: ask.Reply | None = outcome.answer
    links = [ask.citation_link(c, "", outcome.file)[0] for c in reply.citations] if reply else []
    outcome.payload = {
        "question": question,
        "answer": reply.answer if reply else None,
        "citations": [c.to_json() for c in reply.citations] if reply else [],
    }
    return (
        ask.reply_markdown(question, reply, host="github.com", links=links).removeprefix(ask.MARKER).strip()
        if reply
        else ask.quote(question)
    )


def _statuses(plan: improve.Plan) -> list[tuple[improve.Suggestion, str]]:
    return (
        [(s, "ok") for s, _ in plan.inline]
        + [(s, f"invalid: {why}") for s, why in plan.invalid]
        + [(s, "over-cap") for s in plan.over_cap]
    )
