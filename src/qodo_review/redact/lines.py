"""The rules run on the chosen lines: a chunk of lines at a time (every keyword of the chunk in one pass, each
rule once over the lines that select it, joined by newlines), or one line at a time where a line is long or
dense, where PEM material covers lines, or where the work budget may run out. Both give the same hits."""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from operator import itemgetter

from .assignments import _assignment_hits
from .rules import RULES
from .scan import (
    _ALL_KEYWORDS,
    _KEYWORD_SCAN,
    _KEYWORDS,
    _NO_ALNUM,
    BUDGET_BYTES,
    BUDGET_FREE,
    DENSE_BYTES,
    DENSE_FREE,
    DENSE_RULE_CHARS,
    DENSE_RULES,
    _candidate_lines,
    _Hit,
    _line_end,
    _rules_for,
    dense_hit,
)

_ASSIGNMENTS = len(RULES)  # the assignment rules, as one more rule index (and their priority)
# What each keyword selects (rules, and _ASSIGNMENTS for the assignments): a line selects the union.
_SELECTS = tuple(
    (*rules, _ASSIGNMENTS) if assignments else rules
    for rules, assignments in map(_rules_for, map(frozenset, zip(_ALL_KEYWORDS)))
)
_PER_LINE = frozenset(i for i, r in enumerate(RULES) if r.anchored)  # see Rule
_BATCH_FROM = 8  # chosen lines; for fewer, a chunk's fixed cost (three passes, joins) exceeds what it saves
_CHUNK = 1 << 17  # characters of lines scanned at once: bounds the lists of matches a chunk makes
_FEW_KEYWORDS = 4  # distinct keywords in a chunk up to which each one's lines are picked out by a pass
_FEW_KEYWORDS = 4  # distinct keywords in a chunk, up to which each one's lines are picked out by a pass
# No line this short can be too dense for its rules (DENSE_RULE_CHARS); a longer one is scanned on its own.
_LONG = DENSE_RULE_CHARS // (len(RULES) + 1 - DENSE_RULES)


def _rule_hits(text: str, pem: Iterable[_Hit] = ()) -> tuple[list[_Hit], int]:
    """The rules' hits, and the cut: where the work budget ran out (len(text) if it did not). The caller
    withholds everything from the cut on. A line whose only letters and digits are key material of one of
    the `pem` hits is not scanned again (8 KB lines of base64 would run a few rules each, for nothing)."""
    covered = {text.rfind("\n", 0, h.start) + 1: h for h in pem}
    # U+0130 (İ) is the one character whose lowercase is longer; offsets in `lowered` must match `text`.
    lowered = text.replace("\u0130", "i").lower()
    budget = BUDGET_FREE + len(text) // BUDGET_BYTES
    # a chosen line costs its share of the prefilter and its own turn below: at least 2 units
    starts, cut = _candidate_lines(text, lowered, budget // 2)
    if not covered and len(starts) >= _BATCH_FROM:
        batched = _chunked_hits(text, lowered, starts, budget)
        if batched is not None:  # None: the budget may run out, and the line where it does matters
            return batched, cut
    hits: list[_Hit] = []
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
        found = _line_keywords(lowered, start, stop)
        budget -= 2 + min(len(found), _limit(start, stop) + 1)
        if budget < 0:
            return hits, start
        if found:
            hits += _line_scan(text, lowered, start, stop, found)
    return hits, cut


def _limit(start: int, stop: int) -> int:
    """The keywords a line may hold before it is withheld whole."""
    return DENSE_FREE + (stop - start) // DENSE_BYTES


def _line_keywords(lowered: str, start: int, stop: int) -> list[str]:
    """The keywords on a line (one per position, the longest), at most its limit + 1 of them."""
    if stop - start <= 4096:  # in C; a Python loop over matches costs more on the lines of ordinary code
        return _KEYWORDS.findall(lowered, start, stop)
    # a long line: stop at the limit, not a list of every keyword of a megabyte
    return [k.group() for k in itertools.islice(_KEYWORDS.finditer(lowered, start, stop), _limit(start, stop) + 1)]


def _line_scan(text: str, lowered: str, start: int, stop: int, found: list[str]) -> list[_Hit]:
    """The hits of one line holding the keywords `found`."""
    limit = _limit(start, stop)
    count = min(len(found), limit + 1)
    rules, assignments = _rules_for(frozenset(found)) if count <= limit else ((), False)
    # Past the limits the line's candidates would cost more Python than its length pays for: too many
    # keywords, or a long line every one of many rules would scan.
    if count > limit or (len(rules) + assignments - DENSE_RULES) * (stop - start) > DENSE_RULE_CHARS:
        return [dense_hit(text, start, stop)]
    return _line_hits(text[start:stop], lowered[start:stop], rules, assignments, start)


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
            hits.append(_Hit(offset + start, offset + end, kind, line[start:end], 10 + _ASSIGNMENTS))
    return hits


# --- a chunk of lines at a time ---------------------------------------------------------------------------

_Spans = Sequence[tuple[int, int]]


def _chunked_hits(text: str, lowered: str, starts: list[int], budget: int) -> list[_Hit] | None:
    """The hits of the chosen lines, found a chunk of lines at a time, or None if the work budget may not
    cover them all (the caller then scans line by line, to withhold from the right line on)."""
    hits: list[_Hit] = []
    spent = 0
    chunk: list[tuple[int, int]] = []
    size = 0
    stops = list(map(text.find, itertools.repeat("\n"), starts))  # in C; -1: the text's last line
    if stops and stops[-1] < 0:
        stops[-1] = len(text)
    for start, stop in zip(starts, stops, strict=True):
        if stop - start > _LONG:
            found = _line_keywords(lowered, start, stop)
            spent += 2 + min(len(found), _limit(start, stop) + 1)
            if found:
                hits += _line_scan(text, lowered, start, stop, found)
        else:
            chunk.append((start, stop))
            size += stop - start + 1
            if size >= _CHUNK:
                spent += _chunk_hits(text, lowered, chunk, hits)
                chunk, size = [], 0
        if spent > budget:
            return None
    if chunk:
        spent += _chunk_hits(text, lowered, chunk, hits)
    return hits if spent <= budget else None


def _chunk_hits(text: str, lowered: str, lines: _Spans, hits: list[_Hit]) -> int:
    """Add the hits of short lines to `hits`; return the budget units they spend (2 a line, 1 a keyword)."""
    joined_lower, offsets = _joined(lowered, lines)
    # "replace" keeps one byte per character, so offsets are the same; the keywords are ASCII
    matches = _KEYWORD_SCAN.find_matches_as_indexes(joined_lower.encode("ascii", "replace"))
    # each match's line (numbered from 1 here), found and counted in C, then grouped by keyword
    line_of = list(map(bisect.bisect_right, itertools.repeat(offsets), map(itemgetter(1), matches)))
    counts = Counter(line_of)
    selected: dict[int, set[int]] = {}
    for keyword, members in _keyword_lines(list(map(itemgetter(0), matches)), line_of):
        for rule in _SELECTS[keyword]:
            selected.setdefault(rule, set()).update(members)
    spent = 2 * len(lines) + len(matches)
    dense = set()
    if max(counts.values(), default=0) > DENSE_FREE:
        dense = {i for i, count in counts.items() if count > DENSE_FREE}
    for i in dense:  # a line packing keywords: on its own, as the line-by-line scan would
        start, stop = lines[i - 1]
        found = _line_keywords(lowered, start, stop)
        spent -= counts[i] - min(len(found), _limit(start, stop) + 1)
        hits += _line_scan(text, lowered, start, stop, found)
    for rule, members in selected.items():
        spans = [lines[i - 1] for i in sorted(members - dense)]
        if rule == _ASSIGNMENTS:
            reuse = len(spans) == len(lines)
            _assignments_over(text, joined_lower if reuse else _joined(lowered, spans)[0], spans, hits)
        elif rule in _PER_LINE:
            for start, stop in spans:
                hits += _line_hits(text[start:stop], "", (rule,), False, start)
        else:
            _rule_over(text, rule, spans, hits)
    return spent


def _keyword_lines(keywords: list[int], line_of: list[int]) -> Iterator[tuple[int, set[int]]]:
    """Each keyword found, with the lines holding it (line_of[i]: the line of keywords[i])."""
    distinct = set(keywords)
    if len(distinct) <= _FEW_KEYWORDS:  # a pass in C per keyword picks its lines: cheaper than sorting pairs
        for keyword in distinct:
            yield keyword, set(itertools.compress(line_of, map(keyword.__eq__, keywords)))
        return
    pairs = sorted(set(zip(keywords, line_of, strict=True)))
    for keyword, group in itertools.groupby(pairs, itemgetter(0)):
        yield keyword, set(map(itemgetter(1), group))


def _joined(source: str, spans: _Spans) -> tuple[str, list[int]]:
    """The spans of source joined by newlines, and where each starts in the joined text."""
    pieces = [source[start:stop] for start, stop in spans]
    # the i-th piece starts after the i pieces before it and their i newlines
    offsets = list(map(operator.add, accumulate(map(len, pieces), initial=0), itertools.count()))
    offsets.pop()
    return "\n".join(pieces), offsets


def _rule_over(text: str, index: int, spans: _Spans, hits: list[_Hit]) -> None:
    rule = RULES[index]
    joined, offsets = _joined(text, spans)
    for m in rule.pattern.finditer(joined):
        value = m.group(rule.group)
        if value and (rule.check is None or rule.check(value)):
            start, end = m.span(rule.group)
            line = bisect.bisect_right(offsets, start) - 1
            shift = spans[line][0] - offsets[line]
            hits.append(_Hit(start + shift, end + shift, rule.kind, value, 10 + index))


def _assignments_over(text: str, joined_lower: str, spans: _Spans, hits: list[_Hit]) -> None:
    joined, offsets = _joined(text, spans)
    for start, end, kind in _assignment_hits(joined, joined_lower):
        line = bisect.bisect_right(offsets, start) - 1
        shift = spans[line][0] - offsets[line]
        hits.append(_Hit(start + shift, end + shift, kind, joined[start:end], 10 + _ASSIGNMENTS))
