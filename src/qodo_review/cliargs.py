"""The CLI's arguments: one parser per command, each taking only the options it uses, with examples in its
help; errors in the CLI's words (argparse's "invalid choice: ... (choose from ...)"), help to stdout, errors to
stderr, both on the streams main() was given."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any, NoReturn

from . import __version__, cli_similar
from .providers import PROVIDER_KINDS
from .providers.cloud import CLOUD_KINDS

COMMAND_HELP = {
    "describe": "write a description of the change (summary, type, walkthrough, notes)",
    "improve": "suggest concrete code changes for the changed lines",
    "ask": "answer a question about the change (--question)",
}
FAIL_ON = ("none", "critical", "high", "medium", "low")
FORMATS = {"review": ("pretty", "markdown", "json", "sarif")}  # the tools: no SARIF (they have no findings)
TOOL_FORMATS = ("pretty", "markdown", "json")
EXAMPLES = {
    "review": """examples:
  qodo-review review --uncommitted             your changes against HEAD, before you commit
  qodo-review review --staged                  what `git commit` would commit
  qodo-review review --base origin/main        your branch (git diff origin/main...HEAD)
  git diff | qodo-review review --diff -       any unified diff on standard input
  qodo-review review --pr OWNER/REPO#42        a pull request on GitHub (prints; posts nothing)
  qodo-review review --base origin/main --fail-on high --format sarif > qodo.sarif""",
    "describe": """examples:
  qodo-review describe --base origin/main
  qodo-review describe --pr https://github.com/OWNER/REPO/pull/42 --format markdown""",
    "improve": """examples:
  qodo-review improve --uncommitted
  qodo-review improve --diff pr.diff --format json""",
    "ask": """examples:
  qodo-review ask --base origin/main --question "Is the cache invalidated on logout?"
  qodo-review ask --pr OWNER/REPO#42 --question "What could this break?\"""",
}
ENVIRONMENT = """environment:
  QODO_API_KEY, OPENAI_API_KEY, ANTHROPIC_API_KEY   the provider key (or --api-key); none: a dry run
  GH_TOKEN, GITHUB_TOKEN                            GitHub token for --pr (else `gh auth token`)
  GITHUB_API_URL                                    GitHub Enterprise Server's API for --pr
  NO_COLOR                                          no colours in the rendered output
"""


class Parser(argparse.ArgumentParser):
    """argparse writing to the streams main() was given (help to stdout, errors to stderr)."""

    def __init__(self, *args: Any, out: IO[str] | None = None, err: IO[str] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.out, self.err = out, err
        self.commands: dict[str, argparse.ArgumentParser] = {}  # the subcommands' parsers (for `help COMMAND`)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            stream = self.out if file is None or file is sys.stdout else self.err
            (stream or file or sys.stderr).write(message)

    def error(self, message: str) -> NoReturn:
        self.print_usage(self.err or sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_common(common: argparse.ArgumentParser) -> None:
    """The flags every command shares: where the diff comes from, the provider, the config, the caps."""
    source = common.add_argument_group("what to review (one of)").add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", metavar="FILE", help="a unified diff file ('-' reads standard input)")
    source.add_argument("--base", metavar="REF", help="your branch: `git diff REF...HEAD` in the current repository")
    source.add_argument(
        "--uncommitted", action="store_true", help="the working tree and the index against HEAD (not untracked files)"
    )
    source.add_argument("--staged", action="store_true", help="the index against HEAD (what `git commit` would commit)")
    source.add_argument(
        "--pr", metavar="URL", help="a GitHub pull request: https://github.com/OWNER/REPO/pull/N or OWNER/REPO#N"
    )
    model = common.add_argument_group("model")
    model.add_argument(
        "--provider",
        default="auto",
        choices=(*PROVIDER_KINDS, *CLOUD_KINDS),  # a cloud one is taken, then refused with why (cli.run)
        metavar="{" + ",".join(PROVIDER_KINDS) + "}",
        help="default: auto (from the key); the clouds (azure-openai, bedrock, vertex) are the action's",
    )
    model.add_argument("--model", default="", help="model name (default chosen per provider)")
    model.add_argument("--base-url", default="", help="OpenAI- or Anthropic-compatible endpoint URL")
    model.add_argument(
        "--api-key",
        default="",
        help="provider key (default: QODO_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY from the environment)",
    )
    model.add_argument("--fallback-model", default="", help="a second model used when the first keeps failing")
    model.add_argument(
        "--fallback-provider",
        default="",
        choices=("", *PROVIDER_KINDS),
        metavar="{" + ",".join(PROVIDER_KINDS) + "}",
        help="provider of the fallback model (default: the same)",
    )
    model.add_argument("--fallback-base-url", default="", help="endpoint of the fallback model, if not the same")
    model.add_argument(
        "--fallback-api-key",
        default="",
        help="key for the fallback endpoint (default: "
        "QODO_FALLBACK_API_KEY; the first key is reused only for the same endpoint)",
    )
    run = common.add_argument_group("run")
    run.add_argument("--config", default="", help="config file (default: ./.qodo.yml; with --pr, the base branch's)")
    run.add_argument("--max-input-tokens", default="", metavar="N", help="cap on prompt tokens per model call")
    run.add_argument("--max-calls", default="", metavar="N", help="cap on the number of model calls")
    run.add_argument("--title", default="", help="a title for the change, shown to the model")
    run.add_argument(
        "--repo",
        default="",
        metavar="DIR",
        help="git repository whose HEAD gives the related code (default with --base, --uncommitted, --staged: here)",
    )
    run.add_argument(
        "--request-timeout",
        default="",
        metavar="SECONDS",
        help="seconds one model call may take (default 120; a model served on CPUs needs more)",
    )
    run.add_argument("--max-cost", default="", metavar="USD", help="most US dollars the run may spend, e.g. 0.50")
    run.add_argument("--dry-run", action="store_true", help="call no provider; print what would be sent")


def build_parser(out: IO[str] | None = None, err: IO[str] | None = None) -> Parser:
    parser = Parser(
        prog="qodo-review",
        description="AI review of a diff, on your machine. `qodo-review help COMMAND` shows a command's options.",
        epilog=ENVIRONMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        out=out,
        err=err,
    )
    parser.add_argument("--version", action="version", version=f"qodo-review {__version__}")
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
    )
    about = {"review": "review a diff, your uncommitted or staged changes, your branch, or a pull request"}
    for name, text in {**about, **COMMAND_HELP}.items():
        cmd = sub.add_parser(
            name,
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=EXAMPLES[name] + "\n\n" + ENVIRONMENT,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.commands[name] = cmd
        cmd.out, cmd.err = out, err
        _add_common(cmd)
        output = cmd.add_argument_group("output")
        output.add_argument(
            "--format",
            choices=FORMATS.get(name, TOOL_FORMATS),
            default=None,
            help="default: pretty on a terminal, markdown when piped",
        )
        if name == "review":
            output.add_argument(
                "--fail-on",
                default="",
                choices=("", *FAIL_ON),
                metavar="{" + ",".join(FAIL_ON) + "}",
                help="exit 1 when a finding is at least this severe (or a gated review is incomplete)",
            )
        if name == "ask":
            cmd.add_argument("--question", required=True, help="the question about the change")
    similar = cli_similar.add_parser(sub)
    parser.commands["similar-issue"] = similar
    similar.out, similar.err = out, err  # type: ignore[attr-defined]
    helper = sub.add_parser("help", help="show the help of qodo-review or of one command")
    parser.commands["help"] = helper
    helper.out, helper.err = out, err
    helper.add_argument("topic", nargs="?", choices=[*about, *COMMAND_HELP, "similar-issue", "help"], metavar="COMMAND")
    return parser


def elsewhere(parser: Parser, extra: Sequence[str]) -> str:
    """ " (--fail-on is an option of: review)" for a flag another command takes."""
    for arg in extra:
        flag = arg.split("=", 1)[0]
        owners = [n for n, p in parser.commands.items() if flag in p._option_string_actions]
        if flag.startswith("--") and owners:
            return f" ({flag} is an option of: {', '.join(owners)})"
    return ""
