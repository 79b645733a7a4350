"""The commands a run can execute, one module each, listed in one dict. Each takes the run's facts and,
as parameters, the GitHub client, the output and the redactor."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ExitCode
from ..github import GitHub
from ..output import Out
from ..redact import Redactor
from ..run import Run
from . import ask, describe, improve, review
from . import help as help_command

Command = Callable[[Run, GitHub, Out, Redactor], ExitCode]

COMMANDS: dict[str, Command] = {
    "review": review.run,
    "describe": describe.run,
    "improve": improve.run,
    "ask": ask.run,
    "help": help_command.run,
}


def run_command(facts: Run, github: GitHub, out: Out, redactor: Redactor) -> ExitCode:
    command = COMMANDS.get(facts.activity.command)
    if command is None:
        out.notice(f"/{facts.activity.command} is not available in this version; try /review or /help.")
        return ExitCode.OK
    return command(facts, github, out, redactor)
