"""Token budgets: how many tokens a call may hold, and packing the files (cut where one is too big) into calls.
The estimates and model limits are tokens.py's."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .diff import RawFile, parse_file
from .models import Hunk, Line, Skipped
from .tokens import (
    DEFAULT_CALL_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    FILE_HEADER_TOKENS,
    LINE_PREFIX_TOKENS,
    MAX_LINE_CHARS,
    MAX_SHOWN_LINE_CHARS,
    UNKNOWN_MODEL,
    Counts,
    ModelLimits,
    counted_tokens,
    estimate_raw,
    estimate_tokens,
    file_tokens,
    hunk_tokens,
    least_tokens,
    line_tokens,
    long_line_spans,
    model_limits,
    piece_counts,
    row_tokens,
)

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_SHOWN_LINE_CHARS",
    "UNKNOWN_MODEL",
    "BudgetPlan",
    "Chunk",
    "ModelLimits",
    "Piece",
    "call_budget",
    "estimate_raw",
    "estimate_tokens",
    "model_limits",
    "plan_budget",
]


@dataclass(frozen=True)
class Piece:
    """A file, or a run of its hunks when the file alone is larger than one call."""

    raw: RawFile
    tokens: int
    hunks: tuple[Hunk, ...] | None = None  # None: the whole file, parsed when the prompt is built
    part: int = 1
    parts: int = 1

    @property
    def lines(self) -> int:
        """Changed lines in this piece."""
        if self.hunks is None:
            return self.raw.added + self.raw.removed
        return sum(h.added + h.removed for h in self.hunks)


@dataclass(frozen=True)
class Chunk:
    pieces: tuple[Piece, ...]

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.pieces)


@dataclass(frozen=True)
class BudgetPlan:
    chunks: tuple[Chunk, ...]
    not_reviewed: tuple[Skipped, ...]
    call_tokens: int  # diff tokens allowed in one call
    output_tokens: int
    limits: ModelLimits
    notices: tuple[str, ...] = ()


def call_budget(model: str, max_input_tokens: int | None, overhead: int) -> tuple[int, int, ModelLimits, list[str]]:
    """(diff tokens per call, output tokens reserved, limits, notices)."""
    limits = model_limits(model)
    notices = []
    output = min(limits.max_output, DEFAULT_OUTPUT_TOKENS)
    window = limits.context - output
    if max_input_tokens:
        window = min(window, max_input_tokens) if limits.known else max_input_tokens
    else:
        window = min(window, DEFAULT_CALL_INPUT_TOKENS)
        if not limits.known:
            notices.append(
                f"Model '{model}' is not in the built-in table of model limits; assuming a "
                f"{limits.context:,}-token context window with {output:,} tokens for the answer. "
                f"Set max-input-tokens to the prompt size your model accepts to send more per call."
            )
    return max(window - overhead, 1_000), output, limits, notices


def _group_key(path: str) -> str:
    """A module and its tests share a key: src/foo/bar.py ~ tests/test_bar.py ~ bar.test.ts."""
    base = path.rsplit("/", 1)[-1].lower()
    base = re.sub(r"^(test_|spec_)|(_test|_spec|\.test|\.spec)(?=\.)", "", base)
    return base.split(".", 1)[0]


@dataclass(frozen=True)
class SizedFile:
    """A file sized hunk by hunk (sized_file): its hunks' spans in the raw text and their costs, and the
    file's estimate_raw summed from the same counts."""

    tokens: int
    header: str
    spans: list[tuple[int, int]]
    costs: list[int]


def sized_file(raw: RawFile) -> SizedFile:
    """Each hunk's cost as split_large counts it, and estimate_raw from the same class counts (they add up
    over the pieces of a text; the spans start and end at line starts, so continuation rows add up too):
    a file too large for a call is read once, not once whole and again hunk by hunk."""
    text = raw.text
    header, spans = _hunk_spans(text)
    starts = [0, *(a for a, _ in spans)]  # the pieces: the header, then each hunk
    counts = piece_counts(text, [*starts, len(text)])
    rows = [0] * len(counts)  # continuation rows of each piece: its long lines, each inside one piece
    for line, end in long_line_spans(text, MAX_LINE_CHARS):
        rows[bisect_right(starts, line) - 1] += (end - line - 1) // MAX_LINE_CHARS
    costs = [
        counted_tokens(piece) + 1 + LINE_PREFIX_TOKENS * piece[4] + (LINE_PREFIX_TOKENS + 1) * extra
        for piece, extra in zip(counts[1:], rows[1:], strict=True)
    ]
    total: Counts = tuple(map(sum, zip(*counts, strict=True)))  # type: ignore[assignment]
    return SizedFile(file_tokens(total, sum(rows)), header, spans, costs)


def split_large(raw: RawFile, budget: int, sized: SizedFile | None = None) -> list[Piece]:
    """Split one file at hunk boundaries; a single hunk over budget is cut at line boundaries.

    Hunks are found and sized on the raw text (a piece is the file's header plus a run of whole hunks,
    parsed when its prompt is built): the plan of a huge PR holds no parsed lines. Only a hunk too big
    for one call is parsed here, to cut it between lines.
    """
    sized = sized or sized_file(raw)
    header, spans = sized.header, list(zip(sized.spans, sized.costs, strict=True))
    if sum(_changed(raw.text, a, b) for (a, b), _ in spans) != raw.added + raw.removed:
        spans = []  # text after the hunks (a mail signature?) that the counts skip: parse instead
    units: list[tuple[int, tuple[int, int] | Hunk]] = []  # (tokens, span of raw text or a parsed part)
    for (a, b), cost in spans:
        if FILE_HEADER_TOKENS + cost <= budget:
            units.append((cost, (a, b)))
        else:
            units.extend(
                (hunk_tokens(part), part)
                for hunk in parse_file(_part(raw, header, a, b)).hunks
                for part in _cut_hunk(hunk, budget)
            )
    if not spans:
        units = [(hunk_tokens(part), part) for hunk in parse_file(raw).hunks for part in _cut_hunk(hunk, budget)]
    groups: list[list[tuple[int, int] | Hunk]] = []
    sizes: list[int] = []
    for cost, unit in units:
        same_kind = bool(groups) and isinstance(groups[-1][-1], Hunk) == isinstance(unit, Hunk)
        if same_kind and sizes[-1] + cost <= budget:
            groups[-1].append(unit)
            sizes[-1] += cost
        else:
            groups.append([unit])
            sizes.append(FILE_HEADER_TOKENS + cost)
    pieces = []
    for index, (group, size) in enumerate(zip(groups, sizes, strict=True)):
        if isinstance(group[0], Hunk):
            hunks = tuple(unit for unit in group if isinstance(unit, Hunk))
            pieces.append(Piece(raw, size, hunks, index + 1, len(groups)))
        else:
            first, last = group[0], group[-1]
            assert isinstance(first, tuple) and isinstance(last, tuple)
            pieces.append(Piece(_part(raw, header, first[0], last[1]), size, None, index + 1, len(groups)))
    return pieces


def _hunk_spans(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The text before the first hunk, and where each hunk's text starts and ends. A body line never
    starts with "@@ " (it starts with " ", "+", "-" or "\\"), so every line that does opens a hunk."""
    starts = [0] if text.startswith("@@ ") else []
    pos = text.find("\n@@ ")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n@@ ", pos + 1)
    if not starts:
        return text, []
    return text[: starts[0]], list(zip(starts, [*starts[1:], len(text)], strict=True))


def _changed(text: str, start: int, end: int) -> int:
    """+/- lines of a run of hunks (it starts at a hunk header, so every such line follows a newline)."""
    return text.count("\n+", start, end) + text.count("\n-", start, end)


def _part(raw: RawFile, header: str, start: int, end: int) -> RawFile:
    """The file's header and a run of its hunks: parsed alone it gives those hunks, numbered as in the file."""
    text = raw.text
    return replace(
        raw, text=header + text[start:end], added=text.count("\n+", start, end), removed=text.count("\n-", start, end)
    )


CUT_BLOCK_LINES = 256  # lines estimated together while cutting a hunk too big for one call


def _block_tokens(lines: Sequence[Line], start: int, end: int) -> int:
    """Lines[start:end] as the prompt shows them: their text and newlines (one estimate of the joined text),
    the newline before them, and a prefix per row."""
    text = "\n".join([ln.text for ln in lines[start:end]])
    return estimate_tokens(text) + 1 + LINE_PREFIX_TOKENS * (end - start) + row_tokens(text)


def _cut_hunk(hunk: Hunk, budget: int) -> list[Hunk]:
    if FILE_HEADER_TOKENS + hunk_tokens(hunk) <= budget:
        return [hunk]
    out: list[Hunk] = []
    lines = list(hunk.lines)
    start = 0
    # the terms hunk_tokens counts: the section line with its prefix, newline and separator, then per line
    # its text and a prefix and newline per row
    limit = budget - FILE_HEADER_TOKENS - estimate_tokens(hunk.section) - LINE_PREFIX_TOKENS - 2
    while start < len(lines):
        tokens, end = 0, start
        # Whole blocks of lines first, one estimate each (a hunk of a million lines costs a million estimates
        # one line at a time), then single lines up to the limit. A block's cost bounds what its lines add to
        # hunk_tokens exactly as the sum of their line_tokens does (the estimate is subadditive).
        while end + CUT_BLOCK_LINES <= len(lines):
            cost = _block_tokens(lines, end, end + CUT_BLOCK_LINES)
            if tokens + cost > limit:
                break
            tokens += cost
            end += CUT_BLOCK_LINES
        while end < len(lines):
            cost = line_tokens(lines[end].text)
            if end > start and tokens + cost > limit:
                break
            tokens += cost
            end += 1
        part = lines[start:end]
        old = next((ln.old for ln in part if ln.old is not None), hunk.old_start)
        new = next((ln.new for ln in part if ln.new is not None), hunk.new_start)
        out.append(
            Hunk(
                old,
                sum(ln.kind != "+" for ln in part),
                new,
                sum(ln.kind != "-" for ln in part),
                hunk.section,
                tuple(part),
            )
        )
        start = end
    return out


def plan_budget(
    files: Sequence[RawFile],
    *,
    call_tokens: int,
    output_tokens: int,
    limits: ModelLimits,
    max_calls: int,
    notices: Sequence[str] = (),
) -> BudgetPlan:
    """Pack files (already in priority order) into at most max_calls chunks of at most call_tokens each.

    Related files (a module and its test) are placed together where they fit; a file larger than one
    call is split at hunk boundaries. First fit, in priority order: deterministic, same input, same plan.
    Only files that can still fit are read: the rest of a huge PR costs a few additions per file.
    """
    groups: dict[str, list[RawFile]] = {}
    for raw in files:
        groups.setdefault(_group_key(raw.path), []).append(raw)
    packer = _Packer(call_tokens, max(1, max_calls))
    for members in groups.values():
        packer.add(members)
    chunks = tuple(Chunk(tuple(b)) for b in packer.bins)
    reason = f"over the max-calls budget ({max_calls} calls); raise max-calls to review it"
    not_reviewed = tuple(Skipped(path, reason, lines, "not-reviewed") for path, lines in packer.left_out.items())
    return BudgetPlan(chunks, not_reviewed, call_tokens, output_tokens, limits, tuple(notices))


class _Packer:
    """First-fit bins, at most max_calls of them; what does not fit is counted by file, never dropped."""

    def __init__(self, call_tokens: int, max_calls: int) -> None:
        self.call_tokens, self.max_calls = call_tokens, max_calls
        self.bins: list[list[Piece]] = []
        self.sizes: list[int] = []
        self.left_out: dict[str, int] = {}  # path -> changed lines not placed

    def room(self) -> int:
        """The largest unit that still fits somewhere."""
        if len(self.bins) < self.max_calls:
            return self.call_tokens
        return max(self.call_tokens - size for size in self.sizes)

    def add(self, members: Sequence[RawFile]) -> None:
        if len(members) > 1 and sum(least_tokens(r) for r in members) <= self.room():
            pieces = [Piece(raw, estimate_raw(raw)) for raw in members]
            if self._place(pieces):
                return
        for raw in members:
            self._add_file(raw)

    def _add_file(self, raw: RawFile) -> None:
        if least_tokens(raw) > self.room() and least_tokens(raw) <= self.call_tokens:
            self._leave(raw.path, raw.added + raw.removed)  # cannot fit anywhere: not even read
            return
        sized = None
        if least_tokens(raw) > self.call_tokens:
            tokens = self.call_tokens + 1
        elif len(raw.text) > self.call_tokens:  # may well need splitting: sized hunk by hunk, read once
            sized = sized_file(raw)
            tokens = sized.tokens
        else:
            tokens = estimate_raw(raw)
        if tokens <= self.call_tokens:
            if not self._place([Piece(raw, tokens)]):
                self._leave(raw.path, raw.added + raw.removed)
            return
        if self.room() < self.call_tokens // 4:  # too little room left to be worth parsing a file this big
            self._leave(raw.path, raw.added + raw.removed)
            return
        for piece in split_large(raw, self.call_tokens, sized):
            if not self._place([piece]):
                self._leave(raw.path, piece.lines)

    def _place(self, unit: Sequence[Piece]) -> bool:
        size = sum(p.tokens for p in unit)
        if size > self.call_tokens:
            return False
        for index, used in enumerate(self.sizes):
            if used + size <= self.call_tokens:
                self.bins[index].extend(unit)
                self.sizes[index] += size
                return True
        if len(self.bins) < self.max_calls:
            self.bins.append(list(unit))
            self.sizes.append(size)
            return True
        return False

    def _leave(self, path: str, lines: int) -> None:
        self.left_out[path] = self.left_out.get(path, 0) + lines
