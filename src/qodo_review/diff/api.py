"""Input adapters: diff bytes to text, and GitHub's files endpoint to RawFiles."""

from __future__ import annotations

from typing import Any

from qodo_review.models import FileStatus

from .names import DEV_NULL, _quote
from .raw import RawFile
from .split import _first_hunk, _HunkScan, _scan_hunks


def decode_diff(data: bytes) -> str:
    """Bytes to text: UTF-8, undecodable bytes replaced (never an error), a leading BOM dropped."""
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


_API_STATUS = {
    "added": FileStatus.ADDED,
    "removed": FileStatus.DELETED,
    "modified": FileStatus.MODIFIED,
    "renamed": FileStatus.RENAMED,
    "copied": FileStatus.COPIED,
    "changed": FileStatus.MODIFIED,
    "unchanged": FileStatus.MODIFIED,
}


def raw_files_from_api(entries: list[dict[str, Any]]) -> list[RawFile]:
    """RawFiles from `GET /repos/{o}/{r}/pulls/{n}/files` entries; odd entries are skipped, never fatal.

    GitHub omits `patch` for binary files and for files whose diff is too large; the first have no
    changed lines (binary=True), the second do (patch_missing=True, counts from the API).
    """
    if not isinstance(entries, list):
        return []
    files = (_raw_from_api(entry) for entry in entries if isinstance(entry, dict))
    return [raw for raw in files if raw is not None]


def _raw_from_api(entry: dict[str, Any]) -> RawFile | None:
    path, old, patch = entry.get("filename"), entry.get("previous_filename"), entry.get("patch")
    if not isinstance(path, str) or not path:
        return None
    kind = entry.get("status")
    kind = kind if isinstance(kind, str) else "modified"
    status = _API_STATUS.get(kind, FileStatus.MODIFIED)
    moved = status in (FileStatus.RENAMED, FileStatus.COPIED)
    old = old if moved and isinstance(old, str) and old and old != path else None
    if moved and old is None:  # a rename without its old name is, as far as we can tell, an edit
        status = FileStatus.MODIFIED
    added, removed = _api_count(entry.get("additions")), _api_count(entry.get("deletions"))
    if not isinstance(patch, str) or not patch:
        no_lines = added + removed == 0
        binary = no_lines and kind in ("added", "removed", "modified")
        if binary and status is FileStatus.MODIFIED:
            status = FileStatus.BINARY
        return RawFile(
            path=path,
            old_path=old,
            status=status,
            added=added,
            removed=removed,
            text="",
            binary=binary,
            patch_missing=not no_lines,
            mode_only=no_lines and kind == "changed",
        )
    header = _api_header(path, old, status)
    text = header + patch + ("" if patch.endswith("\n") else "\n")
    scan = _HunkScan()
    start = _first_hunk(text)
    if start != -1:
        _scan_hunks(text, start, len(text), scan)
    return RawFile(path=path, old_path=old, status=status, added=scan.added, removed=scan.removed, text=text)


def _api_count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _api_header(path: str, old: str | None, status: FileStatus) -> str:
    """A git-style header for a patch from the API, so every file's text reads the same to a model.

    No mode lines: the API does not report modes, and an invented `100644` could be wrong.
    """
    source = old or path
    lines = [f"diff --git {_quote('a/' + source)} {_quote('b/' + path)}"]
    if status is FileStatus.RENAMED or status is FileStatus.COPIED:
        verb = "rename" if status is FileStatus.RENAMED else "copy"
        lines += [f"{verb} from {_quote(source)}", f"{verb} to {_quote(path)}"]
    lines.append("--- " + (DEV_NULL if status is FileStatus.ADDED else _quote("a/" + source)))
    lines.append("+++ " + (DEV_NULL if status is FileStatus.DELETED else _quote("b/" + path)))
    return "\n".join(lines) + "\n"
