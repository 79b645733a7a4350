"""Level 2 of the diff stage: one file's section into hunks of numbered lines (only for files that are sent)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from qodo_review.errors import DiffError
from qodo_review.models import FileDiff, Hunk, Line

from .raw import RawFile
from .regions import Region, plain_regions
from .split import _HUNK_RE, _first_hunk, _hunk_lengths, split_diff

# Line(...) goes through the named tuple's Python-level __new__; tuple.__new__ builds the same Line directly,
# twice as fast, in the loop that builds a million of them for a huge PR.
_line = tuple.__new__
_NEW_SIDE_LINE = re.compile(r"^[+ ]([^\n]*)", re.MULTILINE)


def parse_diff(text: str) -> list[FileDiff]:
    """Split and fully parse a whole diff (for small diffs and tests; large ones: split, then pick)."""
    return [parse_file(raw) for raw in split_diff(text)]


def parse_file(raw: RawFile) -> FileDiff:
    """Parse one file's section into hunks of numbered lines; DiffError (naming the file) if malformed."""
    if raw.binary or raw.patch_missing:
        hunks: tuple[Hunk, ...] = ()
        added, removed = raw.added, raw.removed
    else:
        hunks = _parse_hunks(raw)
        added = sum(1 for hunk in hunks for line in hunk.lines if line.kind == "+")
        removed = sum(1 for hunk in hunks for line in hunk.lines if line.kind == "-")
    return FileDiff(
        path=raw.path,
        old_path=raw.old_path,
        status=raw.status,
        hunks=hunks,
        added=added,
        removed=removed,
        patch_missing=raw.patch_missing,
    )


class HunkHeaders(NamedTuple):
    """A file's hunks with their header numbers (what placing a finding on a line needs)."""

    path: str
    hunks: Sequence[Region] | Sequence[Hunk]


def hunk_headers(raw: RawFile) -> HunkHeaders:
    """The file's hunks, read from their headers when the file is plainly well-formed (no Line objects: a
    huge PR's cited files are not parsed again), else parsed (DiffError when malformed)."""
    regions = plain_regions(raw)
    return HunkHeaders(raw.path, regions if regions is not None else parse_file(raw).hunks)


def new_side_texts(raw: RawFile) -> list[str] | None:
    """The texts of the context and added lines of every hunk, in order, as parse_file gives them, read with
    C-speed counts and one regex (no Line objects): what the secret scan of a file left out needs to know
    that it holds no secret. None when a hunk is not plainly well-formed (a CR, an empty context line, a
    cut hunk, text between hunks): then only parse_file gives the exact lines, or the error."""
    regions = plain_regions(raw)
    if regions is None:
        return None
    if not regions:
        return []
    return _NEW_SIDE_LINE.findall(raw.text, regions[0].body)


def _parse_hunks(raw: RawFile) -> tuple[Hunk, ...]:
    start = _first_hunk(raw.text)
    if start == -1:
        return ()
    lines = raw.text[start:].split("\n")  # "\n" only: str.splitlines() also splits at \r, \x0c, \u2028...
    if lines[-1] == "":
        lines.pop()
    offset = raw.text.count("\n", 0, start)  # to report line numbers within the file's section
    hunks: list[Hunk] = []
    i = 0
    while i < len(lines):
        match = _HUNK_RE.match(lines[i]) if lines[i].startswith("@@ ") else None
        if match is None:  # a `\ No newline` marker or garbage between hunks
            i += 1
            continue
        hunk, i = _read_hunk(raw.path, match, lines, i + 1, offset)
        hunks.append(hunk)
    return tuple(hunks)


def _read_hunk(path: str, match: re.Match[str], lines: list[str], i: int, offset: int) -> tuple[Hunk, int]:
    """Read the body of one hunk from lines[i]; return it and the index of the line after it."""
    start = i
    old_len, new_len = _hunk_lengths(match)
    old, new = int(match[1]), int(match[3])
    old_left, new_left = old_len, new_len
    out: list[Line] = []
    append = out.append
    end = len(lines)
    # The common kinds first, with no CR to strip; the rest (CRLF, an empty context line, a `\` marker,
    # garbage, more lines of a kind than the header announces) in the last branch.
    while old_left > 0 or new_left > 0:
        if i >= end:
            raise _hunk_error(path, match, "ends before all the lines its header announces", offset + start - 1)
        line = lines[i]
        kind = line[:1]
        if kind == "+" and new_left > 0 and line[-1:] != "\r":
            append(_line(Line, ("+", None, new, line[1:])))
            new += 1
            new_left -= 1
        elif kind == " " and old_left > 0 and new_left > 0 and line[-1:] != "\r":
            append(_line(Line, (" ", old, new, line[1:])))
            old += 1
            new += 1
            old_left -= 1
            new_left -= 1
        elif kind == "-" and old_left > 0 and line[-1:] != "\r":
            append(_line(Line, ("-", old, None, line[1:])))
            old += 1
            old_left -= 1
        else:
            text = line[1:-1] if line.endswith("\r") else line[1:]
            if kind == "+" and new_left > 0:
                append(Line("+", None, new, text))
                new, new_left = new + 1, new_left - 1
            elif kind == "-" and old_left > 0:
                append(Line("-", old, None, text))
                old, old_left = old + 1, old_left - 1
            elif (kind == " " or line in ("", "\r")) and old_left > 0 and new_left > 0:
                append(Line(" ", old, new, text))  # an empty line is a context line that lost its space
                old, new, old_left, new_left = old + 1, new + 1, old_left - 1, new_left - 1
            elif kind != "\\":
                raise _hunk_error(path, match, f"does not match its header at {line[:40]!r}", offset + i)
        i += 1
    hunk = Hunk(
        old_start=int(match[1]),
        old_len=old_len,
        new_start=int(match[3]),
        new_len=new_len,
        section=match[5].removesuffix("\r"),
        lines=tuple(out),
    )
    return hunk, i


def _hunk_error(path: str, match: re.Match[str], problem: str, line_no: int) -> DiffError:
    header = match[0].split(" @@")[0] + " @@"
    return DiffError(
        f"The diff of {path} is malformed: hunk {header!r} {problem} (line {line_no + 1} of "
        f"the file's diff). Regenerate the diff with `git diff`; a hand-edited diff must keep "
        f"the hunk header counts in step with its lines."
    )
