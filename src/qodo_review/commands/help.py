"""/help: the commands, what each does, and the effective configuration that matters (never the key)."""

from __future__ import annotations

from typing import Any

from ..channels import Context
from ..channels.views import ReplyView
from ..outcome import Outcome
from ..run import Run
from ..sanitize import inline_code

HELP = """\
| command | what it does |
|---|---|
| `/review` | reviews the changes since the last review (`/review full`: the whole PR) |
| `/describe` | writes the PR description between hidden markers, keeping yours |
| `/improve` | suggests committable code changes |
| `/ask <question>` | answers a question about the PR |
| `/similar_issue` | lists the issues most like this one (also on plain issues) |
| `/help` | this list |

Only collaborators with write access can run commands."""


def help_text(facts: Run) -> str:
    config = facts.config
    ignores = ", ".join(inline_code(g) for g in config.ignore) or "defaults only"
    return (
        f"## qodo-review commands\n\n{HELP}\n\n**Configuration** (base branch `{facts.inputs.config_path}` "
        f"and workflow inputs): provider host `{facts.settings.host}`, model `{facts.settings.model}`, "
        f"fail-on `{config.fail_on.value if config.fail_on else 'none'}`, ignore: {ignores}.\n\n"
        "Docs: the README of qodo-review."
    )


def prepare(ctx: Context) -> Outcome[Any]:
    """No model call: the text, for the reply channel (a comment on the PR) and the job summary."""
    text = help_text(ctx.facts)
    ctx.view = ReplyView("help", text, text, whole=True)
    return Outcome(pr=ctx.facts.pr, command="help", dry_run=ctx.facts.dry_run)
