"""Where the PR's diff comes from: the workspace's git checkout, else GitHub's diff, else its files list.

The checkout is the fastest source and has no API limits, but it may have been touched by code from
the PR (an earlier step of the job), so git runs read-only and hardened (see `Git`), and its result is
used only when it agrees with the totals GitHub reports for the PR. On any doubt: the API.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .diff import RawFile, decode_diff, raw_files_from_api, split_diff
from .errors import DiffError
from .github import MAX_PR_FILES, GitHub
from .models import PullRequest, Skipped

# A 33 MB diff (about 1,000 files and 900,000 changed lines) is the largest we benchmark (bench/README.md);
# three times that is still reviewed in memory. Beyond it the API's own limits apply.
MAX_GIT_DIFF_BYTES = 100 * 1024 * 1024
# `git diff` of a 3,000-file PR takes about a second; a minute means something is wrong (a huge repository
# on a slow disk, a configuration we did not think of): the API is the better bet then.
GIT_TIMEOUT_SECONDS = 60.0
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories

# The diff options that make git's output the same as GitHub's PR diff whatever the repository's config
# says: three-dot (from the merge base), renames detected, 3 lines of context, git's default algorithm.
DIFF_OPTIONS = (
    "--no-ext-diff", "--no-textconv", "--no-color", "--no-relative", "-M", "-U3", "--inter-hunk-context=0",
    "--diff-algorithm=myers", "--src-prefix=a/", "--dst-prefix=b/", "--submodule=short",
    "--ignore-submodules=none", "-O/dev/null",
)
# Command-line config outranks every config file. Each key is one a repository could set to run a
# program from `git diff`, or to change what it shows (core.bigFileThreshold=1 turns every file binary).
HARDENED_CONFIG = (
    "core.fsmonitor=false", "core.pager=cat", "core.attributesFile=/dev/null", "core.bigFileThreshold=512m",
    "core.quotePath=true", "core.commitGraph=false", "diff.renameLimit=1000", "diff.suppressBlankEmpty=false",
    "protocol.allow=never",
)


@dataclass(frozen=True)
class Fetched:
    """The PR's files, where they came from, and what could not be fetched."""

    files: list[RawFile]
    source: str  # said in the job summary
    unlisted: tuple[Skipped, ...] = ()  # files GitHub did not list (past its 3,000-file limit)
    notices: tuple[str, ...] = ()  # for the summary: what changes coverage, and its fix
    log: tuple[str, ...] = ()  # for the log: why the checkout was not used
    seconds: float = 0.0


class GitUnusable(Exception):
    """git cannot (or should not) be used for this run; str() says why, for the log."""


class Git:
    """Read-only access to a local clone that may have been tampered with: nothing it configures runs.

    - GIT_DIR is given, so there is no repository discovery (and no safe.directory ownership check,
      which only guards discovery: the checkout belongs to the runner's user, the container is root).
    - cwd, work tree and index are an empty temporary directory: the PR's .gitattributes (`-diff` would
      hide every line, `diff=driver` would pick a driver) are never read; no index refresh, no fsmonitor.
    - No system or global config; --no-ext-diff/--no-textconv and HARDENED_CONFIG for the repository's.
    - No network: a partial clone would lazily fetch missing blobs through `remote.*.uploadpack` or
      `core.sshCommand`; every transport is disallowed instead (GIT_ALLOW_PROTOCOL empty).
    - No replace refs, no grafts: they would swap the commits compared.
    """

    def __init__(self, workspace: str, executable: str) -> None:
        self.git_dir = os.path.join(workspace, ".git")
        self.executable = executable

    @classmethod
    def find(cls, workspace: str) -> Git | None:
        """A Git for the workspace, or None when it holds no checkout or git is not installed."""
        executable = shutil.which("git")
        if not workspace or executable is None or not os.path.exists(os.path.join(workspace, ".git")):
            return None
        return cls(workspace, executable)

    def check(self, *shas: str) -> None:
        """GitUnusable unless every sha is a commit of this clone and nothing would change the diff."""
        for sha in shas:
            if not _SHA.fullmatch(sha):
                raise GitUnusable(f"{sha[:50]!r} is not a commit id")
        attributes = os.path.join(self.git_dir, "info", "attributes")
        if os.path.isfile(attributes) and os.path.getsize(attributes) > 0:
            raise GitUnusable(".git/info/attributes could change what git diff shows")
        for sha in shas:
            try:
                self.run(["cat-file", "-e", f"{sha}^{{commit}}"], what="")
            except GitUnusable:
                raise GitUnusable(f"commit {sha[:12]} is not in the checkout") from None

    def diff(self, base: str, head: str, paths: Sequence[str] = ()) -> str:
        """`git diff base...head` (from the merge base, like GitHub's PR diff), optionally of some paths."""
        args = ["diff", *DIFF_OPTIONS, f"{base}...{head}"]
        if paths:
            args += ["--", *paths]
        return decode_diff(self.run(args, what="git diff failed"))

    def run(self, args: Sequence[str], *, what: str) -> bytes:
        with tempfile.TemporaryDirectory(prefix="qodo-git-") as empty:
            env = {
                "PATH": os.path.dirname(self.executable), "HOME": empty, "XDG_CONFIG_HOME": empty, "LC_ALL": "C",
                "GIT_DIR": self.git_dir, "GIT_WORK_TREE": empty, "GIT_INDEX_FILE": os.path.join(empty, "index"),
                "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_ATTR_NOSYSTEM": "1",
                "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.path.join(empty, "grafts"),
                "GIT_ALLOW_PROTOCOL": "", "GIT_NO_LAZY_FETCH": "1", "GIT_TERMINAL_PROMPT": "0",
                "GIT_OPTIONAL_LOCKS": "0", "GIT_LITERAL_PATHSPECS": "1", "GIT_PAGER": "cat", "PAGER": "cat",
            }
            config = [arg for item in HARDENED_CONFIG for arg in ("-c", item)]
            command = [self.executable, "--no-pager", *config, *args]
            return _bounded_run(command, env, empty, what)


def _bounded_run(command: list[str], env: dict[str, str], cwd: str, what: str) -> bytes:
    """stdout of a command, or GitUnusable when it fails, runs too long or says too much."""
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise GitUnusable(f"git could not start ({exc.strerror})") from None
        timer = threading.Timer(GIT_TIMEOUT_SECONDS, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            out = proc.stdout.read(MAX_GIT_DIFF_BYTES + 1)
            if len(out) > MAX_GIT_DIFF_BYTES:
                proc.kill()
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.stdout is not None:
                proc.stdout.close()
        if len(out) > MAX_GIT_DIFF_BYTES:
            raise GitUnusable(f"the diff is over {MAX_GIT_DIFF_BYTES // 2**20} MB")
        if code < 0:
            raise GitUnusable(f"{what} (timed out after {GIT_TIMEOUT_SECONDS:.0f} s)")
        if code != 0:
            errors.seek(0)
            lines = errors.read(4000).decode("utf-8", "replace").strip().splitlines() or ["no message"]
            fatal = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1])
            raise GitUnusable(f"{what}: {fatal[:200]}")
        return out


def fetch_files(github: GitHub, pr: PullRequest, git: Git | None) -> Fetched:
    """The PR's changed files: git when it holds both commits and agrees with GitHub, else the API.

    The diff media type first; GitHub refuses it (406) above 300 files or 20,000 lines, and then the
    files endpoint (up to 3,000 files, large patches omitted) is used. Omitted patches are recovered
    from git when the checkout has the commits.
    """
    start = time.perf_counter()
    log: list[str] = []
    usable = False
    if git is not None:
        try:
            git.check(pr.base_sha, pr.head_sha)
            usable = True
            files = split_diff(git.diff(pr.base_sha, pr.head_sha))
            _agree(files, pr)
            return Fetched(files, "the workspace's git checkout", seconds=time.perf_counter() - start)
        except (GitUnusable, DiffError) as exc:
            log.append(f"The git checkout in the workspace was not used ({exc}); reading the diff from the API.")
    text = github.get_diff(pr.number)
    if text is not None:
        return Fetched(split_diff(text), "GitHub's diff", log=tuple(log), seconds=time.perf_counter() - start)
    files = raw_files_from_api(github.list_files(pr.number))
    notices: list[str] = []
    if usable and git is not None and any(f.patch_missing for f in files):
        files, note = recover_patches(files, git, pr)
        log.append(note)
    if any(f.patch_missing for f in files):
        notices.append(f"GitHub omitted the patch of {sum(f.patch_missing for f in files)} large files, so they "
                       "were not reviewed. To review them, check the PR out before this step (`actions/checkout` "
                       "with `fetch-depth: 0`): qodo-review then reads the diff from git.")
    return Fetched(files, "GitHub's files list (the PR is too large for its diff)", unlisted_files(files, pr),
                   tuple(notices), tuple(log), time.perf_counter() - start)


def _agree(files: Sequence[RawFile], pr: PullRequest) -> None:
    """GitUnusable unless git's totals are GitHub's for this PR (same files, same +/- counts)."""
    if pr.changed_files is None or pr.additions is None or pr.deletions is None:
        raise GitUnusable("GitHub did not report the PR's totals to check git's diff against")
    mine = (len(files), sum(f.added for f in files), sum(f.removed for f in files))
    theirs = (pr.changed_files, pr.additions, pr.deletions)
    if mine != theirs:
        raise GitUnusable("git's diff has {} files +{} -{}, GitHub's {} files +{} -{}".format(*mine, *theirs))


def recover_patches(files: list[RawFile], git: Git, pr: PullRequest) -> tuple[list[RawFile], str]:
    """Files whose patch GitHub omitted, diffed by git instead (one git run for all of them).

    A recovered file is used only when its +/- counts are the ones GitHub reported for it.
    """
    missing = [f for f in files if f.patch_missing]
    paths = sorted({p for f in missing for p in (f.path, f.old_path) if p})
    try:
        found = {f.path: f for f in split_diff(git.diff(pr.base_sha, pr.head_sha, paths))}
    except (GitUnusable, DiffError) as exc:
        return files, f"GitHub omitted the patch of {len(missing)} large files and git could not diff them ({exc})."
    out, recovered = [], 0
    for raw in files:
        local = found.get(raw.path) if raw.patch_missing else None
        if local is not None and (local.added, local.removed) == (raw.added, raw.removed) and not local.binary:
            out.append(local)
            recovered += 1
        else:
            out.append(raw)
    return out, f"GitHub omitted the patch of {len(missing)} large files; {recovered} were read from the git checkout."


def unlisted_files(files: Sequence[RawFile], pr: PullRequest) -> tuple[Skipped, ...]:
    """The files GitHub's list left out (it stops at 3,000), as one not-reviewed entry with their lines."""
    if pr.changed_files is None or pr.changed_files <= len(files):
        return ()
    count = pr.changed_files - len(files)
    lines = max(0, (pr.additions or 0) + (pr.deletions or 0) - sum(f.added + f.removed for f in files))
    name = f"({count} more files)"
    reason = f"GitHub lists at most {MAX_PR_FILES:,} files of a PR; check it out with fetch-depth: 0 to read them " \
             "from git"
    return (Skipped(name, reason, lines, "not-reviewed", files=count),)
