"""The scanner: which lines may hold a secret (a cheap prefilter), the keywords that select the rules to run
on them (lines.py runs them, pem.py follows PEM blocks), the work budget, and overlapping hits merged. Every
step is linear in the text: no pattern backtracks more than its bound, and no marker walks over text another
marker already walked."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterable
from operator import itemgetter
from typing import NamedTuple

from ahocorasick_rs import BytesAhoCorasick, MatchKind

from .assignments import _ASSIGNMENT_KEYWORDS
from .rules import RULES

MAX_PEM_LINES = 500  # a 16384-bit RSA key is ~220 lines of base64; past this we stop following a block
MIN_PEM_BODY = 16  # base64 characters between BEGIN and END; fewer is a template, not a key
MIN_OPEN_PEM_BODY = 64  # with no END line (a cut hunk) more is needed to tell a key from code near a marker
MIN_TOKEN_RUN = 20  # the shortest provider token we detect without a keyword (AKIA + 16)

# --- the work budget ------------------------------------------------------------------------------------
# Each candidate (a chosen line, a keyword on it, a PEM marker) costs a few microseconds of Python, and a
# hostile text can pack one every few characters. So the work is bounded by the text's length: past the
# bounds the text is withheld whole, never scanned less (DENSE placeholders, one per line, line counts
# kept). Ordinary code stays far below them: ~2,300 chosen lines and ~4,400 keywords per MB in the
# generated diff of bench/bench_redact.py, at most 6 keywords on one line in the real diffs.
DENSE = "dense"  # the kind of withheld dense text
DENSE_FREE = 16  # keywords any line may hold ...
DENSE_BYTES = 256  # ... and one more per this many characters; past that the line is withheld
DENSE_RULES = 4  # rules any line may run ...
DENSE_RULE_CHARS = 1 << 16  # ... and more while (rules - DENSE_RULES) * line length stays under this
BUDGET_FREE = 1024  # units (2 a chosen line, 1 a keyword on it) any text may spend ...
BUDGET_BYTES = 48  # ... and one more per this many characters; past that the rest of the text is withheld
PEM_FREE = 256  # PEM markers any text may have ...
PEM_BYTES = 256  # ... and one more per this many characters

# --- the prefilter ------------------------------------------------------------------------------------

# Two cheap scans choose the lines that reach the rules; most lines of ordinary code reach none.
#  1. Triggers: the keywords of the by_keyword rules and of the assignments, found in one Aho-Corasick pass
#     over the lowercased text (reduced to the keywords that contain no other one): ~0.1 s for 33 MB, where
#     re's alternation took ~1 s. Only which lines hold one matters, not which or how many.
#  2. Long tokens: every other rule's secret is a run of at least MIN_TOKEN_RUN token characters with a
#     digit or many capitals; bytes.translate maps token characters to "a" and bytes.find finds the runs.
# A chosen line is then matched against the full keyword alternation, which selects the rules to run on it.

_Trie = dict[str, "_Trie"]


def _trie(words: Iterable[str]) -> str:
    """An alternation with shared prefixes factored out: `re` tries alternatives one by one, so a flat list
    of 170 keywords costs 170 comparisons per character, the trie a few. Longer words win at a position."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _Trie) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        body = "" if not branches else branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node and body else body

    return build(root)


_RULES_BY_KEYWORD: dict[str, tuple[int, ...]] = {}
for _index, _r in enumerate(RULES):
    for _k in _r.keywords:
        _RULES_BY_KEYWORD[_k] = (*_RULES_BY_KEYWORD.get(_k, ()), _index)
_ALL_KEYWORDS = sorted({*_RULES_BY_KEYWORD, *_ASSIGNMENT_KEYWORDS})
_KEYWORDS = re.compile(_trie(_ALL_KEYWORDS))
# The alternation reports one keyword per position ("sk-ant-", never the "sk-" inside it), so a keyword
# stands for every keyword it contains.
_CONTAINED = {k: frozenset(k2 for k2 in _ALL_KEYWORDS if k2 in k) for k in _ALL_KEYWORDS}
# The same in one Aho-Corasick pass over many lines: leftmost-longest, one keyword per position like the trie.
_KEYWORD_SCAN = BytesAhoCorasick([k.encode() for k in _ALL_KEYWORDS], matchkind=MatchKind.LeftmostLongest)
_TRIGGER_WORDS = {k for r in RULES if r.by_keyword for k in r.keywords} | set(_ASSIGNMENT_KEYWORDS)
_TRIGGERS = BytesAhoCorasick(  # leftmost-longest: the fastest kind here (any kind finds the same lines)
    sorted(t.encode() for t in _TRIGGER_WORDS if not any(o != t and o in t for o in _TRIGGER_WORDS)),
    matchkind=MatchKind.LeftmostLongest,
)
_TRIGGER_CHUNK = 1 << 16  # bytes searched at once: the match list of a chunk of triggers stays small
_TRIGGER_REACH = max(map(len, _TRIGGER_WORDS))
_TOKEN_TABLE = bytes(
    ord("a") if chr(b).isascii() and (chr(b).isalnum() or chr(b) in "_-") else b if b == 10 else 32 for b in range(256)
)
_RUN = b"a" * MIN_TOKEN_RUN
_RUN_END = re.compile(rb"[^a]")
_DIGIT = re.compile(r"[0-9]")
_NO_ALNUM = re.compile(r"[^A-Za-z0-9]{0,200}+")


def _token_like(run: str) -> bool:
    """Identifiers and paths make long runs too; random tokens hold a digit or many capitals."""
    return _DIGIT.search(run) is not None or sum(map(str.isupper, run)) * 3 >= len(run)


def _candidate_lines(text: str, lowered: str, limit: int) -> tuple[list[int], int]:
    """The start offsets of the lines that may hold a secret, sorted, and where the scan stopped: at most
    `limit` lines are chosen, and past the cut (the start of the line that would exceed it) nothing is."""
    chosen, cut = _trigger_lines(lowered, limit)
    starts = set(chosen)
    mapped = text.encode("ascii", "replace").translate(_TOKEN_TABLE)
    pos = mapped.find(_RUN, 0, cut)
    while pos >= 0:
        run_end = _RUN_END.search(mapped, pos)
        end = run_end.start() if run_end else len(mapped)
        if _token_like(text[pos:end]):
            line = text.rfind("\n", 0, pos) + 1
            if line not in starts and len(starts) >= limit:
                cut = line
                break
            starts.add(line)
            end = _line_end(text, end)
        pos = mapped.find(_RUN, end, cut)
    return sorted(starts) if cut == len(text) else sorted(start for start in starts if start < cut), cut


def _trigger_lines(lowered: str, limit: int) -> tuple[list[int], int]:
    """The starts of the lines holding a trigger, in order, at most `limit` of them, and the cut: the start of
    the first line past the limit (the text's length if none). The text is searched a chunk at a time and
    from the end of the last line found, so memory stays bounded and no line is searched twice however many
    triggers it packs."""
    # "replace" keeps one byte per character, so offsets in the bytes are offsets in the text; the keywords
    # are ASCII, so no match is gained or lost.
    data = lowered.encode("ascii", "replace")
    starts: list[int] = []
    pos, line_end = 0, -1
    while pos < len(data):
        stop = pos + _TRIGGER_CHUNK  # a trigger starting before stop may end past it: the window runs on
        matches = _TRIGGERS.find_matches_as_indexes(data[pos : stop + _TRIGGER_REACH])
        found = list(map(pos.__add__, map(itemgetter(1), matches)))
        del found[bisect.bisect_left(found, stop) :]  # the next window's
        if found:
            # Every match lies past the lines found so far; a match starts a new line where a newline lies
            # between it and the match before (rfind over each gap, in C: the text is scanned once).
            lines = [data.rfind(b"\n", line_end + 1, found[0]) + 1 or line_end + 1]
            lines += map((1).__add__, filter((-1).__ne__, map(data.rfind, itertools.repeat(b"\n"), found, found[1:])))
            if len(starts) + len(lines) > limit:
                return starts + lines[: limit - len(starts)], lines[limit - len(starts)]
            starts += lines
            line_end = _bytes_line_end(data, found[-1])
        pos = max(stop, line_end + 1)
    return starts, len(data)


def _bytes_line_end(data: bytes, pos: int) -> int:
    end = data.find(b"\n", pos)
    return len(data) if end < 0 else end


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


@functools.lru_cache(maxsize=4096)
def _rules_for(found: frozenset[str]) -> tuple[tuple[int, ...], bool]:
    """The rules a line's keywords select, and whether the assignment rules apply."""
    keywords = set().union(*(_CONTAINED[k] for k in found))
    rules = tuple(sorted({i for k in keywords for i in _RULES_BY_KEYWORD.get(k, ())}))
    return rules, not keywords.isdisjoint(_ASSIGNMENT_KEYWORDS)


# --- hits -------------------------------------------------------------------------------------------------


class _Hit(NamedTuple):  # a tuple: hostile text can make millions, and a tuple is the cheapest to build
    start: int
    end: int
    kind: str
    value: str  # what the placeholder number is keyed on
    priority: int  # run secrets 0, PEM blocks 1, then the rule table's order
    group: int = -1  # the hits of one multi-line PEM block share a group


def dense_hit(text: str, start: int, stop: int) -> _Hit:
    """Text too dense with candidates to scan one by one, withheld whole (every line of it)."""
    return _Hit(start, stop, DENSE, "dense:" + text[start:stop], -1)


def _merge(text: str, hits: list[_Hit]) -> list[_Hit]:
    """Sorted, non-overlapping hits. Overlaps are united, never dropped: a partial overlap must not leak."""
    merged: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, h.priority, -h.end)):
        if not merged or hit.start >= merged[-1].end:
            merged.append(hit)
            continue
        last = merged[-1]
        if hit.end > last.end:
            win = last if last.priority <= hit.priority else hit
            value = text[last.start : hit.end]
            merged[-1] = _Hit(last.start, hit.end, win.kind, value, win.priority, win.group)
    return merged
