"""Where related code is read from, at the head commit, reading as little as it can: the Readers.

- ``GitReader``: a git repository that holds the head commit (the workspace's checkout, or the CLI's own
  repository). Object reads only, through gitread's hardened git (no work tree, no config, nothing executed):
  the commit, its trees and the blobs asked for, every object hashed here against its name, so what is read
  is the head commit's content even if an earlier step edited the checkout's objects.
- ``ApiReader``: GitHub's API at the head SHA: the tree listing once, then only the files asked for, in
  parallel, at most ``max_reads`` files and ``max_bytes`` bytes per run.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..errors import GitHubError, UsageError
from ..gitread import Git, GitUnusable

if TYPE_CHECKING:  # the client's import (requests) is the action's, not the CLI's
    from ..github import GitHub

MAX_FILE_BYTES = 1024 * 1024  # a larger file is data or generated: never context (the contents API's own limit)
MAX_GIT_READ_BYTES = 64 * 1024 * 1024  # what a search of a local repository reads at most
MAX_TREE_ENTRIES = 300_000  # paths listed from a repository's tree; a larger one is searched in part
MAX_API_READS = 30  # files read through GitHub's API per run (the tree listing is one request more)
MAX_API_BYTES = 2 * 1024 * 1024
API_THREADS = 8


class GitReader:
    """The repository at ``commit`` from a hardened Git; every file may be searched."""

    searchable = True

    def __init__(self, git: Git, commit: str) -> None:
        self.git, self.commit = git, commit
        self.ids: dict[str, tuple[str, int]] = {}  # path -> (blob id, size unknown: -1)
        self.bytes_read = 0
        self.reads = 0

    def paths(self) -> Sequence[str]:
        """Every file of the commit's tree: the commit and trees read level by level, each object hashed."""
        commit = _objects(self.git, [self.commit])[self.commit]
        if commit[0] != "commit" or not commit[1].startswith(b"tree "):
            raise GitUnusable(f"{self.commit[:12]} is not a commit")
        root = commit[1][5 : commit[1].index(b"\n")].decode("ascii")
        level: list[tuple[str, str]] = [(root, "")]
        width = len(self.commit) // 2
        while level and len(self.ids) < MAX_TREE_ENTRIES:
            found = _objects(self.git, [oid for oid, _ in level])
            following: list[tuple[str, str]] = []
            for oid, prefix in level:
                kind, data = found[oid]
                if kind != "tree":
                    raise GitUnusable(f"object {oid[:12]} is not a tree")
                for mode, name, child in _entries(data, width):
                    path = prefix + name
                    if mode == b"40000":
                        following.append((child, path + "/"))
                    elif mode in (b"100644", b"100755"):
                        self.ids[path] = (child, -1)
            level = following
        return list(self.ids)

    def read(self, paths: Sequence[str]) -> Mapping[str, str]:
        wanted = {p: self.ids[p][0] for p in paths if p in self.ids}
        if not wanted or self.bytes_read >= MAX_GIT_READ_BYTES:
            return {}
        blobs = _objects(self.git, sorted(set(wanted.values())))
        out: dict[str, str] = {}
        for path, oid in wanted.items():
            kind, data = blobs[oid]
            if kind != "blob" or len(data) > MAX_FILE_BYTES or self.bytes_read >= MAX_GIT_READ_BYTES:
                continue
            self.bytes_read += len(data)
            self.reads += 1
            out[path] = data.decode("utf-8", "replace")
        return out


def _entries(data: bytes, width: int) -> list[tuple[bytes, str, str]]:
    """A tree object's (mode, name, object id) entries."""
    out = []
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        oid = data[nul + 1 : nul + 1 + width].hex()
        out.append((data[pos:space], name, oid))
        pos = nul + 1 + width
    return out


def _objects(git: Git, ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
    """(type, content) of each object, read with one `git cat-file --batch` and hashed here: GitUnusable when
    one is missing or its bytes do not hash to its name."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with tempfile.TemporaryFile() as names:
        names.write("".join(f"{oid}\n" for oid in wanted).encode())
        names.seek(0)
        out = git.run(["cat-file", "--batch"], what="git cat-file failed", stdin=names)
    found: dict[str, tuple[str, bytes]] = {}
    pos = 0
    for oid in wanted:
        end = out.find(b"\n", pos)
        header = out[pos:end].decode("ascii", "replace").split() if end >= 0 else []
        if len(header) != 3 or header[0] != oid or not header[2].isdigit():
            raise GitUnusable(f"object {oid[:12]} is missing")
        kind, size = header[1], int(header[2])
        content = out[end + 1 : end + 1 + size]
        digest = hashlib.new("sha256" if len(oid) == 64 else "sha1", usedforsecurity=False)
        digest.update(b"%s %d\0" % (kind.encode(), size))
        digest.update(content)
        if len(content) != size or digest.hexdigest() != oid:
            raise GitUnusable(f"object {oid[:12]} in .git does not hash to its name (it was changed)")
        found[oid] = (kind, content)
        pos = end + 2 + size
    return found


def local_reader(directory: str, flag: str) -> GitReader:
    """The repository holding ``directory`` at its HEAD, for the CLI: the developer's own git (from PATH) and
    own repository, read through the same object reads. UsageError, naming the flag, when it is not one."""
    executable = shutil.which("git")
    if executable is None:
        raise UsageError(f"{flag} needs git on PATH for related code; or set related-code-lines: 0.")
    try:
        done = subprocess.run(
            [executable, "-C", directory, "rev-parse", "--show-toplevel"], capture_output=True, check=False
        )
    except OSError as exc:
        raise UsageError(f"{flag} {directory}: git could not start ({exc.strerror}).") from None
    if done.returncode != 0:
        raise UsageError(
            f"{flag} {directory}: not inside a git repository; pass --repo DIR, or set related-code-lines: 0."
        )
    git = Git(done.stdout.decode("utf-8", "surrogateescape").strip(), executable)
    try:
        head = git.run(["rev-parse", "--verify", "HEAD^{commit}"], what="git rev-parse HEAD failed")
    except GitUnusable as exc:
        raise UsageError(f"{flag} {directory}: {exc}; commit something first, or set related-code-lines: 0.") from None
    return GitReader(git, head.decode("ascii", "replace").strip())


class ApiReader:
    """The repository at ``sha`` through GitHub's API: callers and tests only where the bound allows."""

    searchable = False

    def __init__(
        self, github: GitHub, sha: str, *, max_reads: int = MAX_API_READS, max_bytes: int = MAX_API_BYTES
    ) -> None:
        self.github, self.sha = github, sha
        self.max_reads, self.max_bytes = max_reads, max_bytes
        self.sizes: dict[str, int] = {}
        self.reads = 0
        self.bytes_read = 0
        self.requests = 0
        self.truncated = False
        self._lock = threading.Lock()

    def paths(self) -> Sequence[str]:
        self.requests += 1
        entries, self.truncated = self.github.get_tree(self.sha)
        self.sizes = dict(entries)
        return list(self.sizes)

    def read(self, paths: Sequence[str]) -> Mapping[str, str]:
        chosen: list[str] = []
        for path in paths:
            size = self.sizes.get(path, -1)
            if size < 0 or size > MAX_FILE_BYTES:
                continue
            if self.reads + len(chosen) >= self.max_reads or self.bytes_read + size > self.max_bytes:
                break  # in order of relevance: what does not fit now will not be asked for later either
            chosen.append(path)
            self.bytes_read += size
        self.reads += len(chosen)
        self.requests += len(chosen)
        if not chosen:
            return {}
        with ThreadPoolExecutor(max_workers=min(API_THREADS, len(chosen))) as pool:
            texts = list(pool.map(self._one, chosen))
        return {path: text for path, text in zip(chosen, texts, strict=True) if text is not None}

    def _one(self, path: str) -> str | None:
        try:
            return self.github.get_text(path, self.sha)
        except GitHubError:
            return None  # context is a help, never a reason to fail: a file that cannot be read is left out
