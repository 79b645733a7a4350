"""The commands a run can execute, one module each, listed in one dict."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ExitCode
from ..session import Session
from . import ask, describe, improve, review
from . import help as help_command

COMMANDS: dict[str, Callable[[Session], ExitCode]] = {
    "review": review.run,
    "describe": describe.run,
    "improve": improve.run,
    "ask": ask.run,
    "help": help_command.run,
}


def run_command(session: Session) -> ExitCode:
    command = COMMANDS.get(session.activity.command)
    if command is None:
        session.out.notice(f"/{session.activity.command} is not available in this version; try /review or /help.")
        return ExitCode.OK
    return command(session)
