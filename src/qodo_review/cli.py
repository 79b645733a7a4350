"""The local CLI: the same engine on a diff file, standard input, or a git branch.

qodo-review review --diff pr.diff
qodo-review review --base origin/main --format json
qodo-review describe|improve --diff pr.diff
qodo-review ask --base origin/main --question "Why is the cache not invalidated?"
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from . import __version__
from .channels.terminal import Screen, Terminal
from .clock import SYSTEM_CLOCK, Clock
from .config import convert_settings, merge, parse_config_text
from .diff import decode_diff, split_diff
from .engine import run_task
from .errors import ConfigError, ExitCode, QodoError, UsageError
from .models import PullRequest
from .outcome import Outcome
from .providers import resolve_fallback, resolve_settings
from .redact import Redactor
from .retry import resilient
from .review import review_diff
from .tasks import TASKS

if TYPE_CHECKING:
    from .context import Reader

COMMAND_HELP = {
    "describe": "write a description of the change (summary, type, walkthrough, notes)",
    "improve": "suggest concrete code changes for the changed lines",
    "ask": "answer a question about the change (--question)",
}
KEY_VARS = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai-compatible": ("OPENAI_API_KEY",),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qodo-review", description="AI review of a diff, on your machine.")
    parser.add_argument("--version", action="version", version=f"qodo-review {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    review = sub.add_parser("review", help="review a diff file, standard input, or the current branch")
    source = review.add_mutually_exclusive_group(required=True)
    source.add_argument("--diff", metavar="FILE", help="a unified diff file ('-' reads standard input)")
    source.add_argument("--base", metavar="REF", help="review `git diff REF...HEAD` in the current repository")
    review.add_argument("--provider", default="auto", help="auto, openai, anthropic or openai-compatible")
    review.add_argument("--model", default="", help="model name (default chosen per provider)")
    review.add_argument("--base-url", default="", help="OpenAI- or Anthropic-compatible endpoint URL")
    review.add_argument(
        "--api-key",
        default="",
        help="provider key (default: QODO_API_KEY, OPENAI_API_KEY or ANTHROPIC_API_KEY from the environment)",
    )
    review.add_argument("--config", default="", help="review config file (default: ./.qodo.yml when present)")
    review.add_argument("--fail-on", default="", help="none, critical, high, medium or low: exit 1 when met")
    review.add_argument("--max-input-tokens", default="", help="cap on prompt tokens per model call")
    review.add_argument("--max-calls", default="", help="cap on the number of model calls")
    review.add_argument("--title", default="", help="a title for the change, shown to the model")
    review.add_argument("--fallback-model", default="", help="a second model used when the first keeps failing")
    review.add_argument("--fallback-provider", default="", help="provider of the fallback model (default: the same)")
    review.add_argument("--fallback-base-url", default="", help="endpoint of the fallback model, if not the same")
    review.add_argument(
        "--fallback-api-key",
        default="",
        help="key for the fallback endpoint (default: "
        "QODO_FALLBACK_API_KEY; the first key is reused only for the same endpoint)",
    )
    review.add_argument(
        "--repo",
        default="",
        metavar="DIR",
        help="git repository whose HEAD gives the related code of a --diff (default with --base: this one)",
    )
    review.add_argument("--format", choices=("markdown", "json"), default="markdown")
    review.add_argument("--dry-run", action="store_true", help="call no provider; print what would be sent")
    for name, about in COMMAND_HELP.items():  # the tools share every review flag
        tool = sub.add_parser(name, help=about, parents=[review], conflict_handler="resolve")
        if name == "ask":
            tool.add_argument("--question", required=True, help="the question about the change")
    return parser


SECRET_VARS = ("QODO_API_KEY", "QODO_FALLBACK_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def run_secrets(args: argparse.Namespace, env: Mapping[str, str]) -> list[str]:
    """Every key this run could use, whichever is picked: each is redacted from everything printed."""
    keys = [args.api_key, args.fallback_api_key, *(env.get(v, "") for v in SECRET_VARS)]
    keys += [env.get(v, "") for vs in KEY_VARS.values() for v in vs]
    return [k for k in keys if k]


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    *,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    env = os.environ if env is None else env
    stdout = sys.stdout if stdout is None else stdout
    args = build_parser().parse_args(argv)
    redactor = Redactor(run_secrets=run_secrets(args, env))
    # In a workflow step the runner executes workflow commands found in the output (`::cmd::` at a line start,
    # `##[cmd]` anywhere): PR text and the model's answer are printed between ::stop-commands:: and a
    # one-time token, so nothing in them runs (SECURITY.md, "The log").
    guard = secrets.token_hex(16) if env.get("GITHUB_ACTIONS") == "true" else ""
    if guard:
        stdout.write(f"::stop-commands::{guard}\n")
    try:
        return int(run(args, env, stdin or sys.stdin, stdout, redactor, clock))
    except QodoError as exc:
        sys.stderr.write(f"qodo-review: {redactor.redact(str(exc))}\n")
        return int(exc.exit_code)
    finally:
        if guard:
            stdout.write(f"::{guard}::\n")


def _read_diff(args: argparse.Namespace, stdin: IO[str]) -> str:
    if args.diff == "-":
        return stdin.read()
    if args.diff:
        try:
            with open(args.diff, "rb") as fh:
                return decode_diff(fh.read())
        except OSError as exc:
            raise UsageError(f"--diff {args.diff}: cannot read it ({exc.strerror}).") from None
    cmd = ["git", "diff", "--no-ext-diff", "--no-textconv", "--no-color", f"{args.base}...HEAD"]
    try:
        done = subprocess.run(cmd, capture_output=True, check=False)
    except OSError:
        raise UsageError("--base needs git on PATH; or pass a diff file with --diff.") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(
            f"--base {args.base}: git diff failed ({err[0] if err else 'unknown error'}). "
            "Run it inside a git repository with that ref fetched (git fetch origin main)."
        )
    return decode_diff(done.stdout)


def _local_reader(args: argparse.Namespace) -> Reader | None:
    """The local repository whose HEAD gives related code: --repo, else with --base the current one; a --diff
    file alone has none (its new side may be anywhere)."""
    directory = args.repo or ("." if args.base else "")
    if not directory:
        return None
    from .context.source import local_reader

    return local_reader(directory, "--repo" if args.repo else "--base")


def _config(args: argparse.Namespace) -> dict[str, object]:
    path = args.config or (".qodo.yml" if os.path.exists(".qodo.yml") else "")
    file_overrides: dict[str, object] = {}
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                file_overrides = parse_config_text(fh.read(1_000_000), path)
        except OSError as exc:
            raise UsageError(f"--config {path}: cannot read it ({exc.strerror}).") from None
    flags = {
        "model": args.model,
        "fail-on": args.fail_on,
        "max-input-tokens": args.max_input_tokens,
        "max-calls": args.max_calls,
    }
    try:
        overrides = convert_settings({k: v for k, v in flags.items() if v}, "flags", is_file=False)
    except ConfigError as exc:
        raise UsageError(str(exc).replace("flags: '", "--")) from None
    return {"file": file_overrides, "flags": overrides}


def run(
    args: argparse.Namespace,
    env: Mapping[str, str],
    stdin: IO[str],
    stdout: IO[str],
    redactor: Redactor,
    clock: Clock = SYSTEM_CLOCK,
) -> ExitCode:
    layers = _config(args)
    config = merge(layers["file"], layers["flags"])  # type: ignore[arg-type]
    text = _read_diff(args, stdin)
    raw_files = split_diff(text)
    pr = PullRequest(number=0, title=args.title, body="", base_sha="", head_sha="")
    settings_key = args.api_key or env.get("QODO_API_KEY", "")
    probe = resolve_settings(args.provider, settings_key or "x", config.model, args.base_url)
    if not settings_key:
        settings_key = next((env[v] for v in KEY_VARS[probe.kind] if env.get(v)), "")
    # A developer's shell is theirs to trust (proxies, CA bundles); in a workflow step an earlier step may have
    # set them through $GITHUB_ENV, as for the action (input use-proxy-env).
    trust_env = env.get("GITHUB_ACTIONS") != "true" or env.get("QODO_USE_PROXY_ENV", "").lower() == "true"
    settings = resolve_settings(args.provider, settings_key, config.model, args.base_url, trust_env=trust_env)
    fallback = resolve_fallback(
        settings,
        args.fallback_provider,
        args.fallback_api_key or env.get("QODO_FALLBACK_API_KEY", ""),
        args.fallback_model,
        args.fallback_base_url,
    )
    dry = args.dry_run or not settings_key
    provider = None if dry else resilient(settings, fallback, clock=clock)
    nonce, question = secrets.token_hex(8), getattr(args, "question", "")
    related = _local_reader(args) if config.related_code_lines > 0 and raw_files else None
    if args.command == "review":
        outcome: Outcome[Any] = review_diff(
            pr,
            raw_files,
            config,
            provider=provider,
            redactor=redactor,
            nonce=nonce,
            provider_host=settings.host,
            model=settings.model,
            related=related,
        )
    else:
        if args.command == "ask" and not question.strip():
            raise UsageError("qodo-review ask needs a question: --question 'How is the cache invalidated?'")
        outcome = run_task(
            TASKS[args.command](config, nonce, question),
            pr,
            raw_files,
            config,
            caller=provider,
            redactor=redactor,
            nonce=nonce,
            host=settings.host,
            model=settings.model,
            related=related if TASKS[args.command](config, nonce, question).related else None,
        )
    if not raw_files:  # an empty `git diff` is common (nothing committed yet): say so rather than "no findings"
        source = f"--diff {args.diff}" if args.diff else f"git diff {args.base}...HEAD"
        outcome.notices.append(f"The diff is empty ({source}): there is nothing to review.")
    screen = Screen(stdout, redactor, config, args.format, question, args.dry_run, not settings_key)
    Terminal().deliver(outcome, screen)  # the CLI's one channel; the action's are in the registry
    return outcome.exit_code()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
