"""The `qodo-review` check run on the PR head: in_progress at start, the verdict as conclusion at the end."""

from __future__ import annotations

from ..limits import ANNOTATIONS_PER_REQUEST
from ..render import check_annotations, check_output
from . import Context

CHECK_NAME = "qodo-review"


def conclusion(ctx: Context) -> str:
    report = ctx.report
    if report.verdict == "fail":
        return "failure"
    if not report.complete:
        return "neutral"  # only reached without a gate: GitHub counts neutral as passing
    return "success"


class CheckRun:
    name = "check"

    def publish(self, ctx: Context) -> str:
        report = ctx.report
        output = {k: ctx.scrub(v) for k, v in check_output(report, ctx.host).items()}
        notes = check_annotations(report.placed.inline)
        for note in notes:
            note["title"], note["message"] = ctx.scrub(note["title"]), ctx.scrub(note["message"])
        batches = [notes[i:i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(notes), ANNOTATIONS_PER_REQUEST)] or [[]]
        first = {**output, "annotations": batches[0]}
        if ctx.check_run_id is None:
            ctx.check_run_id = ctx.github.create_check_run(
                report.pr.head_sha, CHECK_NAME, status="completed", conclusion=conclusion(ctx), output=first)
        else:
            ctx.github.update_check_run(ctx.check_run_id, status="completed", conclusion=conclusion(ctx), output=first)
        for batch in batches[1:]:  # further PATCHes append annotations
            ctx.github.update_check_run(ctx.check_run_id, output={**output, "annotations": batch})
        return f"check run {ctx.check_run_id}: {conclusion(ctx)} with {len(notes)} annotations"


def start_check(ctx: Context) -> None:
    """Create the check run in_progress so the PR shows the review is running."""
    ctx.check_run_id = ctx.github.create_check_run(
        ctx.report.pr.head_sha, CHECK_NAME, status="in_progress",
        output={"title": "Reviewing…", "summary": "qodo-review is reviewing this pull request."})
