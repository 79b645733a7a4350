"""Where the CLI's diff comes from: a diff file or standard input, the local git repository (a branch against a
base, the uncommitted changes, the staged ones), or a pull request on GitHub read through the API.

git runs with the diff options and command-line config of ``gitread`` (no external diff or textconv driver, no
fsmonitor, no pager, fixed prefixes), so a repository's config cannot run a program or reshape the diff. A pull
request is read with a token from GH_TOKEN / GITHUB_TOKEN or ``gh auth token``; nothing is ever posted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlsplit

from .diff import decode_diff
from .errors import GitHubError, UsageError
from .gitread import DIFF_OPTIONS, HARDENED_CONFIG

GIT_TIMEOUT_SECONDS = 120.0
GH_TIMEOUT_SECONDS = 20.0
PR_FORMS = "https://github.com/OWNER/REPO/pull/N or OWNER/REPO#N"
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})"
_SHORT = re.compile(rf"({_NAME})/({_NAME})#([0-9]{{1,9}})")
_PATH = re.compile(rf"/({_NAME})/({_NAME})/pulls?/([0-9]{{1,9}})(?:/.*)?")


@dataclass(frozen=True)
class PullRef:
    """A pull request named on the command line: the web host (github.com, or a GitHub Enterprise Server's),
    the repository and the number."""

    host: str
    repo: str
    number: int

    @property
    def api_url(self) -> str:
        return "https://api.github.com" if self.host == "github.com" else f"https://{self.host}/api/v3"

    def __str__(self) -> str:
        return f"{self.repo}#{self.number}"


def parse_pull_ref(text: str) -> PullRef:
    """`https://github.com/OWNER/REPO/pull/N` (any page of it) or `OWNER/REPO#N`; else a UsageError."""
    value = text.strip()
    short = _SHORT.fullmatch(value)
    if short and int(short[3]) > 0:
        return PullRef("github.com", f"{short[1]}/{short[2]}", int(short[3]))
    parts = urlsplit(value if "://" in value else "https://" + value)  # github.com/OWNER/REPO/pull/N too
    path = _PATH.fullmatch(parts.path) if parts.scheme == "https" and parts.hostname else None
    if path is None or int(path[3]) <= 0:
        raise UsageError(f"--pr {value[:200]!r} is not a pull request; give {PR_FORMS}.")
    host = str(parts.hostname)
    return PullRef("github.com" if host == "www.github.com" else host, f"{path[1]}/{path[2]}", int(path[3]))


def github_token(env: Mapping[str, str], host: str) -> str:
    """GH_TOKEN, GITHUB_TOKEN (gh's order), else what `gh auth token` prints; a UsageError saying how when none."""
    for var in ("GH_TOKEN", "GITHUB_TOKEN"):
        if env.get(var, "").strip():
            return env[var].strip()
    gh = shutil.which("gh", path=env.get("PATH"))
    if gh is not None:
        try:
            done = subprocess.run(
                [gh, "auth", "token", "--hostname", host],
                capture_output=True,
                text=True,
                timeout=GH_TIMEOUT_SECONDS,
                env=dict(env),
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            done = None
        token = done.stdout.strip() if done is not None and done.returncode == 0 else ""
        if token and "\n" not in token:
            return token
    raise UsageError(
        "--pr needs a GitHub token that can read the repository: set GH_TOKEN (or GITHUB_TOKEN), "
        "or log in with `gh auth login`."
    )


def not_found(ref: PullRef, api: str, exc: GitHubError) -> UsageError:
    return UsageError(
        f"--pr {ref}: not found at {api} (HTTP {exc.status}). Check the number, and that the token "
        "can read the repository (GH_TOKEN, GITHUB_TOKEN or `gh auth login`)."
    )


# --- local sources -----------------------------------------------------------------------------------------


def read_diff_file(path: str, stdin: IO[str]) -> str:
    if path == "-":
        return stdin.read()
    try:
        with open(path, "rb") as fh:
            return decode_diff(fh.read())
    except OSError as exc:
        raise UsageError(f"--diff {path}: cannot read it ({exc.strerror}).") from None


def git_diff(flag: str, revisions: list[str]) -> str:
    """`git diff` of the repository in the current directory; `flag` names the option in messages."""
    config = [arg for item in HARDENED_CONFIG for arg in ("-c", item)]
    command = ["git", "--no-pager", *config, "diff", *DIFF_OPTIONS, *revisions, "--"]
    try:
        done = subprocess.run(command, capture_output=True, check=False, timeout=GIT_TIMEOUT_SECONDS)
    except OSError:
        raise UsageError(f"{flag} needs git on PATH; or pass a diff file with --diff.") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"{flag}: git diff took longer than {GIT_TIMEOUT_SECONDS:.0f} s.") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        first = err[0] if err else "unknown error"
        fix = (
            "Run it inside a git repository with that ref fetched (git fetch origin main)."
            if flag.startswith("--base")
            else "Run it inside a git repository with at least one commit."
        )
        raise UsageError(f"{flag}: git diff failed ({first}). {fix}")
    return decode_diff(done.stdout)


def local_source(diff: str | None, base: str | None, uncommitted: bool, staged: bool) -> tuple[list[str], str]:
    """(git diff's revision arguments, what the source is called) for the git sources; ([], "") otherwise."""
    if base:
        return [f"{base}...HEAD"], f"git diff {base}...HEAD"
    if uncommitted:  # the working tree and the index against HEAD
        return ["HEAD"], "the uncommitted changes (git diff HEAD)"
    if staged:
        return ["--cached", "HEAD"], "the staged changes (git diff --cached HEAD)"
    return [], f"--diff {diff}"
