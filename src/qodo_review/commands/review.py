"""/review (and the default run on pull_request): review the diff, publish on every channel, gate."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ExitCode, QodoError
from ..output import write_json
from ..publish import Context, Publisher, publish_all
from ..publish.check import CheckRun, start_check
from ..publish.comment import SummaryComment
from ..publish.inline import InlineReview
from ..render import outside_section, summary_markdown
from ..review import Report, review_diff
from ..session import Session


def run(session: Session) -> ExitCode:
    config, out = session.config, session.out
    channels = frozenset() if session.dry_run else config.publish
    ctx = Context(session.github, Report(pr=session.pr), session.host, session.redactor,
                  max_inline=config.max_findings or 30)
    if "check" in channels:
        try:
            start_check(ctx)
        except QodoError as exc:
            out.warning(f"check: {exc}")
    raw_files = session.files()
    report = review_diff(session.pr, raw_files, config, provider=session.provider(), redactor=session.redactor,
                         nonce=session.nonce, provider_host=session.settings.host, model=session.settings.model)
    ctx.report = report
    if session.dry_run:
        print_dry_run(session, report)
    publish_all(publishers(channels), ctx, out.log)
    finish(session, report, ctx)
    return exit_code(report)


def publishers(channels: frozenset[str]) -> list[Publisher]:
    out: list[Publisher] = []
    if "inline" in channels:
        out.append(InlineReview())
    if "comment" in channels:
        out.append(SummaryComment(lambda ctx: summary_markdown(ctx.report, ctx.host, extra=moved(ctx))))
    if "check" in channels:
        out.append(CheckRun())
    return out


def moved(ctx: Context) -> list[str]:
    """Findings a publisher could not place inline (rejected anchor, over the cap) go to the summary."""
    if not ctx.moved_to_summary:
        return []
    return [outside_section(ctx.moved_to_summary, ctx.host).replace(
        "### Findings outside the diff", "### Findings not posted inline")]


def print_dry_run(session: Session, report: Report) -> None:
    out, settings = session.out, session.settings
    out.log(f"Dry run: nothing is sent. {len(report.prompts)} call(s) would go to {settings.host} ({settings.model}).")
    for i, prompt in enumerate(report.prompts, 1):
        out.log(f"----- call {i}: system -----\n{prompt.system}\n----- call {i}: user -----\n{prompt.user}")


def finish(session: Session, report: Report, ctx: Context) -> None:
    out = session.out
    path = os.path.join(session.env.workspace, session.inputs.findings_file)
    write_json(path, findings_document(report, ctx), session.redactor)
    delivery = ["### Delivery\n" + "\n".join(f"- {line}" for line in ctx.delivery)] if ctx.delivery else []
    if "summary" in session.config.publish or session.dry_run:
        out.summary(summary_markdown(report, ctx.host, job=True, extra=[*moved(ctx), *delivery]))
    for error in report.errors:
        out.error(error)
    worst = report.max_severity
    out.outputs({"findings": str(len(report.findings)), "max_severity": worst.value if worst else "none",
                 "verdict": report.verdict, "findings_file": path, "tokens_in": str(report.usage.tokens_in),
                 "tokens_out": str(report.usage.tokens_out), "complete": str(report.complete).lower()})
    out.log(f"qodo-review: {report.verdict}; {len(report.findings)} findings; "
            f"{'complete' if report.complete else 'INCOMPLETE'}.")


def findings_document(report: Report, ctx: Context) -> dict[str, Any]:
    worst = report.max_severity
    return {
        "command": report.command,
        "summary": report.summary,
        "verdict": report.verdict,
        "complete": report.complete,
        "max_severity": worst.value if worst else "none",
        "findings": [f.to_json() for f in report.findings],
        "not_inline": [{"finding": f.to_json(), "reason": why}
                       for f, why in [*report.placed.outside, *ctx.moved_to_summary]],
        "skipped": [{"path": s.path, "reason": s.reason, "lines": s.lines, "kind": s.kind} for s in report.skipped],
        "errors": report.errors,
        "usage": {"calls": report.usage.calls, "tokens_in": report.usage.tokens_in,
                  "tokens_out": report.usage.tokens_out},
    }


def exit_code(report: Report) -> ExitCode:
    """3 when a part of the review failed (never a pass), 1 when the gate is met, else 0."""
    if report.errors and not report.dry_run:
        return ExitCode.INCOMPLETE
    if report.verdict == "fail":
        return ExitCode.GATE
    return ExitCode.OK
