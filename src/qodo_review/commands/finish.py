"""The end of every tool run (describe, improve, ask): the dry-run printout, the findings file, the job
summary, the step outputs and the exit code, written through the run's redactor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ..engine import Task, run_task
from ..errors import ExitCode
from ..outcome import Outcome
from ..output import write_json
from ..session import Session
from ..tools import record
from .review import print_dry_run

T = TypeVar("T")


def call_model(session: Session, spec: Task[T]) -> Outcome[T]:
    """The tool's model calls over the PR's diff; in a dry run, the prompts printed instead."""
    result = run_task(spec, session.pr, session.files(), session.config, caller=session.provider(),
                      redactor=session.redactor, nonce=session.nonce, host=session.settings.host,
                      model=session.settings.model)
    if session.dry_run:
        print_dry_run(session, result)
    return result


def files_url(session: Session) -> str:
    """The PR's Files tab, the target of every line link (on the repository's own host)."""
    return f"{session.env.server_url}/{session.env.repository}/pull/{session.pr.number}/files"


def finish(session: Session, result: Outcome[Any], payload: dict[str, Any], body: str, *,
           delivery: Sequence[str], count: int, delivered: bool) -> ExitCode:
    out, report = session.out, result
    path = write_json(session.env.workspace, session.inputs.findings_file,
                      record.document(report, payload, delivery), session.redactor)
    if "summary" in session.config.publish or session.dry_run:
        out.summary(record.job_summary(report, body, delivery))
    for error in report.errors:
        out.error(error)
    if not delivered and not report.dry_run and not report.errors:
        out.error(f"/{report.command} could not post anything on the pull request; the job summary has the "
                  "result. The token needs: permissions: pull-requests: write")
    out.outputs(record.outputs(report, path, count))
    code = record.exit_code(report, delivered=delivered)
    state = "dry run" if report.dry_run else "done" if code is ExitCode.OK else "INCOMPLETE"
    out.log(f"qodo-review /{report.command}: {state}.")
    return code
