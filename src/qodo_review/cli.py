"""The local CLI: the same engine on a diff file, standard input, the local git repository or a GitHub pull request.

qodo-review review --uncommitted
qodo-review review --base origin/main --format json
qodo-review review --pr https://github.com/OWNER/REPO/pull/42
qodo-review describe|improve --diff pr.diff
qodo-review ask --base origin/main --question "Why is the cache not invalidated?"
qodo-review similar-issue --repo OWNER/NAME --issue 42   (cli_similar.py)

Results go to stdout (rendered on a terminal, Markdown when piped, or --format json|sarif); errors and
progress to stderr. Exit codes are the action's: 0 done, 1 the gate failed, 2 usage, 3 incomplete or an
internal error (never 1).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any

from . import cli_similar
from .channels.terminal import Screen, Terminal
from .cliargs import build_parser, elsewhere
from .clock import SYSTEM_CLOCK, Clock
from .config import ReviewConfig, convert_settings, merge, parse_config_text
from .cost import cost_cap
from .diff import RawFile, split_diff
from .engine import run_task
from .errors import ConfigError, ExitCode, GitHubError, QodoError, UsageError
from .guidance import MAX_RULE_FILE_BYTES, with_rule_files
from .models import PullRequest
from .outcome import Outcome
from .progress import StatusLine
from .providers import resolve_fallback, resolve_settings
from .providers.cloud import CLOUD_KINDS
from .redact import Redactor
from .retry import resilient
from .review import review_diff
from .sources import PullRef, git_diff, github_token, local_source, not_found, parse_pull_ref, read_diff_file
from .tasks import TASKS

if TYPE_CHECKING:  # --pr only: GitHub's client (and requests) are imported when a pull request is read
    from .context import Reader
    from .fetch import Fetched

KEY_VARS = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    # None: an OpenAI key belongs to OpenAI, not to another endpoint; a local server often needs no key at all.
    "openai-compatible": (),
}


SECRET_VARS = (
    "QODO_API_KEY",
    "QODO_FALLBACK_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GH_TOKEN",
    "GITHUB_TOKEN",
)


def run_secrets(args: argparse.Namespace, env: Mapping[str, str]) -> list[str]:
    """Every key this run could use, whichever is picked: each is redacted from everything printed."""
    if args.command == "similar-issue":
        return cli_similar.secrets_of(args, env)
    keys = [args.api_key, args.fallback_api_key, *(env.get(v, "") for v in SECRET_VARS)]
    keys += [env.get(v, "") for vs in KEY_VARS.values() for v in vs]
    return [k for k in keys if k]


def cli_words(message: str) -> str:
    """The engine's messages name the action's inputs (`Input 'base-url'`); here they are flags. Only such
    messages are reworded: a config file's own errors name its keys, which are not flags."""
    if not message.startswith("Input '"):
        return message
    message = re.sub(r"\(with: ([a-z-]+): \$\{\{[^)]*\}\}\)", r"(--\1)", message)
    message = re.sub(r"\(with: ([a-z-]+): ([^)\s]+)\)", r"(--\1 \2)", message)
    message = re.sub(r"Input '([a-z-]+)'", r"--\1", message)
    return re.sub(r"'(base-url|model|provider|fallback-[a-z-]+|api-key)'", r"--\1", message)


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    *,
    stderr: IO[str] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """The CLI's one error boundary: a usage problem exits 2 with a message naming the flag, an incomplete run
    3, an internal error 3 with a redacted trace (never 1: that is the gate's)."""
    env = os.environ if env is None else env
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    parser = build_parser(stdout, stderr)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # said by the command's parser, with the command that has the option, if one does
            parser.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}{elsewhere(parser, extra)}")
    except SystemExit as exc:  # --help, --version, or a usage error argparse has printed
        return int(exc.code or 0) if isinstance(exc.code, int | None) else int(ExitCode.USAGE)
    if args.command == "help":
        (parser.commands[args.topic] if args.topic else parser).print_help()
        return int(ExitCode.OK)
    redactor = Redactor(run_secrets=run_secrets(args, env))
    # In a workflow step the runner executes workflow commands found in the output (`::cmd::` at a line start,
    # `##[cmd]` anywhere): PR text and the model's answer are printed between ::stop-commands:: and a
    # one-time token, so nothing in them runs (SECURITY.md, "The log").
    guard = secrets.token_hex(16) if env.get("GITHUB_ACTIONS") == "true" else ""
    if guard:
        stdout.write(f"::stop-commands::{guard}\n")
    progress = StatusLine(stderr) if _isatty(stderr) else None
    try:
        token = ""
        if getattr(args, "pr", None):  # similar-issue reads its own token (cli_similar)
            ref = parse_pull_ref(args.pr)
            token = github_token(env, ref.host)
            redactor = Redactor(run_secrets=[*run_secrets(args, env), token])
        return int(run(args, env, stdin or sys.stdin, stdout, redactor, clock, progress=progress, token=token))
    except QodoError as exc:
        _close(progress)
        stderr.write(f"qodo-review: {cli_words(redactor.redact(str(exc)))}\n")
        return int(exc.exit_code)
    except KeyboardInterrupt:
        _close(progress)
        stderr.write("qodo-review: interrupted.\n")
        return 130
    except Exception as exc:  # a bug of ours: said plainly, with a redacted trace for the report
        _close(progress)
        stderr.write(
            f"qodo-review: internal error ({type(exc).__name__}); the review did not complete. "
            "Please report it with this trace:\n" + redactor.redact("".join(traceback.format_exception(exc)))
        )
        return int(ExitCode.INCOMPLETE)
    finally:
        _close(progress)
        if guard:
            stdout.write(f"::{guard}::\n")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _local_reader(args: argparse.Namespace) -> Reader | None:
    """The local repository whose HEAD gives related code: --repo, else with --base, --uncommitted or --staged
    the current one; a --diff file or a --pr alone has none here (its new side may be anywhere)."""
    directory = args.repo or ("." if args.base or args.uncommitted or args.staged else "")
    if not directory:
        return None
    from .context.source import local_reader

    return local_reader(directory, "--repo" if args.repo else "--base")


def _git_reader(ref: str) -> Callable[[str], str | None]:
    """A file's text at ``ref`` in the current repository (None when it is not there); at most 1 MB, as the
    action reads through the contents API."""

    def read(path: str) -> str | None:
        cmd = ["git", "--no-pager", "cat-file", "blob", f"{ref}:{path}"]
        try:
            done = subprocess.run(cmd, capture_output=True, check=False)
        except OSError:
            return None
        if done.returncode != 0:
            return None
        if len(done.stdout) > MAX_RULE_FILE_BYTES:
            raise UsageError(f"it is {len(done.stdout)} bytes; files over {MAX_RULE_FILE_BYTES} are not read")
        return done.stdout.decode("utf-8", "replace")

    return read


def _close(progress: StatusLine | None) -> None:
    if progress is not None:
        progress.close()


def _flags(args: argparse.Namespace) -> dict[str, object]:
    flags = {
        "model": args.model,
        "fail-on": getattr(args, "fail_on", ""),
        "max-input-tokens": args.max_input_tokens,
        "max-calls": args.max_calls,
        "request-timeout": args.request_timeout,
        "max-cost": args.max_cost,
    }
    try:
        return convert_settings({k: v for k, v in flags.items() if v}, "flags", is_file=False)
    except ConfigError as exc:
        raise UsageError(re.sub(r"flags: '([a-z-]+)'", r"--\1", str(exc))) from None


def _config_file(path: str) -> dict[str, object]:
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_config_text(fh.read(1_000_000), path)
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc.strerror}).") from None


def _local(args: argparse.Namespace, stdin: IO[str]) -> tuple[PullRequest, list[RawFile], str, ReviewConfig]:
    path = args.config or (".qodo.yml" if os.path.exists(".qodo.yml") else "")
    config = merge(_config_file(path) if path else {}, _flags(args))
    revisions, source = local_source(args.diff, args.base, args.uncommitted, args.staged)
    flag = "--base " + args.base if args.base else "--uncommitted" if args.uncommitted else "--staged"
    text = git_diff(flag, revisions) if revisions else read_diff_file(args.diff, stdin)
    # the team's rule files from the base ref, as the action reads them from the base commit (HEAD for changes
    # not committed yet: never the working tree's or the index's own edits of them)
    base = args.base or ("HEAD" if args.uncommitted or args.staged else "")
    if base:
        config = with_rule_files(config, _git_reader(base))
    pr = PullRequest(number=0, title=args.title, body="", base_sha="", head_sha="")
    return pr, split_diff(text), source, config


def _pull(
    args: argparse.Namespace, env: Mapping[str, str], token: str, clock: Clock, progress: StatusLine | None
) -> tuple[PullRequest, list[RawFile], str, ReviewConfig, Fetched]:
    """The pull request, its files (as the action reads them, without a checkout) and its config: --config,
    else the base branch's .qodo.yml."""
    from .fetch import fetch_files
    from .github import GitHub

    ref: PullRef = parse_pull_ref(args.pr)
    api = (env.get("GITHUB_API_URL") or ref.api_url).rstrip("/")
    trust_env = env.get("GITHUB_ACTIONS") != "true" or env.get("QODO_USE_PROXY_ENV", "").lower() == "true"
    with GitHub(token, api, ref.repo, sleep=clock.sleep, clock=clock.now, trust_env=trust_env) as github:
        try:
            pr = github.get_pull(ref.number)
        except GitHubError as exc:
            if exc.status in (401, 403, 404):
                raise not_found(ref, api, exc) from None
            raise
        if args.title:
            pr = replace(pr, title=args.title)
        if args.config:
            file_layer = _config_file(args.config)
        else:
            text = github.get_text(".qodo.yml", pr.base_sha)
            file_layer = parse_config_text(text, f".qodo.yml of {ref} (base branch)") if text else {}
        config = merge(file_layer, _flags(args))
        # the team's rule files from the base commit, as the action reads them
        config = with_rule_files(config, lambda path: github.get_text(path, pr.base_sha))
        fetched = fetch_files(github, pr, None)
    if progress is not None:
        progress.read(len(fetched.files), str(ref))
    return pr, fetched.files, f"{ref} ({fetched.source})", config, fetched


def run(
    args: argparse.Namespace,
    env: Mapping[str, str],
    stdin: IO[str],
    stdout: IO[str],
    redactor: Redactor,
    clock: Clock = SYSTEM_CLOCK,
    *,
    progress: StatusLine | None = None,
    token: str = "",
) -> ExitCode:
    if args.command == "similar-issue":
        return cli_similar.run(args, env, stdout, redactor, clock)
    if args.provider.strip().lower() in CLOUD_KINDS:
        raise UsageError(
            f"--provider {args.provider} is available in the GitHub Action only, where its credentials come from "
            "the workflow (README: Your own cloud); on your machine use openai, anthropic or openai-compatible."
        )
    fetched = None
    if args.pr:
        pr, raw_files, source, config, fetched = _pull(args, env, token, clock, progress)
    else:
        pr, raw_files, source, config = _local(args, stdin)
        if progress is not None:
            progress.read(len(raw_files), "")
    redactor.allow(config.allow_secrets)  # the config's public test values, as the action allows them
    settings_key = args.api_key or env.get("QODO_API_KEY", "")
    probe = resolve_settings(args.provider, settings_key or "x", config.model, args.base_url)
    if not settings_key:
        settings_key = next((env[v] for v in KEY_VARS.get(probe.kind, ()) if env.get(v)), "")
    # A developer's shell is theirs to trust (proxies, CA bundles); in a workflow step an earlier step may have
    # set them through $GITHUB_ENV, as for the action (input use-proxy-env).
    trust_env = env.get("GITHUB_ACTIONS") != "true" or env.get("QODO_USE_PROXY_ENV", "").lower() == "true"
    settings = resolve_settings(args.provider, settings_key, config.model, args.base_url, trust_env=trust_env)
    settings = replace(settings, timeout=config.request_timeout)
    fallback = resolve_fallback(
        settings,
        args.fallback_provider,
        args.fallback_api_key or env.get("QODO_FALLBACK_API_KEY", ""),
        args.fallback_model,
        args.fallback_base_url,
    )
    # An openai-compatible server is called without a key when none is given (Ollama, vLLM, llama.cpp need none).
    no_key = not settings_key and settings.kind != "openai-compatible"
    dry = args.dry_run or no_key
    if not dry:
        # A cap on a model of unknown price (the primary's or the fallback's): a usage error now.
        cost_cap([settings.model] + ([fallback.model] if fallback else []), config.max_cost, config.prices)
    provider = None if dry else resilient(settings, fallback, clock=clock)
    nonce, question = secrets.token_hex(8), getattr(args, "question", "")
    related = _local_reader(args) if config.related_code_lines > 0 and raw_files else None
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
            progress=progress,
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
            progress=progress,
            related=related if TASKS[args.command](config, nonce, question).related else None,
        )
    if fetched is not None:
        from .run import record_fetch

        record_fetch(outcome, fetched)
    if not raw_files:  # an empty `git diff` is common (nothing committed yet): say so rather than "no findings"
        outcome.notices.append(f"The diff is empty ({source}): there is nothing to review.")
    _close(progress)  # the status line goes before the results are printed
    fmt = args.format or ("pretty" if _isatty(stdout) else "markdown")
    color = (_isatty(stdout) and not env.get("NO_COLOR")) or bool(env.get("FORCE_COLOR"))
    screen = Screen(
        stdout, redactor, config, fmt, question, args.dry_run, no_key, width=_width(env, stdout), color=color
    )
    Terminal().deliver(outcome, screen)  # the CLI's one channel; the action's are in the registry
    return outcome.exit_code()


def _width(env: Mapping[str, str], stdout: IO[str]) -> int:
    """COLUMNS when set (as rich and most tools read it), else the terminal's, else 100; between 40 and 200."""
    columns = env.get("COLUMNS", "")
    if columns.isdigit():
        width = int(columns)
    elif _isatty(stdout):
        width = shutil.get_terminal_size((100, 24)).columns
    else:
        width = 100
    return max(40, min(200, width))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
