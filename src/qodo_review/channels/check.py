"""The `qodo-review` check run on the PR head: in_progress at start, the verdict as conclusion at the end.

Annotations go 50 per request (the create or first update, then further PATCHes, which GitHub appends).
A token that may not write checks is remembered (`Context.check_denied`) so the verdict takes another way
out: workflow-command annotations and one explanation of the missing permission (``NoCheck``, annotate.py).
"""

from __future__ import annotations

from typing import Any

from ..errors import GitHubError, PermissionDenied
from ..layout import check_output
from ..limits import ANNOTATIONS_PER_REQUEST, CHECK_TEXT_MAX
from ..outcome import Outcome
from ..render import cap, check_annotations
from . import SKIP, Context, Delivery
from .annotate import report_without_check

CHECK_NAME = "qodo-review"


def conclusion(report: Outcome[Any]) -> str:
    if report.verdict == "fail":
        return "failure"
    if not report.complete:
        return "neutral"  # only reached without a gate: GitHub counts neutral as passing
    return "success"


class CheckRun:
    """The verdict as the check run's conclusion, the findings on changed lines as its annotations. The
    review starts it (``start``) before its task runs, and ends it (``abort``) if the task dies."""

    name = "check"

    @staticmethod
    def start(ctx: Context) -> str:
        """Create the check run in_progress so the PR shows the review is running."""
        try:
            ctx.check_run_id = ctx.github.create_check_run(
                ctx.facts.pr.head_sha,
                CHECK_NAME,
                status="in_progress",
                output={"title": "Reviewing…", "summary": "qodo-review is reviewing this pull request."},
            )
        except PermissionDenied as exc:
            ctx.check_denied = exc
            return f"not permitted (HTTP {exc.status})"
        except GitHubError as exc:  # the final publish tries again
            return f"could not start: {exc}"
        return f"check run {ctx.check_run_id} in progress"

    @staticmethod
    def abort(ctx: Context, why: str, gate: bool) -> None:
        """The review died after the check started: never leave it in progress, never let it pass a gate."""
        if ctx.check_run_id is None:
            return
        try:
            ctx.github.update_check_run(
                ctx.check_run_id,
                status="completed",
                conclusion="failure" if gate else "neutral",
                output={"title": "The review could not be completed", "summary": ctx.scrub(why)[:CHECK_TEXT_MAX]},
            )
        except GitHubError:
            pass  # best effort on the way out: the error being raised is the one to report

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if not ctx.on("check"):
            return SKIP
        if ctx.check_denied is None:
            try:
                return Delivery((f"{self.name}: {self._complete(outcome, ctx)}",))
            except PermissionDenied as exc:
                ctx.check_denied = exc
        status = ctx.check_denied.status
        return Delivery((f"{self.name}: not permitted (HTTP {status}): the token may not write checks; see below",))

    @staticmethod
    def _complete(report: Outcome[Any], ctx: Context) -> str:
        # Redacted, then cut to size: a placeholder can be longer than what it replaces (a 422).
        output = {
            k: ctx.scrub(v)[:255] if k == "title" else cap(ctx.scrub(v), CHECK_TEXT_MAX)
            for k, v in check_output(report, ctx.host, ctx.threads).items()
        }
        notes = check_annotations(report.placed.inline)
        for note in notes:
            note["title"], note["message"] = ctx.scrub(note["title"]), ctx.scrub(note["message"])
        batches = [notes[i : i + ANNOTATIONS_PER_REQUEST] for i in range(0, len(notes), ANNOTATIONS_PER_REQUEST)] or [
            []
        ]
        first = {**output, "annotations": batches[0]}
        if ctx.check_run_id is None:
            ctx.check_run_id = ctx.github.create_check_run(
                report.pr.head_sha, CHECK_NAME, status="completed", conclusion=conclusion(report), output=first
            )
        else:
            ctx.github.update_check_run(
                ctx.check_run_id, status="completed", conclusion=conclusion(report), output=first
            )
        for batch in batches[1:]:  # further PATCHes append annotations
            ctx.github.update_check_run(ctx.check_run_id, output={**output, "annotations": batch})
        return f"check run {ctx.check_run_id}: {conclusion(report)} with {len(notes)} annotations"


class NoCheck:
    """Without a check run (the token may not write checks): the verdict as annotations, with one
    explanation, after everything else (annotate.py)."""

    name = "annotations"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if ctx.check_denied is not None:
            report_without_check(ctx.out, outcome.findings, ctx.check_denied.status, ctx.facts.findings_file)
        return SKIP
