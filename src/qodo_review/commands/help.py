"""/help: the commands, what each does, and the effective configuration that matters (never the key)."""

from __future__ import annotations

from ..errors import ExitCode
from ..sanitize import inline_code
from ..session import Session

HELP = """\
| command | what it does |
|---|---|
| `/review` | reviews the changes since the last review (`/review full`: the whole PR) |
| `/describe` | writes the PR description between hidden markers, keeping yours |
| `/improve` | suggests committable code changes |
| `/ask <question>` | answers a question about the PR |
| `/help` | this list |

Only collaborators with write access can run commands."""


def help_text(session: Session) -> str:
    config = session.config
    ignores = ", ".join(inline_code(g) for g in config.ignore) or "defaults only"
    return (f"## qodo-review commands\n\n{HELP}\n\n**Configuration** (base branch `{session.inputs.config_path}` "
            f"and workflow inputs): provider host `{session.settings.host}`, model `{session.settings.model}`, "
            f"fail-on `{config.fail_on.value if config.fail_on else 'none'}`, ignore: {ignores}.\n\n"
            "Docs: the README of qodo-review.")


def run(session: Session) -> ExitCode:
    text = help_text(session)
    if not session.dry_run:
        session.github.create_issue_comment(session.pr.number, session.redactor.redact(text))
    session.out.summary(text)
    return ExitCode.OK
