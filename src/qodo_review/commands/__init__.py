"""The registry: a command is its task plus its channels.

``COMMANDS`` maps a command's name to a ``Command``: ``task`` builds what the model is asked (tasks/; the
CLI runs it as is on a diff), ``prepare`` is the command's own work on a pull request around that task
(the review's incremental scope and state and its thread settling, /ask's thread, /improve's earlier
suggestions; it returns the Outcome and sets the channels' view), and ``channels`` are where the result goes
on GitHub, in order (channels/). The CLI hands the same Outcome to its one channel, the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..channels import Channel, Context, deliver_all
from ..channels.body import Labels, PullBody
from ..channels.check import CheckRun, NoCheck
from ..channels.comment import SuggestionsComment, SummaryComment
from ..channels.inline import InlineReview, Suggestions
from ..channels.outputs import FindingsFile, StepOutputs
from ..channels.reply import Reply
from ..channels.sarif import SarifFile
from ..channels.similar import SimilarReply
from ..channels.summary import JobSummary
from ..errors import ExitCode
from ..github import GitHub
from ..outcome import Outcome
from ..output import Out
from ..redact import Redactor
from ..run import Run
from ..tasks import TASKS, TaskFor
from . import ask, describe, improve, review, similar
from . import help as help_command


@dataclass(frozen=True)
class Command:
    task: TaskFor | None  # None: no model call (/help)
    prepare: Callable[[Context], Outcome[Any]]
    channels: tuple[Channel[Context], ...]


# The endings every command with a result shares: the findings file (with the delivery lines of the channels
# before it), the job summary, the step outputs.
ENDINGS: tuple[Channel[Context], ...] = (FindingsFile(), JobSummary(), StepOutputs())

COMMANDS: dict[str, Command] = {
    "review": Command(
        TASKS["review"],
        review.prepare,
        # The SARIF file after the findings file, so that its failure never costs the findings file.
        (InlineReview(), SummaryComment(), CheckRun(), ENDINGS[0], SarifFile(), *ENDINGS[1:], NoCheck()),
    ),
    "describe": Command(
        TASKS["describe"],
        describe.prepare,
        (PullBody(), Labels(), *ENDINGS),
    ),
    "improve": Command(
        TASKS["improve"],
        improve.prepare,
        (Suggestions(), SuggestionsComment(), *ENDINGS),
    ),
    "ask": Command(
        TASKS["ask"],
        ask.prepare,
        (Reply(), *ENDINGS),
    ),
    "help": Command(None, help_command.prepare, (Reply(), JobSummary(always=True))),
    # No task of its own in TASKS: its one optional model call (the re-rank) is built from the issues it read.
    "similar-issue": Command(None, similar.prepare, (SimilarReply(), *ENDINGS)),
}


def run_command(facts: Run, github: GitHub, out: Out, redactor: Redactor) -> ExitCode:
    """Run a command on the pull request: its task, then each of its channels, each failing alone."""
    command = COMMANDS.get(facts.activity.command)
    if command is None:
        out.notice(f"/{facts.activity.command} is not available in this version; try /review or /help.")
        return ExitCode.OK
    ctx = Context(facts, github, out, redactor, max_inline=facts.config.max_findings)
    outcome = command.prepare(ctx)
    deliver_all(command.channels, outcome, ctx)
    # The review's result is its verdict; a tool that delivered nothing did not run (incomplete).
    return outcome.exit_code(delivered=ctx.delivered or outcome.is_review)
