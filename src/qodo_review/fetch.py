"""Where the PR's diff comes from: GitHub's diff, else its files list, completed from the workspace's checkout.

GitHub is the source of truth. Its diff holds the whole PR up to 300 files or 20,000 lines; past that, its
files list does (at most 3,000 files, the patch of very large files omitted). The workspace's git checkout
is a convenience that fills in only what GitHub leaves out, and an earlier step of the job may have
tampered with it (objects edited in place, a `.git` pointing elsewhere), so what git gives is checked:

- A patch GitHub omitted is taken from git only when both blobs git diffed are the ones GitHub names for
  the file (the head blob's id from the files list, the base blob's from the contents API at GitHub's
  merge base), the bytes git gives hash to those ids (`Git.blobs`), and the +/- counts are GitHub's.
- Files past GitHub's 3,000-file list cannot be checked against GitHub: they are read from git only when
  git's diff agrees with every file GitHub listed and with the PR's totals, and are marked `unverified`.

On any doubt (a blob that does not hash to its name, a `.git` that is not a plain directory of the
workspace, git failing or saying too much) nothing of git's is used, and the log says why.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .diff import RawFile, raw_files_from_api, split_diff
from .errors import DiffError, GitHubError
from .github import MAX_PR_FILES, GitHub
from .gitread import ZERO_ID, Git, GitUnusable, index_ids
from .models import FileStatus, PullRequest, Skipped

__all__ = ["Fetched", "Git", "GitUnusable", "fetch_files", "unlisted_files"]

# Each omitted patch costs one contents request for its base blob's id; past this many the rest stay omitted.
MAX_BASE_LOOKUPS = 100


@dataclass(frozen=True)
class Fetched:
    """The PR's files, where they came from, and what could not be fetched."""

    files: list[RawFile]
    source: str  # said in the job summary
    unlisted: tuple[Skipped, ...] = ()  # files GitHub did not list (past its 3,000-file limit)
    notices: tuple[str, ...] = ()  # for the summary: what changes coverage, and its fix
    log: tuple[str, ...] = ()  # for the log: what the checkout gave, or why it was not used
    seconds: float = 0.0


def fetch_files(github: GitHub, pr: PullRequest, git: Git | None) -> Fetched:
    """The PR's changed files: GitHub's diff; past its limits GitHub's files list, completed from git."""
    start = time.perf_counter()
    text = github.get_diff(pr.number)
    if text is not None:
        return Fetched(split_diff(text), "GitHub's diff", seconds=time.perf_counter() - start)
    rows = github.list_files(pr.number)
    files = raw_files_from_api(rows)
    log: list[str] = []
    past_list = pr.changed_files is not None and pr.changed_files > len(files)
    if git is not None and (past_list or any(f.patch_missing for f in files)):
        try:
            git.check(pr.base_sha, pr.head_sha)
            files, note = complete_from_git(files, head_ids(rows), git, github, pr, past_list=past_list)
            log.append(note)
        except (GitUnusable, DiffError, GitHubError) as exc:
            log.append(f"The git checkout in the workspace was not used ({exc}); only GitHub's files list is.")
    notices: list[str] = []
    if any(f.patch_missing for f in files):
        notices.append(
            f"GitHub omitted the patch of {sum(f.patch_missing for f in files)} large files, so they "
            "were not reviewed. To review them, check the PR out before this step (`actions/checkout` "
            "with `fetch-depth: 0`): qodo-review then reads them from git, checked against GitHub."
        )
    return Fetched(
        files,
        "GitHub's files list (the PR is too large for its diff)",
        unlisted_files(files, pr),
        tuple(notices),
        tuple(log),
        time.perf_counter() - start,
    )


def head_ids(rows: Sequence[object]) -> dict[str, str]:
    """path -> the blob id of its new version, as GitHub's files list gives it (`sha`)."""
    return {
        str(r["filename"]): str(r["sha"])
        for r in rows
        if isinstance(r, dict) and isinstance(r.get("filename"), str) and isinstance(r.get("sha"), str)
    }


def complete_from_git(
    files: list[RawFile], listed: Mapping[str, str], git: Git, github: GitHub, pr: PullRequest, *, past_list: bool
) -> tuple[list[RawFile], str]:
    """The files list with omitted patches recovered (verified) and, past GitHub's list, git's other files
    (unverified). GitUnusable when git disagrees with GitHub or a blob does not hash to its name."""
    missing = [f for f in files if f.patch_missing]
    if past_list:
        local = split_diff(git.diff(pr.base_sha, pr.head_sha))
        agree(local, pr)
        _check_listed(local, files, listed)
    else:
        paths = sorted({p for f in missing for p in (f.path, f.old_path) if p})
        local = split_diff(git.diff(pr.base_sha, pr.head_sha, paths))
    by_path = {f.path: f for f in local}
    recovered = _verified_patches(missing, by_path, listed, git, github, pr)
    out = [recovered.get(f.path, f) for f in files]
    names = {f.path for f in files}
    extra = [replace(f, unverified=True) for f in local if f.path not in names] if past_list else []
    note = (
        (
            f"GitHub omitted the patch of {len(missing)} large files; {len(recovered)} were read from the git "
            "checkout, checked against GitHub's blob ids."
        )
        if missing
        else ""
    )
    if extra:
        note = (note + " " if note else "") + (
            f"{len(extra)} files past GitHub's {MAX_PR_FILES:,}-file list were "
            "read from the git checkout, unverified (GitHub lists no blob ids "
            "for them)."
        )
    return out + extra, note


def _check_listed(local: Sequence[RawFile], files: Sequence[RawFile], listed: Mapping[str, str]) -> None:
    """GitUnusable unless git's diff has every file GitHub listed, with its counts and new blob id."""
    by_path = {f.path: f for f in local}
    for raw in files:
        mine = by_path.get(raw.path)
        if mine is None:
            raise GitUnusable(f"git's diff lacks {raw.path[:200]!r}, which GitHub lists")
        ids = index_ids(mine.text)
        if (mine.added, mine.removed) != (raw.added, raw.removed):
            raise GitUnusable(f"git's counts for {raw.path[:200]!r} are not GitHub's")
        if (
            ids is not None
            and raw.status is not FileStatus.DELETED
            and raw.path in listed
            and ids[1] != listed[raw.path]
        ):
            raise GitUnusable(f"git's blob of {raw.path[:200]!r} is not the one GitHub lists")


def _verified_patches(
    missing: Sequence[RawFile],
    local: Mapping[str, RawFile],
    listed: Mapping[str, str],
    git: Git,
    github: GitHub,
    pr: PullRequest,
) -> dict[str, RawFile]:
    """The omitted patches git can give whose two blobs are GitHub's (ids) and git's bytes hash to them."""
    candidates: dict[str, tuple[RawFile, tuple[str, str]]] = {}
    for raw in missing:
        mine = local.get(raw.path)
        ids = index_ids(mine.text) if mine is not None else None
        if mine is None or ids is None or mine.binary or (mine.added, mine.removed) != (raw.added, raw.removed):
            continue
        deleted = raw.status is FileStatus.DELETED
        if not (ZERO_ID.fullmatch(ids[1]) if deleted else ids[1] == listed.get(raw.path)):
            continue
        candidates[raw.path] = (mine, ids)
    base_sides = {p: mine.old_path or p for p, (mine, ids) in candidates.items() if not ZERO_ID.fullmatch(ids[0])}
    if base_sides:
        merge_base = github.merge_base(pr.base_sha, pr.head_sha)
        for count, (path, old_path) in enumerate(sorted(base_sides.items())):
            theirs = github.blob_sha(old_path, merge_base) if merge_base and count < MAX_BASE_LOOKUPS else None
            if theirs != candidates[path][1][0]:
                del candidates[path]
    git.blobs(i for _, ids in candidates.values() for i in ids if not ZERO_ID.fullmatch(i))  # hashed there
    return {path: mine for path, (mine, _) in candidates.items()}


def agree(files: Sequence[RawFile], pr: PullRequest) -> None:
    """GitUnusable unless git's totals are GitHub's for this PR (same files, same +/- counts)."""
    if pr.changed_files is None or pr.additions is None or pr.deletions is None:
        raise GitUnusable("GitHub did not report the PR's totals to check git's diff against")
    mine = (len(files), sum(f.added for f in files), sum(f.removed for f in files))
    theirs = (pr.changed_files, pr.additions, pr.deletions)
    if mine != theirs:
        raise GitUnusable("git's diff has {} files +{} -{}, GitHub's {} files +{} -{}".format(*mine, *theirs))


def unlisted_files(files: Sequence[RawFile], pr: PullRequest) -> tuple[Skipped, ...]:
    """The files GitHub's list left out (it stops at 3,000), as one not-reviewed entry with their lines."""
    if pr.changed_files is None or pr.changed_files <= len(files):
        return ()
    count = pr.changed_files - len(files)
    lines = max(0, (pr.additions or 0) + (pr.deletions or 0) - sum(f.added + f.removed for f in files))
    name = f"({count} more files)"
    reason = (
        f"GitHub lists at most {MAX_PR_FILES:,} files of a PR; check it out with fetch-depth: 0 to read them from git"
    )
    return (Skipped(name, reason, lines, "not-reviewed", files=count),)
