"""Token budgets: model limits, a conservative token estimate, and packing files into calls.

No tokenizer download is ever needed: tokens are estimated from character classes (letters,
digits, punctuation, non-ASCII bytes), with weights calibrated against cl100k on real diffs by
bench/bench_tokens.py so that the estimate never under-counts (1.0-1.6x of the real count).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .diff import RawFile, parse_file
from .models import Hunk, Skipped

# Weights calibrated in bench/bench_tokens.py against cl100k on the real diffs in shared/realdata: real
# diffs run 1.8-2.9 characters per token (base64 and PEM blocks are the densest); these weights give
# 1.0-1.6 times the real count on every one of them, so a planned call never overflows the window.
LETTERS_PER_TOKEN = 2.5
DIGITS_PER_TOKEN = 2.0
PUNCT_TOKENS = 1.1  # each punctuation character
NON_ASCII_BYTES_PER_TOKEN = 1.5
SPACE_TOKENS = 0.15
# Each rendered diff line carries a side/number prefix ("R1234 + | "): about this many tokens.
LINE_PREFIX_TOKENS = 5
_LETTERS = string.ascii_letters.encode()
_DIGITS = string.digits.encode()
_HIGH = bytes(range(128, 256))
FILE_HEADER_TOKENS = 30
# A row of the prompt holds at most this many characters of a line; a longer line continues on the next
# rows (prompt.render_hunks), so the model sees all of it, and each extra row is budgeted here.
MAX_LINE_CHARS = 400
# A file with a line longer than this is counted not reviewed ("long lines", a content reason: select.py)
# rather than sent as MAX_SHOWN_LINE_CHARS / MAX_LINE_CHARS rows: a minified or generated line of megabytes
# would fill calls with text no reviewer reads, and one line cannot be split across calls.
MAX_SHOWN_LINE_CHARS = 20_000
# A long line is found at the newline before it: a pattern that starts with a literal character is searched
# for at C speed (4x faster than anchoring at a line start, 13x faster than matching anywhere, on 33 MB).
_LONG_LINE = re.compile(f"\n[^\n]{{{MAX_LINE_CHARS + 1},}}")
DEFAULT_CALL_INPUT_TOKENS = 60_000  # per call: long prompts cost more and are reviewed worse
DEFAULT_OUTPUT_TOKENS = 8_000


@dataclass(frozen=True)
class ModelLimits:
    context: int
    max_output: int
    known: bool = True


# (model-name prefix, context window, max output tokens), from the providers' model pages; the first
# matching prefix wins, so a specific name comes before its family. Open-weight models (llama, qwen,
# mistral...) are left out on purpose: their window is whatever the server was started with.
MODEL_LIMITS: tuple[tuple[str, int, int], ...] = (
    # platform.openai.com/docs/models
    ("gpt-5-chat", 128_000, 16_384),
    ("gpt-5.1-chat", 128_000, 16_384),
    ("gpt-5-pro", 400_000, 272_000),
    ("gpt-5", 400_000, 128_000),  # gpt-5, -mini, -nano, -codex, gpt-5.1
    ("gpt-4.1", 1_047_576, 32_768),
    ("gpt-4.5", 128_000, 16_384),
    ("gpt-4o", 128_000, 16_384),
    ("chatgpt-4o", 128_000, 16_384),
    ("gpt-4-turbo", 128_000, 4_096),
    ("gpt-4-32k", 32_768, 8_192),
    ("gpt-4", 8_192, 8_192),
    ("gpt-3.5-turbo", 16_385, 4_096),
    ("gpt-oss", 131_072, 131_072),
    ("codex-mini", 200_000, 100_000),
    ("o4-mini", 200_000, 100_000),
    ("o3", 200_000, 100_000),  # o3, o3-mini, o3-pro
    ("o1-mini", 128_000, 65_536),
    ("o1-preview", 128_000, 32_768),
    ("o1", 200_000, 100_000),
    # docs.anthropic.com/en/docs/about-claude/models (200k without the 1M-context beta header, never sent)
    ("claude-opus-4-5", 200_000, 64_000),
    ("claude-opus-4", 200_000, 32_000),  # opus 4 and 4.1
    ("claude-sonnet-4", 200_000, 64_000),
    ("claude-haiku-4", 200_000, 64_000),
    ("claude-3-7-sonnet", 200_000, 64_000),
    ("claude-3-5", 200_000, 8_192),
    ("claude-3", 200_000, 4_096),
    # ai.google.dev/gemini-api/docs/models (its OpenAI-compatible endpoint)
    ("gemini-3", 1_048_576, 65_536),
    ("gemini-2.5", 1_048_576, 65_536),
    ("gemini-2.0", 1_048_576, 8_192),
    ("gemini-1.5-pro", 2_097_152, 8_192),
    ("gemini-1.5", 1_048_576, 8_192),
    # api-docs.deepseek.com/quick_start/pricing
    ("deepseek-chat", 128_000, 8_000),
    ("deepseek-reasoner", 128_000, 64_000),
)
UNKNOWN_MODEL = ModelLimits(context=32_000, max_output=4_096, known=False)


def model_limits(model: str) -> ModelLimits:
    """The limits of a model by name, also as proxies and clouds spell it: "openai/gpt-4o",
    "us.anthropic.claude-sonnet-4-20250514-v1:0" (Bedrock), "claude-sonnet-4@20250514" (Vertex)."""
    name = model.lower().rsplit("/", 1)[-1]
    name = name.split("anthropic.", 1)[-1]
    for prefix, context, output in MODEL_LIMITS:
        if name.startswith(prefix):
            return ModelLimits(context, output)
    return UNKNOWN_MODEL


def estimate_tokens(text: str) -> int:
    """A conservative token count from character classes, at C speed (bytes.translate, count)."""
    raw = text.encode("utf-8", "replace")
    ascii_only = raw.translate(None, _HIGH)
    letters = len(ascii_only) - len(ascii_only.translate(None, _LETTERS))
    digits = len(ascii_only) - len(ascii_only.translate(None, _DIGITS))
    spaces = ascii_only.count(b" ")
    newlines = ascii_only.count(b"\n")
    punct = len(ascii_only) - letters - digits - spaces - newlines
    return math.ceil(
        letters / LETTERS_PER_TOKEN
        + digits / DIGITS_PER_TOKEN
        + punct * PUNCT_TOKENS
        + (len(raw) - len(ascii_only)) / NON_ASCII_BYTES_PER_TOKEN
        + newlines
        + spaces * SPACE_TOKENS
    )


def continuation_rows(text: str, start: int = 0, end: int | None = None) -> int:
    """Rows past the first that the lines of text[start:end] take in the prompt (MAX_LINE_CHARS per row)."""
    stop = len(text) if end is None else end
    first = text.find("\n", start, stop)
    head = (first if first != -1 else stop) - start  # the line at start (or its rest) has no newline before it
    rows = max(head - 1, 0) // MAX_LINE_CHARS
    if first == -1:
        return rows
    return rows + sum((len(m.group()) - 2) // MAX_LINE_CHARS for m in _LONG_LINE.finditer(text, first, stop))


def row_tokens(text: str, start: int = 0, end: int | None = None) -> int:
    """The prefix and newline of every continuation row of text[start:end]."""
    return (LINE_PREFIX_TOKENS + 1) * continuation_rows(text, start, end)


def estimate_raw(raw: RawFile) -> int:
    """A whole file as its raw diff text says, continuation rows of long lines included (never under)."""
    return (
        FILE_HEADER_TOKENS
        + estimate_tokens(raw.text)
        + LINE_PREFIX_TOKENS * raw.text.count("\n")
        + row_tokens(raw.text)
    )


def least_tokens(raw: RawFile) -> int:
    """A lower bound of estimate_raw at no cost: every changed line costs a prefix and a newline at least.
    Enough to see that a file cannot fit in what is left, without reading its text."""
    return FILE_HEADER_TOKENS + (LINE_PREFIX_TOKENS + 1) * (raw.added + raw.removed)


def hunk_tokens(hunk: Hunk) -> int:
    """One hunk as the prompt shows it (long lines on several rows); the sum over hunks bounds estimate_hunks."""
    text = hunk.section + "\n" + "\n".join(ln.text for ln in hunk.lines)
    return estimate_tokens(text) + 1 + LINE_PREFIX_TOKENS * (len(hunk.lines) + 1) + row_tokens(text)


def line_tokens(text: str) -> int:
    """One diff line as the prompt shows it: its text, and a prefix and newline per row."""
    rows = 1 + continuation_rows(text) if len(text) > MAX_LINE_CHARS else 1  # a short line is one row
    return estimate_tokens(text) + (LINE_PREFIX_TOKENS + 1) * rows


def estimate_hunks(hunks: Sequence[Hunk]) -> int:
    return FILE_HEADER_TOKENS + sum(hunk_tokens(h) for h in hunks)


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


def split_large(raw: RawFile, budget: int) -> list[Piece]:
    """Split one file at hunk boundaries; a single hunk over budget is cut at line boundaries.

    Hunks are found and sized on the raw text (a piece is the file's header plus a run of whole hunks,
    parsed when its prompt is built): the plan of a huge PR holds no parsed lines. Only a hunk too big
    for one call is parsed here, to cut it between lines.
    """
    header, spans = _hunk_spans(raw.text)
    if sum(_changed(raw.text, a, b) for a, b in spans) != raw.added + raw.removed:
        spans = []  # text after the hunks (a mail signature?) that the counts skip: parse instead
    units: list[tuple[int, tuple[int, int] | Hunk]] = []  # (tokens, span of raw text or a parsed part)
    for a, b in spans:
        cost = (
            estimate_tokens(raw.text[a:b])
            + 1
            + LINE_PREFIX_TOKENS * raw.text.count("\n", a, b)
            + row_tokens(raw.text, a, b)
        )
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
        tokens = estimate_raw(raw) if least_tokens(raw) <= self.call_tokens else self.call_tokens + 1
        if tokens <= self.call_tokens:
            if not self._place([Piece(raw, tokens)]):
                self._leave(raw.path, raw.added + raw.removed)
            return
        if self.room() < self.call_tokens // 4:  # too little room left to be worth parsing a file this big
            self._leave(raw.path, raw.added + raw.removed)
            return
        for piece in split_large(raw, self.call_tokens):
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
