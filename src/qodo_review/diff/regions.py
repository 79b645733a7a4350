"""A file's hunks read from its raw text without Line objects: what rendering, placement and the secret scan
need of a plainly well-formed file, at C speed (str.split, str.count), where parse_file builds a
named tuple per line (most of a huge PR's parsing time).

"Plainly well-formed": no CR, a final newline, and every hunk region exactly the lines its header announces
(each starting with '+', '-', ' ' or '\\'). For anything else these functions return None and the caller
uses parse_file, which gives the exact lines or the error. tests/diff/test_properties.py checks that both
readings agree wherever these give an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from operator import itemgetter
from typing import NamedTuple

from qodo_review.models import Hunk, Line

from .raw import RawFile
from .split import _HUNK_RE, _count_region, _first_hunk, _hunk_lengths

_NEW_SIDE = {"+": 1, " ": 1, "-": 0}
_FIRST = itemgetter(0)
_TEXT = itemgetter(slice(1, None))  # a line without its kind (line[1:], called from C by map)
_OLD_SIDE = {"+": 0, " ": 1, "-": 1}


class Region(NamedTuple):
    """One hunk of a raw file: its header's numbers and section, and where its body lies in raw.text."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    body: int  # offset of the first body line
    end: int  # offset just past the body's last newline


class HunkView(NamedTuple):
    """One hunk's lines as parallel sequences (what the renderer reads): kinds holds one character per
    line ('+', '-', ' '); the lines are numbered from the starts on each side (line_numbers)."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    kinds: str
    texts: list[str]


def line_numbers(view: HunkView) -> tuple[list[int], list[int]]:
    """Each line's old and new number; on the side a line lacks, the next line's."""
    if not view.kinds:
        return [], []
    steps = view.kinds[:-1]
    olds = list(accumulate(map(_OLD_SIDE.__getitem__, steps), initial=view.old_start))
    return olds, list(accumulate(map(_NEW_SIDE.__getitem__, steps), initial=view.new_start))


def plain_regions(raw: RawFile) -> list[Region] | None:
    """The hunks of a plainly well-formed file ([] for none), or None (see the module's docstring)."""
    if raw.binary or raw.patch_missing:
        return []
    text = raw.text
    pos = _first_hunk(text)
    if pos == -1:
        return []
    if not raw.plain and ("\r" in text or not text.endswith("\n")):
        return None
    regions = []
    while pos < len(text):
        match = _HUNK_RE.match(text, pos)
        if match is None:
            return None
        old_len, new_len = _hunk_lengths(match)
        body = text.index("\n", pos) + 1
        following = text.find("\n@@ ", body - 1)
        end = following + 1 if following != -1 else len(text)
        # every line of the region is one of the hunk's (+, -, space, backslash) and their counts are the header's
        if not raw.plain and _count_region(text, body, end, old_len, new_len) is None:
            return None
        regions.append(Region(int(match[1]), old_len, int(match[3]), new_len, match[5], body, end))
        pos = end
    return regions


def hunk_views(raw: RawFile, only: Sequence[int] | None = None) -> list[HunkView] | None:
    """Every hunk of a plainly well-formed file (``only``: these of them) as a HunkView (the lines parse_file
    would give), or None."""
    regions = plain_regions(raw)
    if regions is None:
        return None
    text = raw.text
    views = []
    marked = "\n\\" in text  # a `\ No newline at end of file` line somewhere: looked for hunk by hunk
    for r in regions if only is None else [regions[i] for i in only]:
        lines = text[r.body : r.end - 1].split("\n") if r.end > r.body else []
        if marked and text.find("\n\\", r.body - 1, r.end) != -1:  # that line is no line of the hunk
            lines = [line for line in lines if line[0] != "\\"]
        kinds = "".join(map(_FIRST, lines))  # every line of a plain region starts with its kind
        texts = list(map(_TEXT, lines))
        views.append(HunkView(r.old_start, r.old_len, r.new_start, r.new_len, r.section, kinds, texts))
    return views


def view_hunk(view: HunkView) -> Hunk:
    """The parsed Hunk of a view: a Line per line (for the few hunks the secret scan reads again)."""
    olds, news = line_numbers(view)
    lines = tuple(
        Line(kind, None if kind == "+" else old, None if kind == "-" else new, text)
        for kind, old, new, text in zip(view.kinds, olds, news, view.texts, strict=True)
    )
    return Hunk(view.old_start, view.old_len, view.new_start, view.new_len, view.section, lines)
