"""What every tool run leaves behind, as values: the findings-file document, the job summary, the step
outputs and the exit code. The commands write them; nothing here does I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ExitCode
from ..limits import STEP_SUMMARY_MAX
from ..outcome import Outcome
from ..render import cap, coverage_section, manifest_section
from ..sanitize import plain


def document(report: Outcome[Any], payload: dict[str, Any], delivery: Sequence[str] = ()) -> dict[str, Any]:
    """The findings file of a tool: ``command``, ``complete``, ``dry_run``, the tool's own fields,
    then ``delivery``, ``skipped``, ``errors`` and ``usage`` (the same names as the review's file)."""
    return {
        "command": report.command,
        "complete": report.complete,
        "dry_run": report.dry_run,
        **payload,
        "delivery": list(delivery),
        "skipped": report.coverage.rows(),
        "errors": list(report.errors),
        "usage": {"calls": report.usage.calls, "tokens_in": report.usage.tokens_in,
                  "tokens_out": report.usage.tokens_out},
    }


def status_line(report: Outcome[Any]) -> str:
    if report.dry_run:
        return f"🔍 **dry run**: nothing was sent; {len(report.prompts)} call(s) prepared."
    if report.errors:
        return "⚠️ **incomplete**: see the problems below."
    if not report.complete:
        return "✅ **done**, but some files were not shown to the model (see Coverage)."
    return "✅ **done**"


def job_summary(report: Outcome[Any], body: str, delivery: Sequence[str] = ()) -> str:
    """The job summary of a tool run: status, the tool's own Markdown, delivery, coverage, egress."""
    parts = [f"## qodo-review /{report.command}" + (" (dry run)" if report.dry_run else ""), status_line(report)]
    if report.errors:
        parts.append("### ⚠️ Problems\n" + "\n".join(f"- {plain(e, 600)}" for e in report.errors))
    if report.notices:
        parts.append("\n".join(f"> {plain(n, 400)}" for n in report.notices))
    parts.append(body)
    if delivery:
        parts.append("### Delivery\n" + "\n".join(f"- {plain(d, 600)}" for d in delivery))
    parts.append("### Coverage\n" + coverage_section(report))
    parts.append("### What left the runner\n" + manifest_section(report))
    # Half the step's summary at most: the rest stays for the notices and errors written after it.
    return cap("\n\n".join(p for p in parts if p), STEP_SUMMARY_MAX // 2)


def outputs(report: Outcome[Any], path: str, count: int) -> dict[str, str]:
    """The step outputs: the review's names, so one workflow can read any command's result."""
    return {"findings": str(count), "max_severity": "none", "verdict": "pass", "findings_file": path,
            "tokens_in": str(report.usage.tokens_in), "tokens_out": str(report.usage.tokens_out),
            "complete": str(report.complete).lower()}


def exit_code(report: Outcome[Any], *, delivered: bool) -> ExitCode:
    """3 when the model part failed or nothing reached the PR (the job summary still has the result); else 0.
    Tools are not gates: fail-on applies to /review only."""
    if report.dry_run:
        return ExitCode.OK
    if report.errors or not delivered:
        return ExitCode.INCOMPLETE
    return ExitCode.OK
