"""The tools on a local diff (the CLI): which spec each command runs, and its Markdown and JSON output.

There is no pull request: citations and suggestions are checked against the diff, and shown as
``path:line`` instead of links; nothing is posted.
"""

from __future__ import annotations

from typing import Any

from ..config import ReviewConfig
from ..engine import Task
from ..errors import UsageError
from ..outcome import Outcome
from ..sanitize import suggestion_block
from ..tasks import ask, describe, improve
from . import record

TOOLS = ("describe", "improve", "ask")


def spec_for(command: str, config: ReviewConfig, nonce: str, question: str = "") -> Task[Any]:
    if command == "describe":
        return describe.spec(config, nonce)
    if command == "improve":
        return improve.spec(config, nonce)
    if command == "ask":
        if not question.strip():
            raise UsageError("qodo-review ask needs a question: --question 'How is the cache invalidated?'")
        return ask.spec(config, nonce, question)
    raise UsageError(f"Unknown command {command!r}; use one of review, {', '.join(TOOLS)}.")


def output(command: str, run: Outcome[Any], config: ReviewConfig, *, question: str = "",
           show_prompts: bool = False) -> tuple[str, dict[str, Any]]:
    """(Markdown for the terminal, the findings-file document) of one tool run."""
    if command == "describe":
        desc: describe.Description | None = run.answer
        body = (describe.render_section(desc, "github.com", not_shown=run.skipped, markers=False)
                if desc else "No description was written.")
        payload: dict[str, Any] = {"description": desc.to_json() if desc else None}
    elif command == "improve":
        plan = improve.plan(run.answer or (), run.file, cap=config.max_suggestions)
        body = improve.summary_markdown(plan, cap=config.max_suggestions, dry_run=run.dry_run)
        if plan.inline:
            body += "\n\n### Suggested changes\n\n" + "\n\n".join(
                f"{improve.headline(s)}\n{improve.location(s)}\n\n{suggestion_block(s.replacement)}"
                for s, _ in plan.inline)
        payload = {"suggestions": [{**s.to_json(), "status": status} for s, status in _statuses(plan)]}
    else:
        reply: ask.Reply | None = run.answer
        links = [ask.citation_link(c, "", run.file)[0] for c in reply.citations] if reply else []
        body = (ask.reply_markdown(question, reply, host="github.com", links=links).removeprefix(ask.MARKER).strip()
                if reply else ask.quote(question))
        payload = {"question": question, "answer": reply.answer if reply else None,
                   "citations": [c.to_json() for c in reply.citations] if reply else []}
    text = record.job_summary(run, body)
    if run.dry_run:
        tokens = sum(p.tokens_estimate for p in run.prompts)
        text += (f"\n\n{len(run.prompts)} call(s), about {tokens} prompt tokens, would be sent to "
                 f"{run.manifest.provider_host} ({run.manifest.model}).")
        if show_prompts:
            text += "".join(f"\n\n----- call {i}: system -----\n{p.system}\n----- call {i}: user -----\n{p.user}"
                            for i, p in enumerate(run.prompts, 1))
    return text, record.document(run, payload)


def _statuses(plan: improve.Plan) -> list[tuple[improve.Suggestion, str]]:
    return ([(s, "ok") for s, _ in plan.inline] + [(s, f"invalid: {why}") for s, why in plan.invalid]
            + [(s, "over-cap") for s in plan.over_cap])
