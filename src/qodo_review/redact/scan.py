"""The scanner: which lines may hold a secret (a cheap prefilter), the rules run on them, PEM blocks across
lines, and overlapping hits merged. Every step is linear in the text: no pattern backtracks more than its
bound, and no marker walks over text another marker already walked."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable
from typing import NamedTuple

from .assignments import _ASSIGNMENT_KEYWORDS, _assignment_hits
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
#  1. Triggers: the keywords of the by_keyword rules and of the assignments, one alternation over the
#     lowercased text (reduced to the keywords that contain no other one).
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
_TRIGGER_WORDS = {k for r in RULES if r.by_keyword for k in r.keywords} | set(_ASSIGNMENT_KEYWORDS)
_TRIGGERS = re.compile(_trie(t for t in _TRIGGER_WORDS if not any(o != t and o in t for o in _TRIGGER_WORDS)))
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
    starts: set[int] = set()
    cut, pos = len(text), 0
    while (m := _TRIGGERS.search(lowered, pos, cut)) is not None:
        line = lowered.rfind("\n", 0, m.start()) + 1
        if len(starts) >= limit:
            cut = line
            break
        starts.add(line)
        pos = _line_end(lowered, m.end()) + 1
    # "replace" keeps one byte per character, so offsets in `mapped` are offsets in `text`.
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


def _rule_hits(text: str, pem: Iterable[_Hit] = ()) -> tuple[list[_Hit], int]:
    """The rules' hits, and the cut: where the work budget ran out (len(text) if it did not). The caller
    withholds everything from the cut on. A line whose only letters and digits are key material of one of
    the `pem` hits is not scanned again (8 KB lines of base64 would run a few rules each, for nothing)."""
    covered = {text.rfind("\n", 0, h.start) + 1: h for h in pem}
    # U+0130 (İ) is the one character whose lowercase is longer; offsets in `lowered` must match `text`.
    lowered = text.replace("\u0130", "i").lower()
    hits: list[_Hit] = []
    budget = BUDGET_FREE + len(text) // BUDGET_BYTES
    # a chosen line costs its share of the prefilter and its own turn below: at least 2 units
    starts, cut = _candidate_lines(text, lowered, budget // 2)
    for start in starts:
        stop = _line_end(text, start)
        block = covered.get(start) if covered else None
        if (
            block is not None
            and block.end <= stop
            and _NO_ALNUM.fullmatch(text, start, block.start)
            and _NO_ALNUM.fullmatch(text, block.end, stop)
        ):
            continue
        limit = DENSE_FREE + (stop - start) // DENSE_BYTES
        if stop - start <= 4096:  # in C; a Python loop over matches costs more on the lines of ordinary code
            found = _KEYWORDS.findall(lowered, start, stop)
        else:  # a long line: stop at the limit, not a list of every keyword of a megabyte
            found = [k.group() for k in itertools.islice(_KEYWORDS.finditer(lowered, start, stop), limit + 1)]
        count = min(len(found), limit + 1)
        budget -= 2 + count
        if budget < 0:
            return hits, start
        if not found:
            continue
        rules, assignments = _rules_for(frozenset(found)) if count <= limit else ((), False)
        # Past the limits the line's candidates would cost more Python than its length pays for: too many
        # keywords, or a long line every one of many rules would scan.
        if count > limit or (len(rules) + assignments - DENSE_RULES) * (stop - start) > DENSE_RULE_CHARS:
            hits.append(dense_hit(text, start, stop))
        else:
            hits += _line_hits(text[start:stop], lowered[start:stop], rules, assignments, start)
    return hits, cut


def _line_hits(line: str, lowered: str, rules: tuple[int, ...], assignments: bool, offset: int) -> list[_Hit]:
    hits = []
    for index in rules:
        rule = RULES[index]
        for m in rule.pattern.finditer(line):
            value = m.group(rule.group)
            if value and (rule.check is None or rule.check(value)):
                start, end = m.span(rule.group)
                hits.append(_Hit(offset + start, offset + end, rule.kind, value, 10 + index))
    if assignments:
        for start, end, kind in _assignment_hits(line, lowered):
            hits.append(_Hit(offset + start, offset + end, kind, line[start:end], 10 + len(RULES)))
    return hits


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


# --- PEM blocks -------------------------------------------------------------------------------------------

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# Key material on one line: base64, escaped newlines (JSON and Java strings), the RFC 1421 headers.
_PEM_INLINE = re.compile(
    r"(?:\\[rn]|[A-Za-z0-9+/= \t\r]|(?:Proc-Type|DEK-Info|Comment|Version):"
    r"[^\\\n\"']{0,200}+){0,20000}+"
)
# A line inside a block: framing (indentation, quotes, `+`, commas) around base64 or a header.
_PEM_LINE = re.compile(
    r"[ \t\"'`+,;(]{0,80}+(?P<core>(?:[A-Za-z0-9+/=]|\\[rn]){1,8192}+"
    r"|(?:Proc-Type|DEK-Info|Comment|Version): ?[^\"'\n\\]{0,200}+)?(?:\\[rn]){0,4}+"
    r"[ \t\r\"'`+,;)\\]{0,80}+"
)
_PEM_FRAMING = re.compile(r"(?:\\[rn]|[ \t\r\"'`+,;)\\]){0,80}+")
_NOT_BASE64 = re.compile(r"\\[rn]|[^A-Za-z0-9+/=]")

_Spans = list[tuple[int, int]]


def _pem_hits(text: str) -> tuple[list[_Hit], int]:
    """The hits of PEM blocks, and the cut: where the marker budget ran out (len(text) if it did not)."""
    hits: list[_Hit] = []
    covered_to = 0
    budget = PEM_FREE + len(text) // PEM_BYTES

    def add(spans: _Spans, body: str, minimum: int) -> None:
        key = _NOT_BASE64.sub("", body)
        if len(key) >= minimum:
            group, value = len(hits), "pem:" + key  # one value shared by the block's lines, not one copy each
            hits.extend(_Hit(s, e, "private-key", value, 1, group) for s, e in spans)

    ends_seen: set[int] = set()
    cut = len(text)
    for begin in _PEM_BEGIN.finditer(text):
        budget -= 1
        if budget < 0:
            cut = text.rfind("\n", 0, begin.start()) + 1
            break
        if begin.start() >= covered_to:
            spans, body, covered_to, ended = _follow_pem(text, begin)
            if ended:
                ends_seen.add(spans[-1][1])
            add(spans, body, MIN_PEM_BODY if ended else MIN_OPEN_PEM_BODY)
    # A block whose BEGIN line is not in this text (a cut hunk). A walk up from an END marker stops where the
    # previous marker ended: its material is the text between them, so no text is walked (or copied) twice
    # however many END markers follow one another.
    floor = 0
    for end in _PEM_END.finditer(text, 0, cut):
        budget -= 1
        if budget < 0:
            cut = text.rfind("\n", 0, end.start()) + 1
            break
        if end.start() > floor and end.end() not in ends_seen:  # markers back to back hold no material
            add(*_follow_pem_back(text, end, floor), MIN_OPEN_PEM_BODY)
        floor = end.end()
    return hits, cut


def _follow_pem(text: str, begin: re.Match[str]) -> tuple[_Spans, str, int, bool]:
    """The spans of one block from its BEGIN marker, the key material, where it ends, and if END was seen."""
    line_end = _line_end(text, begin.end())
    inline = _PEM_INLINE.match(text, begin.end(), line_end)
    body, stop = (inline.group(), inline.end()) if inline else ("", begin.end())
    end = _PEM_END.match(text, stop, line_end)
    if end:
        return [(begin.start(), end.end())], body, end.end(), True
    spans = [(begin.start(), begin.end() + len(body.rstrip(" \t\r")))]
    if not _PEM_FRAMING.fullmatch(text, stop, line_end):
        return spans, body, line_end, False  # code follows the marker: not a block to follow
    pos = line_end + 1
    for _ in range(MAX_PEM_LINES):
        if pos > len(text):
            break
        stop = _line_end(text, pos)
        end = _PEM_END.search(text, pos, stop)
        if end:
            core = _PEM_LINE.match(text, pos, end.start())
            first = core.start("core") if core and core.group("core") else end.start()
            spans.append((first, end.end()))
            return spans, body + text[first : end.start()], end.end(), True
        line = _PEM_LINE.fullmatch(text, pos, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            body += line.group("core")
        pos = stop + 1
    return spans, body, pos, False


def _follow_pem_back(text: str, end: re.Match[str], floor: int) -> tuple[_Spans, str]:
    """The spans and key material of a block seen only from its END marker, walking up, never above floor."""
    line_start = max(text.rfind("\n", 0, end.start()) + 1, floor)
    core = _PEM_LINE.match(text, line_start, end.start())
    first = core.start("core") if core and core.group("core") and core.end() == end.start() else end.start()
    spans, pieces = [(first, end.end())], [text[first : end.start()]]
    stop = line_start - 1
    for _ in range(MAX_PEM_LINES):
        if stop < floor:
            break
        start = text.rfind("\n", 0, stop) + 1
        if start < floor:
            break
        line = _PEM_LINE.fullmatch(text, start, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            pieces.append(line.group("core"))
        stop = start - 1
    return spans, "".join(reversed(pieces))
