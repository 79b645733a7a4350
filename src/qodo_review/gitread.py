"""Read-only access to the workspace's git checkout, which an earlier step of the job may have tampered with.

What this module owns: finding the git program (by its absolute path, never through PATH), accepting a
`.git` only when it is a real directory of the workspace with nothing in it that points elsewhere, running
git with an environment built from scratch and bounded in time, memory and output, and reading blobs whose
content is hashed here, so a name git reports is trusted only when the bytes we read have that name.
What git says is checked against GitHub by fetch.py; this module only makes reading it safe.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from .diff import decode_diff

# The image's git (the Dockerfile copies it to /usr/local/bin), else the system's. Never looked up through
# PATH: an earlier step of the job can set PATH (through $GITHUB_ENV) to run its own `git` instead.
TRUSTED_GIT = ("/usr/local/bin/git", "/usr/bin/git")
# A 33 MB diff (about 1,000 files and 900,000 changed lines) is the largest we benchmark (bench/README.md);
# three times that is still reviewed in memory. Beyond it the API's own limits apply.
MAX_GIT_OUTPUT_BYTES = 100 * 1024 * 1024
# git maps pack windows into memory; with the window and cache limits of HARDENED_CONFIG it needs far less
# than this, so reaching it means something feeds git more than a repository would (a crafted pack).
MAX_GIT_MEMORY_BYTES = 2 * 1024**3
# git writes nothing but its messages, of which 4,000 bytes are read.
MAX_GIT_WRITE_BYTES = 1024 * 1024
# `git diff` of a 3,000-file PR takes about a second; a minute means something is wrong (a huge repository
# on a slow disk, a configuration we did not think of): the API is the better bet then.
GIT_TIMEOUT_SECONDS = 60.0
# A fresh `actions/checkout` of a large repository holds a few hundred entries under .git (packs, refs);
# loose objects of a local history add thousands. More than this is not a checkout we read from.
MAX_GIT_DIR_ENTRIES = 200_000
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1, or SHA-256 repositories
ZERO_ID = re.compile(r"0+")

# The diff options that make git's output the same as GitHub's PR diff whatever the repository's config
# says: three-dot (from the merge base), renames detected, 3 lines of context, git's default algorithm;
# full blob ids in the `index` lines, to check them against GitHub's.
DIFF_OPTIONS = (
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--no-relative",
    "-M",
    "-U3",
    "--inter-hunk-context=0",
    "--diff-algorithm=myers",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--submodule=short",
    "--ignore-submodules=none",
    "-O/dev/null",
    "--full-index",
)
# Command-line config outranks every config file. Each key is one a repository could set to run a
# program from `git diff`, or to change what it shows (core.bigFileThreshold=1 turns every file binary);
# the pack limits keep git's mappings well under MAX_GIT_MEMORY_BYTES.
HARDENED_CONFIG = (
    "core.fsmonitor=false",
    "core.pager=cat",
    "core.attributesFile=/dev/null",
    "core.bigFileThreshold=512m",
    "core.quotePath=true",
    "core.commitGraph=false",
    "diff.renameLimit=1000",
    "diff.suppressBlankEmpty=false",
    "protocol.allow=never",
    "core.packedGitWindowSize=32m",
    "core.packedGitLimit=256m",
    "core.deltaBaseCacheLimit=64m",
    "core.alternateRefsCommand=",
    "core.useReplaceRefs=false",
)
# Files that make git read objects or refs from somewhere else than this .git directory.
ELSEWHERE = ("objects/info/alternates", "commondir")


class GitUnusable(Exception):
    """git cannot (or should not) be used for this run; str() says why, for the log."""


class GitFailed(GitUnusable):
    """git ran and exited with an error (as opposed to not starting, or being stopped)."""


def trusted_git() -> str | None:
    """The first git of TRUSTED_GIT that is a regular executable file, or None."""
    for path in TRUSTED_GIT:
        try:
            info = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and os.access(path, os.X_OK):
            return path
    return None


class Git:
    """Read-only access to a local clone that may have been tampered with: nothing it configures runs.

    - GIT_DIR is given, so there is no repository discovery (and no safe.directory ownership check,
      which only guards discovery: the checkout belongs to the runner's user, the container is root).
    - The environment is built from scratch: no GIT_* variable of the job reaches git.
    - cwd, work tree and index are an empty temporary directory: the PR's .gitattributes (`-diff` would
      hide every line, `diff=driver` would pick a driver) are never read; no index refresh, no fsmonitor.
    - No system or global config; --no-ext-diff/--no-textconv and HARDENED_CONFIG for the repository's.
    - No network: a partial clone would lazily fetch missing blobs through `remote.*.uploadpack` or
      `core.sshCommand`; every transport is disallowed instead (GIT_ALLOW_PROTOCOL empty).
    - No replace refs, no grafts, no alternates: they would swap the objects read.
    - `.git` must be a real directory inside the workspace, without symlinks or special files (`check`).
    """

    def __init__(self, workspace: str, executable: str) -> None:
        self.workspace = workspace
        self.git_dir = os.path.join(workspace, ".git")
        self.executable = executable

    @classmethod
    def find(cls, workspace: str, executable: str | None = None) -> Git | None:
        """A Git for the workspace, or None when it has no `.git` entry or no trusted git is installed.

        executable None means the image's git (TRUSTED_GIT), never one found through PATH; the CLI on a
        developer's machine passes its own. Whether the `.git` found may be read is `check`'s to say."""
        executable = executable or trusted_git()
        if not workspace or executable is None or not os.path.lexists(os.path.join(workspace, ".git")):
            return None
        return cls(workspace, executable)

    def check(self, *shas: str) -> None:
        """GitUnusable unless `.git` is sound and every sha is a commit of this clone."""
        for sha in shas:
            if not _SHA.fullmatch(sha):
                raise GitUnusable(f"{sha[:50]!r} is not a commit id")
        check_git_dir(self.workspace, self.git_dir)
        attributes = os.path.join(self.git_dir, "info", "attributes")
        if os.path.isfile(attributes) and os.path.getsize(attributes) > 0:
            raise GitUnusable(".git/info/attributes could change what git diff shows")
        for sha in shas:
            try:
                self.run(["cat-file", "-e", f"{sha}^{{commit}}"], what="")
            except GitFailed:
                raise GitUnusable(f"commit {sha[:12]} is not in the checkout") from None

    def diff(self, base: str, head: str, paths: Sequence[str] = ()) -> str:
        """`git diff base...head` (from the merge base, like GitHub's PR diff), optionally of some paths."""
        args = ["diff", *DIFF_OPTIONS, f"{base}...{head}"]
        if paths:
            args += ["--", *paths]
        return decode_diff(self.run(args, what="git diff failed"))

    def blobs(self, ids: Iterable[str]) -> dict[str, bytes]:
        """The content of each blob, read with one `git cat-file --batch` and hashed here: GitUnusable
        when one is missing, is not a blob, or its bytes do not hash to its name (a tampered object)."""
        wanted = sorted(set(ids))
        for oid in wanted:
            if not _SHA.fullmatch(oid):
                raise GitUnusable(f"{oid[:50]!r} is not an object id")
        if not wanted:
            return {}
        with tempfile.TemporaryFile() as names:
            names.write("".join(f"{oid}\n" for oid in wanted).encode())
            names.seek(0)
            out = self.run(["cat-file", "--batch"], what="git cat-file failed", stdin=names)
        return parse_batch(out, wanted)

    def run(self, args: Sequence[str], *, what: str, stdin: IO[bytes] | None = None) -> bytes:
        with tempfile.TemporaryDirectory(prefix="qodo-git-") as empty:
            env = git_env(self.executable, self.git_dir, empty)
            config = [arg for item in HARDENED_CONFIG for arg in ("-c", item)]
            command = [self.executable, "--no-pager", *config, *args]
            return bounded_run(command, env, empty, what, stdin)


def git_env(executable: str, git_dir: str, empty: str) -> dict[str, str]:
    """git's whole environment: nothing is inherited (GIT_*, PATH, HOME... of the job never reach git)."""
    return {
        "PATH": os.path.dirname(executable),
        "HOME": empty,
        "XDG_CONFIG_HOME": empty,
        "LC_ALL": "C",
        "GIT_DIR": git_dir,
        "GIT_WORK_TREE": empty,
        "GIT_INDEX_FILE": os.path.join(empty, "index"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_GRAFT_FILE": os.path.join(empty, "grafts"),
        "GIT_ALLOW_PROTOCOL": "",
        "GIT_NO_LAZY_FETCH": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_LITERAL_PATHSPECS": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
    }


def check_git_dir(workspace: str, git_dir: str) -> None:
    """GitUnusable unless `.git` is a real directory inside the workspace holding only directories and
    regular files, none of which makes git read objects from elsewhere.

    A `.git` *file* (`gitdir: …`) or a symlink can point anywhere on the runner; a symlink inside (to
    /dev/zero, to another repository's objects) or a FIFO would make git read what is not this checkout,
    or block. The walk never follows a link and stops at MAX_GIT_DIR_ENTRIES."""
    try:
        info = os.lstat(git_dir)
    except OSError as exc:
        raise GitUnusable(f".git cannot be read ({exc.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        kind = "a symlink" if stat.S_ISLNK(info.st_mode) else "a file (a gitdir pointer)"
        raise GitUnusable(f"the workspace's .git is {kind}, not a directory")
    real_workspace = os.path.realpath(workspace)
    if os.path.dirname(os.path.realpath(git_dir)) != real_workspace:
        raise GitUnusable("the workspace's .git is not inside the workspace")
    count = 0
    stack = [git_dir]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            raise GitUnusable(f"{os.path.relpath(directory, workspace)} cannot be read ({exc.strerror})") from None
        for entry in entries:
            count += 1
            if count > MAX_GIT_DIR_ENTRIES:
                raise GitUnusable(f".git holds more than {MAX_GIT_DIR_ENTRIES:,} entries")
            mode = entry.stat(follow_symlinks=False).st_mode
            where = os.path.relpath(entry.path, workspace)
            if stat.S_ISDIR(mode):
                stack.append(entry.path)
            elif not stat.S_ISREG(mode):
                kind = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
                raise GitUnusable(f"{where} is {kind}")
    for name in ELSEWHERE:
        path = os.path.join(git_dir, name)
        if os.path.isfile(path) and os.path.getsize(path) > 0:
            raise GitUnusable(f".git/{name} would make git read objects from elsewhere")


def blob_id(content: bytes, algorithm: str = "sha1") -> str:
    """The git object name of a blob with this content (`blob <len>\\0<content>`)."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    digest.update(b"blob %d\0" % len(content))
    digest.update(content)
    return digest.hexdigest()


def parse_batch(out: bytes, wanted: Sequence[str]) -> dict[str, bytes]:
    """`git cat-file --batch` output for these names, each content checked against its name."""
    found: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        end = out.find(b"\n", pos)
        header = out[pos:end].decode("ascii", "replace").split() if end >= 0 else []
        if len(header) != 3 or header[0] != oid or header[1] != "blob" or not header[2].isdigit():
            raise GitUnusable(f"object {oid[:12]} is missing or not a blob")
        size = int(header[2])
        content = out[end + 1 : end + 1 + size]
        if len(content) != size or out[end + 1 + size : end + 2 + size] != b"\n":
            raise GitUnusable(f"object {oid[:12]} was cut short")
        if blob_id(content, "sha256" if len(oid) == 64 else "sha1") != oid:
            raise GitUnusable(f"object {oid[:12]} in .git does not hash to its name (it was changed)")
        found[oid] = content
        pos = end + 2 + size
    return found


def index_ids(raw_text: str) -> tuple[str, str] | None:
    """(old, new) blob ids of a `--full-index` diff section's `index` line; None when it has none."""
    for line in raw_text.splitlines():
        if line.startswith(("@@", "--- ", "Binary files")):
            break
        if line.startswith("index "):
            ids = line[6:].split(" ", 1)[0].split("..")
            if len(ids) == 2 and all(_SHA.fullmatch(i) for i in ids):
                return ids[0], ids[1]
    return None


def _limit_resources() -> None:  # pragma: no cover - runs in the child, between fork and exec
    """git's memory and file sizes: the child only calls setrlimit, which takes no lock of this process."""
    resource.setrlimit(resource.RLIMIT_AS, (MAX_GIT_MEMORY_BYTES, MAX_GIT_MEMORY_BYTES))
    # git only reads; what it writes is its error message (stderr is a temporary file)
    resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_GIT_WRITE_BYTES, MAX_GIT_WRITE_BYTES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def bounded_run(
    command: list[str], env: Mapping[str, str], cwd: str, what: str, stdin: IO[bytes] | None = None
) -> bytes:
    """stdout of a command, or GitUnusable when it fails, runs too long, says too much or needs too much
    memory (RLIMIT_AS: the allocation fails and git exits with an error)."""
    with tempfile.TemporaryFile() as errors:
        try:
            proc = subprocess.Popen(
                command,
                env=dict(env),
                cwd=cwd,
                stdin=stdin if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                preexec_fn=_limit_resources,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise GitUnusable(f"git could not start ({getattr(exc, 'strerror', None) or exc})") from None
        timed_out = threading.Event()

        def stop() -> None:
            timed_out.set()
            proc.kill()

        timer = threading.Timer(GIT_TIMEOUT_SECONDS, stop)
        timer.start()
        try:
            assert proc.stdout is not None
            out = proc.stdout.read(MAX_GIT_OUTPUT_BYTES + 1)
            if len(out) > MAX_GIT_OUTPUT_BYTES:
                proc.kill()
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.stdout is not None:
                proc.stdout.close()
        if len(out) > MAX_GIT_OUTPUT_BYTES:
            raise GitUnusable(f"git's output is over {MAX_GIT_OUTPUT_BYTES // 2**20} MB")
        if timed_out.is_set():
            raise GitUnusable(f"{what} (timed out after {GIT_TIMEOUT_SECONDS:.0f} s)")
        if code < 0:
            raise GitUnusable(f"{what} (git was stopped by signal {-code}: a resource limit)")
        if code != 0:
            errors.seek(0)
            lines = errors.read(4000).decode("utf-8", "replace").strip().splitlines() or ["no message"]
            fatal = next((ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[-1])
            raise GitFailed(f"{what}: {fatal[:200]}")
        return out
