"""The first level of the diff: one file of a diff, split but not parsed (RawFile)."""

from __future__ import annotations

from dataclasses import dataclass

from qodo_review.models import FileStatus


@dataclass(frozen=True, slots=True)
class RawFile:
    """One file of a diff, split but not parsed: text is its section (header included), "" if none."""

    path: str
    old_path: str | None
    status: FileStatus
    added: int
    removed: int
    text: str
    binary: bool = False
    unverified: bool = False  # read from git beyond GitHub's file list: not checked against GitHub's blob ids
    patch_missing: bool = False  # GitHub's files endpoint omitted the patch (too large)
    mode_only: bool = False  # only the file mode changed (old mode/new mode, no hunks)
    submodule: bool = False  # a gitlink (mode 160000)
    # split_diff counted every hunk's lines against its header, the text has no CR and ends with a newline:
    # diff.regions reads the hunks without counting them again (a change of text must not keep it)
    plain: bool = False

    @property
    def size(self) -> int:
        return len(self.text)

    @property
    def changed(self) -> int:
        return self.added + self.removed
