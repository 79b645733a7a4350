"""The diff as the model reads it: a part's files as numbered rows (`R<n>`/`L<n>`), every line redacted
first (one redactor call per file), far context elided, re-indented hunks shown once, long lines continued
on more rows. Files sent whole are read from their raw text (diff.hunk_views), without a Line object each.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from .budget import MAX_LINE_CHARS, Chunk
from .diff import parse_file
from .diff.regions import HunkView, hunk_views
from .models import FileStatus, Hunk
from .redact import Redactor, may_be_escaped

# Unchanged lines shown around a change: git's and GitHub's default. A diff made with more (`git diff -U20`)
# is trimmed to this: far context costs tokens and draws comments away from the change.
MAX_CONTEXT_LINES = 3
# Files whose indentation is syntax (it moves code in or out of a block, or changes a value): every change to
# them is shown with both sides, whitespace and all. Elsewhere a hunk that only re-indents lines (each removed
# line is an added line with other whitespace around it, in the same order) shows its added lines once, as
# `~` rows: the new code is still shown exactly, only the old whitespace is not repeated. Nothing is folded
# away: whitespace inside a line (a string literal) or a line joined or split is a change like any other.
INDENT_SIGNIFICANT_SUFFIXES = frozenset(
    {
        ".py",
        ".pyi",
        ".pyw",
        ".pyx",
        ".pxd",
        ".bzl",
        ".star",
        ".yml",
        ".yaml",
        ".mk",
        ".coffee",
        ".litcoffee",
        ".hs",
        ".lhs",
        ".nim",
        ".nims",
        ".fs",
        ".fsi",
        ".fsx",
        ".sass",
        ".styl",
        ".pug",
        ".jade",
        ".haml",
        ".slim",
        ".elm",
        ".purs",
        ".idr",
        ".agda",
        ".cabal",
        ".gd",
        ".md",
        ".markdown",
        ".rst",
    }
)
INDENT_SIGNIFICANT_NAMES = frozenset({"makefile", "gnumakefile", "snakefile", "build", "build.bazel", "workspace"})
CONTINUED = "↪"  # the mark of a row that continues the line above (MAX_LINE_CHARS characters per row)
REINDENTED = "~"


@dataclass(frozen=True)
class RenderedFile:
    path: str
    lines_sent: int
    text: str
    # the hunks (indices) in which the redactor replaced something or that name a private key: the secret
    # scan reads these again (engine._Runner.run)
    redacted: tuple[int, ...] = ()


def indentation_is_syntax(path: str) -> bool:
    """Whether re-indenting a line of this file can change what it means (unknown files: no name, yes)."""
    name = path.rsplit("/", 1)[-1].lower()
    if not name or name in INDENT_SIGNIFICANT_NAMES:
        return True
    dot = name.rfind(".")
    return dot > 0 and name[dot:] in INDENT_SIGNIFICANT_SUFFIXES


def line_rows(prefix: str, number: int | None, text: str) -> list[str]:
    """One diff line as rows: the first with its prefix, the rest of a long line on continuation rows."""
    side = prefix[0]
    rows = [f"{prefix} | {text[:MAX_LINE_CHARS]}"]
    for start in range(MAX_LINE_CHARS, len(text), MAX_LINE_CHARS):
        rows.append(f"{side}{number} {CONTINUED} | {text[start : start + MAX_LINE_CHARS]}")
    return rows


def render_hunks(hunks: Sequence[Hunk], redactor: Redactor, path: str = "") -> tuple[str, int]:
    """Numbered diff rows for the model; returns (text, changed lines covered). Every changed line is shown:
    long lines on continuation rows, re-indented lines once (`~`) where indentation is not syntax."""
    text, sent, _ = _render_hunks(hunks, redactor, path)
    return text, sent


_CONTEXT_RUN = re.compile(" +")
_KIND_RUN = re.compile(r"\++|-+| +")
_NEWLINE = "\n"
_HIDDEN_RUN = " " * (MAX_CONTEXT_LINES + 1)  # a shorter run of context lines is shown whole


def _views(hunks: Sequence[Hunk]) -> list[HunkView]:
    """Parsed hunks in the shape the renderer reads (a HunkView per hunk)."""
    return [
        HunkView(
            h.old_start,
            h.old_len,
            h.new_start,
            h.new_len,
            h.section,
            "".join([ln.kind for ln in h.lines]),
            [ln.text for ln in h.lines],
        )
        for h in hunks
    ]


def _render_hunks(
    hunks: Sequence[Hunk] | Sequence[HunkView], redactor: Redactor, path: str, pem: bool = True
) -> tuple[str, int, tuple[int, ...]]:
    """render_hunks, and the hunks in which the redactor replaced something or (pem: the file may name one)
    a line names a private key. Takes parsed hunks or HunkViews read from the raw text (diff.hunk_views:
    the same lines without a Line object each, for the files of a huge PR)."""
    views = [h for h in hunks if isinstance(h, HunkView)]
    if len(views) != len(hunks):
        views = _views(hunks)  # type: ignore[arg-type]
    rows: list[str] = []  # the rows, each followed by a newline: joined once, with no row built per line
    sent = 0
    redacted: list[int] = []
    compact_ok = not indentation_is_syntax(path)
    sections, redacted_texts = _redact_hunks(views, redactor)
    for number, hunk in enumerate(views):
        header = f"@@ -{hunk.old_start},{hunk.old_len} +{hunk.new_start},{hunk.new_len} @@ {sections[number][:120]}"
        rows += (header.rstrip(), "\n")
        kinds, originals = hunk.kinds, hunk.texts
        compact = compact_ok and _reindented(kinds, originals)
        if compact:
            rows += (f"(re-indented only: {kinds.count('+')} lines, shown once as `{REINDENTED}` rows)", "\n")
        texts = redacted_texts[number]
        if texts != originals or (pem and any("PRIVATE KEY" in text for text in originals)):
            redacted.append(number)
        sent += len(kinds) - kinds.count(" ")
        long_lines = max(map(len, texts), default=0) > MAX_LINE_CHARS
        numbers = hunk.old_start, hunk.new_start  # of the next line not yet shown or elided
        shown = 0
        for start, end in [*_hidden_context(kinds), (len(kinds), len(kinds))]:
            numbers = _line_rows(rows, kinds, texts, (shown, start), numbers, compact, long_lines)
            if end > start:
                count = end - start
                rows += (f"(… {count} unchanged line{'s' if count != 1 else ''} not shown)", "\n")
                numbers = numbers[0] + count, numbers[1] + count
            shown = end
    if rows:
        rows.pop()  # no newline after the last row
    return "".join(rows), sent, tuple(redacted)


def _line_rows(
    rows: list[str],
    kinds: str,
    texts: Sequence[str],
    span: tuple[int, int],
    numbers: tuple[int, int],
    compact: bool,
    long_lines: bool,
) -> tuple[int, int]:
    """Add the rows of the lines in span, each followed by a newline, numbered from (old, new); returns the
    numbers after them. Built a run of one kind at a time, its numbers a range: its prefixes, texts and
    newlines laid side by side by slice assignment (in C), for one join of the whole file."""
    old, new = numbers
    heads = _HEADS[compact]
    prefixes: list[str] = []
    shown: list[str] = []  # the texts of a re-indented hunk's shown lines (else: all of texts[span])
    for run in _KIND_RUN.finditer(kinds, *span):
        start, end = run.span()
        kind, count = kinds[start], end - start
        first = old if kind == "-" else new
        if kind != "+":
            old += count
        if kind != "-":
            new += count
        elif compact:
            continue  # a re-indented hunk shows its added lines only
        head = heads[kind]  # "R{} + | "
        if long_lines:
            for line, text in zip(range(first, first + count), texts[start:end], strict=True):
                for row in line_rows(head.format(line)[:-3], line, text):
                    rows += (row, "\n")
            continue
        table = _PREFIXES.tables.get(head, ())
        prefixes += (
            table[first : first + count] if first + count <= len(table) else _PREFIXES.slice(head, first, first + count)
        )
        if compact:
            shown += texts[start:end]
    if prefixes:
        laid = [_NEWLINE] * (3 * len(prefixes))
        laid[::3] = prefixes
        laid[1::3] = shown if compact else texts[span[0] : span[1]]
        rows += laid
    return old, new


# A row's prefix by the line's kind and whether its hunk only re-indents (added lines shown once as `~`)
_HEADS = {
    False: {"-": "L{} - | ", "+": "R{} + | ", " ": "R{}   | "},
    True: {"+": f"R{{}} {REINDENTED} | ", " ": "R{}   | "},
}


class _RowPrefixes:
    """Row prefixes by line number ("R12 + | "), formatted once per process up to PREFIXED_LINES: the files
    of a huge PR share their line numbers, and a row is then one concatenation instead of an f-string."""

    def __init__(self) -> None:
        self.tables: dict[str, list[str]] = {}  # by head: its prefixes from 0 (read without the lock)
        self._lock = threading.Lock()  # parts render in the engine's threads

    def slice(self, head: str, start: int, stop: int) -> list[str]:
        """``head`` ("R{} + | ") formatted with each number of range(start, stop)."""
        if stop > PREFIXED_LINES:
            return [head.format(number) for number in range(start, stop)]
        table = self.tables.get(head, [])
        if len(table) < stop:
            with self._lock:
                table = self.tables.setdefault(head, [])
                if len(table) < stop:  # grown whole before it is added: a reader never sees a partial table
                    size = min(max(stop, 2 * len(table), 1024), PREFIXED_LINES)
                    table += [head.format(number) for number in range(len(table), size)]
        return table[start:stop]


PREFIXED_LINES = 1 << 15  # at most ~4 x 2 MB of prefixes kept (four heads: L -, R +, R ~, R space)
_PREFIXES = _RowPrefixes()


def _redact_hunks(views: Sequence[HunkView], redactor: Redactor) -> tuple[list[str], list[list[str]]]:
    """Each hunk's section and line texts, redacted in one redact_lines call for all of them, in the order
    the hunks hold them (so placeholders are numbered as hunk by hunk): a call costs more than its lines. The
    whole file's lines are read together, trimmed context included: a secret spanning lines (a PEM block) is
    only recognised whole. A section that may be escaped (what only Redactor.redact sees through) is redacted
    alone, in its turn."""
    sections = [view.section for view in views]
    spans: list[tuple[int, int, int]] = []  # per hunk: where its section (-1: none) and its lines are in batch
    batch: list[str] = []
    done: list[str] = []  # batch entries redacted already (before a section redacted alone)
    for number, view in enumerate(views):
        section = view.section
        at = -1
        if may_be_escaped(section):
            done += redactor.redact_lines(batch[len(done) :]) if len(batch) > len(done) else []
            sections[number] = redactor.redact(section)
        elif section:
            at = len(batch)
            batch.append(section)
        spans.append((at, len(batch), len(batch) + len(view.texts)))
        batch += view.texts
    done += redactor.redact_lines(batch[len(done) :]) if len(batch) > len(done) else []
    for number, (at, _, _) in enumerate(spans):
        if at >= 0:
            sections[number] = done[at]
    return sections, [done[start:end] for _, start, end in spans]


def _hidden_context(kinds: str) -> list[tuple[int, int]]:
    """[start, end) runs of context lines not shown: all but MAX_CONTEXT_LINES after and before a change.
    ``kinds`` holds a hunk's line kinds, one character per line."""
    hidden: list[tuple[int, int]] = []
    if _HIDDEN_RUN not in kinds:  # most hunks: no context run longer than what is shown
        return hidden
    for run in _CONTEXT_RUN.finditer(kinds):
        after_change, before_change = run.start() > 0, run.end() < len(kinds)
        start = run.start() + MAX_CONTEXT_LINES if after_change else run.start()
        end = run.end() - MAX_CONTEXT_LINES if before_change else run.end()
        if end > start and (after_change or before_change):
            hidden.append((start, end))
    return hidden


def _reindented(kinds: str, texts: Sequence[str]) -> bool:
    """Every removed line is an added line with other whitespace around it, in the same order."""
    if "-" not in kinds or kinds.count("-") != kinds.count("+"):
        return False
    removed = [text.strip() for kind, text in zip(kinds, texts, strict=True) if kind == "-"]
    added = [text.strip() for kind, text in zip(kinds, texts, strict=True) if kind == "+"]
    return removed == added


def render_chunk(chunk: Chunk, redactor: Redactor) -> list[RenderedFile]:
    out = []
    for piece in chunk.pieces:
        hunks: Sequence[Hunk] | Sequence[HunkView] | None = piece.hunks
        if hunks is None:  # a whole file: read from its raw text, parsed only when it is not plainly formed
            hunks = hunk_views(piece.raw)
            if hunks is None:
                hunks = parse_file(piece.raw).hunks
        body, sent, redacted = _render_hunks(hunks, redactor, piece.raw.path, "PRIVATE KEY" in piece.raw.text)
        raw = piece.raw
        path = redactor.redact(raw.path)
        status = raw.status.value
        if raw.status is FileStatus.RENAMED and raw.old_path:
            status += f" from {redactor.redact(raw.old_path)}"
        part = f", part {piece.part} of {piece.parts}" if piece.parts > 1 else ""
        out.append(RenderedFile(raw.path, sent, f"### File: {path} ({status}{part})\n{body}", redacted))
    return out
