"""The end of every tool run (describe, improve, ask) in the action: the dry-run printout, the findings
file, the job summary, the step outputs and the exit code, all read from the Outcome (outcome.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from ..engine import Task, run_task
from ..errors import ExitCode
from ..github import GitHub
from ..outcome import Outcome
from ..output import Out, write_json
from ..redact import Redactor
from ..render import tool_summary
from ..run import Run, fetch

T = TypeVar("T")


def call_model(facts: Run, github: GitHub, out: Out, redactor: Redactor, spec: Task[T]) -> Outcome[T]:
    """The tool's model calls over the PR's diff; in a dry run, the prompts printed instead."""
    result = run_task(
        spec,
        facts.pr,
        fetch(facts, github, out).files,
        facts.config,
        caller=facts.provider(),
        redactor=redactor,
        nonce=facts.nonce,
        host=facts.settings.host,
        model=facts.settings.model,
    )
    if facts.dry_run:
        out.log(result.dry_run_text(show_prompts=True))
    return result


def files_url(facts: Run) -> str:
    """The PR's Files tab, the target of every line link (on the repository's own host)."""
    return f"{facts.env.server_url}/{facts.env.repository}/pull/{facts.pr.number}/files"


def finish(
    facts: Run,
    out: Out,
    redactor: Redactor,
    result: Outcome[Any],
    payload: dict[str, Any],
    body: str,
    *,
    delivery: Sequence[str],
    count: int,
    delivered: bool,
) -> ExitCode:
    result.payload, result.delivery = payload, list(delivery)
    path = write_json(facts.env.workspace, facts.inputs.findings_file, result.findings_document(), redactor)
    if "summary" in facts.config.publish or facts.dry_run:
        out.summary(tool_summary(result, body))
    for error in result.errors:
        out.error(error)
    if not delivered and not result.dry_run and not result.errors:
        out.error(
            f"/{result.command} could not post anything on the pull request; the job summary has the "
            "result. The token needs: permissions: pull-requests: write"
        )
    out.outputs(result.outputs(path, count))
    code = result.exit_code(delivered=delivered)
    state = "dry run" if result.dry_run else "done" if code is ExitCode.OK else "INCOMPLETE"
    out.log(f"qodo-review /{result.command}: {state}.")
    return code
