"""``qodo-review similar-issue --repo OWNER/NAME --issue N``: the action's /similar_issue search from a terminal.

The same search (similar.py) and the same Outcome; the channel is the terminal: the matches as Markdown, or the
findings document as JSON. Nothing is posted. The GitHub token comes from GH_TOKEN or GITHUB_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from collections.abc import Mapping
from typing import IO, Any

from .clock import SYSTEM_CLOCK, Clock
from .config import convert_settings, merge, parse_config_text
from .errors import ConfigError, ExitCode, GitHubError, UsageError
from .outcome import document_prompts
from .providers import resolve_settings
from .redact import Redactor
from .retry import resilient
from .similar import Providers, embedder, search
from .tasks import similar

TOKEN_VARS = ("GH_TOKEN", "GITHUB_TOKEN")
KEY_VARS = ("QODO_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """The subcommand's parser and flags (called by cliargs.build_parser)."""
    p = sub.add_parser("similar-issue", help="list the issues most like one issue (nothing is stored or posted)")
    p.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository, e.g. octo/app")
    p.add_argument("--issue", required=True, type=int, metavar="N", help="the issue (or pull request) number")
    p.add_argument("--api-url", default="", help="GitHub's API (default: GITHUB_API_URL or https://api.github.com)")
    p.add_argument("--config", default="", help="config file with similar-* keys (default: ./.qodo.yml when present)")
    p.add_argument("--max", default="", help="matches to show (similar-max, default 5)")
    p.add_argument("--scan", default="", help="newest issues to read (similar-scan, default 2000)")
    p.add_argument("--embeddings", default="", help="true or an embeddings model: rank with embeddings too")
    p.add_argument("--rerank", action="store_true", help="let the chat model re-rank the top 20 and say why")
    p.add_argument("--provider", default="auto", help="auto, openai, anthropic or openai-compatible")
    p.add_argument("--model", default="", help="chat model for --rerank (default chosen per provider)")
    p.add_argument("--base-url", default="", help="OpenAI-compatible endpoint URL")
    p.add_argument("--api-key", default="", help="provider key (default: QODO_API_KEY or OPENAI_API_KEY)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("--dry-run", action="store_true", help="call no provider; print what would be sent")
    return p  # type: ignore[no-any-return]


def secrets_of(args: argparse.Namespace, env: Mapping[str, str]) -> list[str]:
    """The GitHub token and every provider key: redacted from everything printed."""
    return [v for v in [args.api_key, *(env.get(n, "") for n in (*TOKEN_VARS, *KEY_VARS))] if v]


def run(
    args: argparse.Namespace, env: Mapping[str, str], stdout: IO[str], redactor: Redactor, clock: Clock = SYSTEM_CLOCK
) -> ExitCode:
    from .github import GitHub  # the GitHub side only for this subcommand

    token = next((env[v] for v in TOKEN_VARS if env.get(v)), "")
    if not token:
        raise UsageError(
            "similar-issue reads the issues through GitHub's API: set GH_TOKEN (or GITHUB_TOKEN) to a token."
        )
    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        raise UsageError(f"--repo {args.repo!r}: give OWNER/NAME, e.g. octo/app.")
    if args.issue <= 0:
        raise UsageError(f"--issue {args.issue}: give an issue number like 42.")
    config = merge(_file_config(args.config), _flags(args))
    api_url = (args.api_url or env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    server_url = (env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    key = args.api_key or next((env[v] for v in KEY_VARS if env.get(v)), "")
    # A developer's shell is theirs to trust (proxies, CA bundles); in a workflow step, as for the action.
    trust = env.get("GITHUB_ACTIONS") != "true" or env.get("QODO_USE_PROXY_ENV", "").lower() == "true"
    settings = resolve_settings(args.provider, key, config.model, args.base_url, trust_env=trust)
    dry = args.dry_run or not key
    embeds = not dry and bool(config.similar_embeddings) and settings.kind in ("openai", "openai-compatible")
    providers = Providers(
        settings=settings,
        chat=resilient(settings, clock=clock) if config.similar_rerank and not dry else None,
        embed=embedder(settings, config.similar_embeddings, clock) if embeds else None,
        dry_run=args.dry_run,
    )
    log: list[str] = []
    with GitHub(token, api_url, args.repo, sleep=clock.sleep, clock=clock.now, trust_env=trust) as github:
        try:
            target = github.get_issue(args.issue)
        except GitHubError as exc:
            if exc.status != 404:
                raise
            raise UsageError(f"--issue {args.issue}: not found in {args.repo} (HTTP 404).") from None
        found, outcome = search(
            github, target, config, providers, redactor=redactor, nonce=secrets.token_hex(8), log=log.append
        )
    reply = similar.reply_markdown(found, f"{server_url}/{args.repo}/issues")
    if args.format == "json":
        outcome.payload = {"similar": found.to_json()}
        doc = outcome.findings_document()
        if outcome.dry_run:
            doc["prompts"] = document_prompts(outcome.prompts)
        stdout.write(json.dumps(redactor.redact_data(doc), indent=2, ensure_ascii=False) + "\n")
        return outcome.exit_code()
    text = reply.removeprefix(similar.MARKER).strip()
    if args.dry_run:
        text += "\n\n" + "\n".join(log)
        if outcome.prompts:
            text += "\n\n" + outcome.dry_run_text(show_prompts=True)
    stdout.write(redactor.redact(text) + "\n")
    return outcome.exit_code()


def _file_config(path: str) -> dict[str, Any]:
    path = path or (".qodo.yml" if os.path.exists(".qodo.yml") else "")
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_config_text(fh.read(1_000_000), path)
    except OSError as exc:
        raise UsageError(f"--config {path}: cannot read it ({exc.strerror}).") from None


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    flags = {
        "model": args.model,
        "similar-max": args.max,
        "similar-scan": args.scan,
        "similar-embeddings": args.embeddings,
        "similar-rerank": "true" if args.rerank else "",
    }
    try:
        return convert_settings({k: v for k, v in flags.items() if v}, "flags", is_file=False)
    except ConfigError as exc:
        name = str(exc).split("'")[1] if "'" in str(exc) else ""
        flag = {"similar-max": "max", "similar-scan": "scan", "similar-embeddings": "embeddings"}.get(name, name)
        raise UsageError(str(exc).replace(f"flags: '{name}'", f"--{flag}")) from None
