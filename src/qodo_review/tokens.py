"""Token counts without a tokenizer: model limits, and a conservative estimate of what a text, a row or a file
costs in the prompt.

No tokenizer download is ever needed: tokens are estimated from character classes (letters,
digits, punctuation, non-ASCII bytes), with weights calibrated against cl100k on real diffs by
bench/bench_tokens.py so that the estimate never under-counts (1.0-1.6x of the real count).
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from .diff import RawFile
from .models import Hunk

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


def _byte_class(byte: int) -> int:
    """Letters "a", digits "0", space and newline themselves, non-ASCII 0x80, the rest (punctuation) "."."""
    char = chr(byte)
    if char in string.ascii_letters:
        return ord("a")
    if char in string.digits:
        return ord("0")
    return byte if char in " \n" else 0x80 if byte >= 0x80 else ord(".")


_CLASSES = bytes(map(_byte_class, range(256)))
FILE_HEADER_TOKENS = 30
# A row of the prompt holds at most this many characters of a line; a longer line continues on the next
# rows (rows.render_hunks), so the model sees all of it, and each extra row is budgeted here.
MAX_LINE_CHARS = 400
# A file with a line longer than this is counted not reviewed ("long lines", a content reason: select.py)
# rather than sent as MAX_SHOWN_LINE_CHARS / MAX_LINE_CHARS rows: a minified or generated line of megabytes
# would fill calls with text no reviewer reads, and one line cannot be split across calls.
MAX_SHOWN_LINE_CHARS = 20_000
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
    """A conservative token count from character classes, at C speed (bytes.translate, bytes.count)."""
    return counted_tokens(class_counts(text))


# A text's UTF-8 bytes by class: letters, digits, punctuation, non-ASCII, newlines, spaces. Counts add up
# over the pieces of a text (each character is encoded alone), so a text's count is the sum of its pieces'.
Counts = tuple[int, int, int, int, int, int]


def class_counts(text: str) -> Counts:
    """One bytes.translate to a class per byte, then a count per class (bytes.count is slowest on the most
    frequent byte: letters are what the others leave)."""
    raw = text.encode("utf-8", "replace")
    # as many bytes as characters: every character took one byte, so none of them is non-ASCII
    return _counted(raw.translate(_CLASSES), 0, len(raw), ascii_only=len(raw) == len(text))


def _counted(classes: bytes, a: int, b: int, ascii_only: bool) -> Counts:
    """The class counts of classes[a:b] (bytes translated by _CLASSES), counted in place."""
    digits, spaces, newlines = classes.count(b"0", a, b), classes.count(b" ", a, b), classes.count(b"\n", a, b)
    high = 0 if ascii_only else classes.count(b"\x80", a, b)
    punct = classes.count(b".", a, b)
    return b - a - high - digits - spaces - newlines - punct, digits, punct, high, newlines, spaces


def piece_counts(text: str, bounds: Sequence[int]) -> list[Counts]:
    """class_counts of each text[bounds[i]:bounds[i + 1]]: of an ASCII text, counted by range in one
    translation of the whole (a piece costs a few calls, not a copy, an encoding and a translation)."""
    raw = text.encode("utf-8", "replace")
    if len(raw) != len(text):  # characters and bytes are not at the same offsets: each piece alone
        return [class_counts(text[a:b]) for a, b in pairwise(bounds)]
    classes = raw.translate(_CLASSES)
    return [_counted(classes, a, b, ascii_only=True) for a, b in pairwise(bounds)]


def counted_tokens(counts: Counts) -> int:
    """estimate_tokens of a text from its class_counts."""
    letters, digits, punct, high, newlines, spaces = counts
    return math.ceil(
        letters / LETTERS_PER_TOKEN
        + digits / DIGITS_PER_TOKEN
        + punct * PUNCT_TOKENS
        + high / NON_ASCII_BYTES_PER_TOKEN
        + newlines
        + spaces * SPACE_TOKENS
    )


def continuation_rows(text: str, start: int = 0, end: int | None = None) -> int:
    """Rows past the first that the lines of text[start:end] take in the prompt (MAX_LINE_CHARS per row)."""
    return sum((length - 1) // MAX_LINE_CHARS for length in long_lines(text, MAX_LINE_CHARS, start, end))


def long_lines(text: str, limit: int, start: int = 0, end: int | None = None) -> list[int]:
    """The lengths of the lines of text[start:end] longer than limit (a line cut by start or end: its part
    inside)."""
    return [after - line for line, after in long_line_spans(text, limit, start, end)]


def long_line_spans(text: str, limit: int, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Where the lines of text[start:end] longer than limit start and end. One probe per limit characters at
    least, not a pass over every character: a line longer than limit holds the position limit after its
    start, and the next probe is limit after the probed line's end, so no longer line lies between two probes
    (a regex pass cost 0.1-0.2 s on 33 MB, this 1-2 ms a MB)."""
    stop = len(text) if end is None else end
    spans = []
    probe = start + limit
    while probe < stop:
        line = text.rfind("\n", start, probe) + 1 or start  # the probed line: [line, after)
        after = text.find("\n", probe, stop)
        after = stop if after == -1 else after
        if after - line > limit:
            spans.append((line, after))
        probe = after + 1 + limit
    return spans


def row_tokens(text: str, start: int = 0, end: int | None = None) -> int:
    """The prefix and newline of every continuation row of text[start:end]."""
    return (LINE_PREFIX_TOKENS + 1) * continuation_rows(text, start, end)


def estimate_raw(raw: RawFile) -> int:
    """A whole file as its raw diff text says, continuation rows of long lines included (never under)."""
    return file_tokens(class_counts(raw.text), continuation_rows(raw.text))


def file_tokens(counts: Counts, rows: int) -> int:
    """estimate_raw of a file from its text's class_counts and its continuation_rows."""
    return (
        FILE_HEADER_TOKENS + counted_tokens(counts) + LINE_PREFIX_TOKENS * counts[4] + (LINE_PREFIX_TOKENS + 1) * rows
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
