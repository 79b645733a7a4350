"""The CLI's one channel: an Outcome rendered for a terminal (``pretty``, rich), as Markdown, as the findings
document (JSON) or as SARIF 2.1.0 (the review only).

There is no pull request: citations and suggestions are checked against the diff, and shown as
``path:line`` instead of links; nothing is posted.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import IO, Any

from ..config import ReviewConfig
from ..models import Finding
from ..outcome import Outcome, document_prompts
from ..redact import Redactor
from ..render import terminal_text, tool_summary
from ..sanitize import suggestion_block
from ..tasks import ask, describe, improve
from . import Delivery

_TRAILING = re.compile(r" +((?:\x1b\[0m)?)$", re.MULTILINE)
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
    width: int = 100  # of the pretty output
    color: bool = False  # of the pretty output: a terminal, unless NO_COLOR


class Terminal:
    name = "terminal"

    def deliver(self, outcome: Outcome[Any], ctx: Screen) -> Delivery:
        if ctx.fmt == "sarif":
            from .sarif import sarif_document

            doc = ctx.redactor.redact_data(sarif_document(outcome))
            ctx.stream.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            return Delivery()
        if ctx.fmt == "pretty":
            pretty_print(outcome, ctx)
            return Delivery()
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


def pretty_print(outcome: Outcome[Any], ctx: Screen, *, record: bool = False) -> Any:
    """The rendered output (channels/pretty.py, rich), from text redacted first: the review's parts are
    redacted one by one (a copy of the outcome is not needed: rich prints what it is given, nothing else)."""
    from . import pretty

    tail = ""
    if outcome.dry_run:
        tail = outcome.dry_run_text(show_prompts=ctx.show_prompts)
    if ctx.no_key:
        tail += NO_KEY.format(what="a review" if outcome.is_review else "an answer")
    markdown = "" if outcome.is_review else tool_summary(outcome, tool_body(outcome, ctx.config, ctx.question))
    shown = redacted(outcome, ctx.redactor)
    buffer = io.StringIO()
    console = pretty.render(
        buffer,
        shown,
        markdown=ctx.redactor.redact(markdown),
        tail=ctx.redactor.redact(tail.strip()),
        width=ctx.width,
        color=ctx.color,
        record=record,
    )
    # rich pads Markdown to the full width: trailing blanks (also before a line's last reset code) are dropped
    text = _TRAILING.sub(r"\1", buffer.getvalue())
    ctx.stream.write(ctx.redactor.redact(text))  # and a last pass over what was rendered
    return console


def redacted(outcome: Outcome[Any], redactor: Redactor) -> Outcome[Any]:
    """A shallow copy whose texts (summary, findings, errors, notices) are redacted: the pretty output prints
    pieces, never one text that a last pass could redact."""
    import copy
    from dataclasses import replace

    def clean(f: Finding) -> Finding:
        return replace(
            f,
            path=redactor.redact(f.path),
            title=redactor.redact(f.title),
            body=redactor.redact(f.body),
            suggestion=None if f.suggestion is None else redactor.redact(f.suggestion),
        )

    shown = copy.copy(outcome)
    shown.summary = redactor.redact(outcome.summary)
    shown.findings = [clean(f) for f in outcome.findings]
    shown.errors = [redactor.redact(e) for e in outcome.errors]
    shown.notices = [redactor.redact(n) for n in outcome.notices]
    shown.not_inline = [(clean(f), redactor.redact(w)) for f, w in outcome.not_inline]
    shown.unverifiable = [(clean(f), redactor.redact(w)) for f, w in outcome.unverifiable]
    shown.skipped = [
        replace(s, path=redactor.redact(s.path), reason=redactor.redact(s.reason)) for s in outcome.skipped
    ]
    outside = tuple((clean(f), redactor.redact(w)) for f, w in outcome.placed.outside)
    shown.placed = replace(outcome.placed, outside=outside)
    return shown


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
