"""Anchors: which lines of a parsed file a review comment may point at."""

from __future__ import annotations

from qodo_review.models import FileDiff, Hunk


def new_line_sets(file: FileDiff) -> tuple[frozenset[int], frozenset[int]]:
    """(RIGHT, LEFT): new-side and old-side line numbers inside the file's hunks.

    GitHub accepts a review comment only on a line of the diff (422 "Line could not be resolved"
    otherwise): RIGHT for added and context lines, LEFT for removed and context lines.
    """
    right = frozenset(line.new for hunk in file.hunks for line in hunk.lines if line.new is not None)
    left = frozenset(line.old for hunk in file.hunks for line in hunk.lines if line.old is not None)
    return right, left


def hunk_for(file: FileDiff, line: int, side: str = "RIGHT") -> Hunk | None:
    """The hunk holding `line` on `side` ("RIGHT": new file, "LEFT": old file), or None."""
    upper = side.upper()
    if upper not in ("RIGHT", "LEFT"):
        raise ValueError(f"side must be 'RIGHT' or 'LEFT', not {side!r}")
    for hunk in file.hunks:
        start, length = (hunk.new_start, hunk.new_len) if upper == "RIGHT" else (hunk.old_start, hunk.old_len)
        if start <= line < start + length:
            return hunk
    return None
