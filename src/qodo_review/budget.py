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
from dataclasses import dataclass

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
DEFAULT_CALL_INPUT_TOKENS = 60_000  # per call: long prompts cost more and are reviewed worse
DEFAULT_OUTPUT_TOKENS = 8_000


@dataclass(frozen=True)
class ModelLimits:
    context: int
    max_output: int
    known: bool = True


# (model-name prefix, context window, max output tokens), from the providers' model pages.
MODEL_LIMITS: tuple[tuple[str, int, int], ...] = (
    ("gpt-5", 400_000, 128_000),
    ("gpt-4.1", 1_047_576, 32_768),
    ("gpt-4o", 128_000, 16_384),
    ("gpt-4-turbo", 128_000, 4_096),
    ("o4-mini", 200_000, 100_000),
    ("o3", 200_000, 100_000),
    ("o1", 200_000, 100_000),
    ("claude-opus-4", 200_000, 32_000),
    ("claude-sonnet-4", 200_000, 64_000),
    ("claude-haiku-4", 200_000, 64_000),
    ("claude-3-7-sonnet", 200_000, 64_000),
    ("claude-3-5", 200_000, 8_192),
    ("claude-3", 200_000, 4_096),
)
UNKNOWN_MODEL = ModelLimits(context=32_000, max_output=4_096, known=False)


def model_limits(model: str) -> ModelLimits:
    name = model.lower().rsplit("/", 1)[-1]  # "openai/gpt-4o" on proxies
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
    return math.ceil(letters / LETTERS_PER_TOKEN + digits / DIGITS_PER_TOKEN + punct * PUNCT_TOKENS
                     + (len(raw) - len(ascii_only)) / NON_ASCII_BYTES_PER_TOKEN + newlines + spaces * SPACE_TOKENS)


def estimate_raw(raw: RawFile) -> int:
    return FILE_HEADER_TOKENS + estimate_tokens(raw.text) + LINE_PREFIX_TOKENS * raw.text.count("\n")


def estimate_hunks(hunks: Sequence[Hunk]) -> int:
    lines = sum(len(h.lines) + 1 for h in hunks)
    text = "\n".join(h.section + "\n" + "\n".join(ln.text for ln in h.lines) for h in hunks)
    return FILE_HEADER_TOKENS + estimate_tokens(text) + LINE_PREFIX_TOKENS * lines


@dataclass(frozen=True)
class Piece:
    """A file, or a run of its hunks when the file alone is larger than one call."""

    raw: RawFile
    tokens: int
    hunks: tuple[Hunk, ...] | None = None  # None: the whole file, parsed when the prompt is built
    part: int = 1
    parts: int = 1


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
            notices.append(f"Model '{model}' is not in the built-in table; assuming a {limits.context:,}-token "
                           f"context. Set max-input-tokens to use more.")
    return max(window - overhead, 1_000), output, limits, notices


def _group_key(path: str) -> str:
    """A module and its tests share a key: src/foo/bar.py ~ tests/test_bar.py ~ bar.test.ts."""
    base = path.rsplit("/", 1)[-1].lower()
    base = re.sub(r"^(test_|spec_)|(_test|_spec|\.test|\.spec)(?=\.)", "", base)
    return base.split(".", 1)[0]


def split_large(raw: RawFile, budget: int) -> list[Piece]:
    """Split one file at hunk boundaries; a single hunk over budget is cut at line boundaries."""
    hunks: list[Hunk] = []
    for hunk in parse_file(raw).hunks:
        hunks.extend(_cut_hunk(hunk, budget))
    groups: list[list[Hunk]] = [[]]
    for hunk in hunks:
        if groups[-1] and estimate_hunks([*groups[-1], hunk]) > budget:
            groups.append([])
        groups[-1].append(hunk)
    groups = [g for g in groups if g]
    return [Piece(raw, estimate_hunks(g), tuple(g), i + 1, len(groups)) for i, g in enumerate(groups)]


def _cut_hunk(hunk: Hunk, budget: int) -> list[Hunk]:
    if estimate_hunks([hunk]) <= budget:
        return [hunk]
    out: list[Hunk] = []
    lines = list(hunk.lines)
    start = 0
    # the same terms estimate_hunks counts: header, section line, and per line its prefix and newline
    limit = budget - FILE_HEADER_TOKENS - estimate_tokens(hunk.section) - LINE_PREFIX_TOKENS - 2
    while start < len(lines):
        tokens, end = 0, start
        while end < len(lines):
            cost = estimate_tokens(lines[end].text) + LINE_PREFIX_TOKENS + 1
            if end > start and tokens + cost > limit:
                break
            tokens += cost
            end += 1
        part = lines[start:end]
        old = next((ln.old for ln in part if ln.old is not None), hunk.old_start)
        new = next((ln.new for ln in part if ln.new is not None), hunk.new_start)
        out.append(Hunk(old, sum(ln.kind != "+" for ln in part), new, sum(ln.kind != "-" for ln in part),
                        hunk.section, tuple(part)))
        start = end
    return out


def plan_budget(files: Sequence[RawFile], *, call_tokens: int, output_tokens: int, limits: ModelLimits,
                max_calls: int, notices: Sequence[str] = ()) -> BudgetPlan:
    """Pack files (already in priority order) into at most max_calls chunks of at most call_tokens each.

    Related files (a module and its test) are placed together where they fit; a file larger than one
    call is split at hunk boundaries. Deterministic: same input, same plan.
    """
    groups: dict[str, list[Piece]] = {}
    capacity = call_tokens * max_calls
    planned = 0
    late: list[Piece] = []
    for raw in files:
        tokens = estimate_raw(raw)
        planned += tokens
        if planned > 2 * capacity and tokens > call_tokens:
            late.append(Piece(raw, tokens))  # cannot fit anyway: not worth parsing to split it
            continue
        pieces = [Piece(raw, tokens)] if tokens <= call_tokens else split_large(raw, call_tokens)
        key = _group_key(raw.path) if len(pieces) == 1 else f"\0{raw.path}"
        groups.setdefault(key, []).extend(pieces)
    bins: list[list[Piece]] = []
    for pieces in groups.values():
        whole = sum(p.tokens for p in pieces)
        units = [pieces] if whole <= call_tokens else [[p] for p in pieces]
        for unit in units:
            size = sum(p.tokens for p in unit)
            target = next((b for b in bins if sum(p.tokens for p in b) + size <= call_tokens), None)
            if target is None:
                target = []
                bins.append(target)
            target.extend(unit)
    chunks = tuple(Chunk(tuple(b)) for b in bins[:max_calls])
    not_reviewed = _not_reviewed([*bins[max_calls:], late], max_calls)
    return BudgetPlan(chunks, not_reviewed, call_tokens, output_tokens, limits, tuple(notices))


def _not_reviewed(bins: Sequence[Sequence[Piece]], max_calls: int) -> tuple[Skipped, ...]:
    out: dict[str, int] = {}
    for piece in (p for b in bins for p in b):
        if piece.hunks is None:
            lines = piece.raw.added + piece.raw.removed
        else:
            lines = sum(h.added + h.removed for h in piece.hunks)
        out[piece.raw.path] = out.get(piece.raw.path, 0) + lines
    reason = f"over the max-calls budget ({max_calls} calls); raise max-calls to review it"
    return tuple(Skipped(path, reason, lines, "not-reviewed") for path, lines in out.items())
