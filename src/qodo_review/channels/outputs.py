"""The findings file and the step outputs: the result for the workflow's later steps, the same names and
the one schema (``Outcome.findings_document``) for every command; the errors as annotations and the last
log line."""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from ..errors import ExitCode, UsageError
from ..outcome import Outcome
from ..redact import Redactor
from . import SKIP, Context, Delivery


class FindingsFile:
    """The findings file, with every delivery line so far: written after the channels that post."""

    name = "findings file"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        outcome.payload = ctx.shown().payload()
        outcome.delivery = list(ctx.delivery)
        outcome.not_inline = [*ctx.moved_to_summary, *ctx.summary_only, *ctx.dismissed]
        facts = ctx.facts
        ctx.findings_path = write_json(
            facts.env.workspace, facts.findings_file, outcome.findings_document(), ctx.redactor
        )
        return SKIP


class StepOutputs:
    """The errors and the gate's reason as annotations, the step outputs, and the run's last log line."""

    name = "outputs"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        out = ctx.out
        for error in outcome.errors:
            out.error(error)
        if outcome.is_review:
            if outcome.gate_reason:
                out.error(outcome.gate_reason)
            out.outputs({**outcome.outputs(ctx.findings_path), "sarif_file": ctx.sarif_path})
            # never "pass" for what was not reviewed: a dry run, or an incomplete review, says so first
            state = (
                "not reviewed (dry run)"
                if outcome.dry_run
                else "INCOMPLETE review" + (", fail" if outcome.verdict == "fail" else "")
                if not outcome.complete
                else outcome.verdict
            )
            out.log(f"qodo-review: {state}; {len(outcome.findings)} findings.")
            return SKIP
        if not ctx.delivered and not outcome.dry_run and not outcome.errors:
            out.error(
                f"/{outcome.command} could not post anything on the pull request; the job summary has the "
                "result. The token needs: permissions: pull-requests: write"
            )
        out.outputs(outcome.outputs(ctx.findings_path, ctx.shown().count()))
        code = outcome.exit_code(delivered=ctx.delivered)
        state = "dry run" if outcome.dry_run else "done" if code is ExitCode.OK else "INCOMPLETE"
        out.log(f"qodo-review /{outcome.command}: {state}.")
        return SKIP


def write_json(workspace: str, relative: str, data: Any, redactor: Redactor, *, name: str = "findings-file") -> str:
    """Write the (redacted) JSON at `relative` (inputs.findings_path: a normalised path inside the workspace)
    and return that relative path, the step output: later steps run in the workspace and open it as is.

    The checkout may have put a symlink where the file or one of its directories goes (to a file outside
    the workspace, say): a link is removed, never followed; the file is created anew (O_EXCL, O_NOFOLLOW).
    Steps run one after another, so nothing changes the workspace while this runs."""
    text = json.dumps(redactor.redact_data(data), indent=2, ensure_ascii=False)  # every string redacted
    parts = relative.split("/")
    directory = workspace
    for part in parts[:-1]:
        directory = os.path.join(directory, part)
        if not _is_directory(directory):
            _remove(directory, relative, name)
            os.mkdir(directory, 0o755)
    path = os.path.join(directory, parts[-1])
    _remove(path, relative, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return relative


def _is_directory(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def _remove(path: str, relative: str, name: str = "findings-file") -> None:
    """Remove a file or link in the way (a link is never followed); a directory is the user's to move."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        raise UsageError(
            f"Input '{name}' is {relative!r}, but the workspace has a directory there; choose another path."
        )
    os.unlink(path)
