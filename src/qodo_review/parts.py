"""A plan's parts as the engine works them: the lines each file sends, whole-file pieces parsed only when a
part must be halved, the halves, and the secret scan's reading of a part (Line objects only for the hunks
the rendering redacted in) or of a file left out (its raw new side, parsed only when the redactor finds
something in it); a part's Result, and the lines the results leave not reviewed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from .budget import BudgetPlan, Chunk, Piece
from .cost import Spend
from .diff import RawFile, parse_file
from .diff.regions import hunk_views, view_hunk
from .models import FileDiff, Finding, Prompt, Skipped, Usage
from .redact import Redactor, secret_findings, withheld_reason

T = TypeVar("T")
UNVERIFIED_REASON = (
    "unverified: read from git past GitHub's file list, not checked against GitHub's blob ids (shown to the model)"
)


@dataclass
class Result(Generic[T]):
    """What one part of the plan gave: its answers, usage, errors, prompts and what it sent."""

    answers: list[T] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    errors: list[str] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    files_sent: list[tuple[str, int]] = field(default_factory=list)
    files_reviewed: list[tuple[str, int]] = field(default_factory=list)  # the parts the model answered
    secrets: list[Finding] = field(default_factory=list)  # found by the secret scan in what this part sends
    over_cost: list[tuple[str, int]] = field(default_factory=list)  # (path, lines) not sent: max-cost
    related_sent: list[tuple[str, int]] = field(default_factory=list)  # related code blocks (path, lines)
    redacted: list[tuple[int, ...]] | None = None  # per piece of the part: the hunks the secret scan reads
    prompt_seconds: float = 0.0


def failed_parts(results: Sequence[Result[Any]]) -> list[Skipped]:
    """Lines sent whose call failed: not reviewed, each file with the count of its lines left out."""
    missing: dict[str, int] = {}
    for result in results:
        for path, lines in result.files_sent:
            missing[path] = missing.get(path, 0) + lines
        for path, lines in result.files_reviewed:
            missing[path] -= lines
    return [
        Skipped(path, "its model call failed (see the problems above)", lines, "not-reviewed")
        for path, lines in missing.items()
        if lines > 0
    ]


def over_cost(results: Sequence[Result[Any]], spend: Spend | None) -> list[Skipped]:
    """Lines whose call was not made because it could have passed max-cost: not reviewed, a hard reason."""
    lines: dict[str, int] = {}
    for result in results:
        for path, count in result.over_cost:
            lines[path] = lines.get(path, 0) + count
    reason = spend.reason() if spend is not None else ""
    return [Skipped(path, reason, count, "not-reviewed") for path, count in lines.items() if count > 0]


def unverified(results: Sequence[Result[Any]], paths: set[str]) -> list[Skipped]:
    """Lines of unverified files that the model answered: shown, but counted not reviewed (a content reason)."""
    shown: dict[str, int] = {}
    for result in results:
        for path, lines in result.files_reviewed:
            if path in paths:
                shown[path] = shown.get(path, 0) + lines
    return [
        Skipped(path, UNVERIFIED_REASON, lines, "not-reviewed", content=True, shown=True)
        for path, lines in shown.items()
    ]


def planned_lines(plan: BudgetPlan) -> dict[str, int]:
    """Changed lines of each file that the plan sends."""
    lines: dict[str, int] = {}
    for chunk in plan.chunks:
        for piece in chunk.pieces:
            lines[piece.raw.path] = lines.get(piece.raw.path, 0) + piece.lines
    return lines


def resolve(chunk: Chunk) -> Chunk:
    """Parse whole-file pieces (so a single large file can be halved too); split ones were parsed by the budget.
    Only a part that must be halved is parsed: rendering reads whole files from their raw text."""
    return Chunk(tuple(p if p.hunks is not None else replace(p, hunks=parse_file(p.raw).hunks) for p in chunk.pieces))


def scan_quick(
    files: Sequence[tuple[int, list[str]]], raw_files: Sequence[RawFile], redactor: Redactor
) -> dict[int, list[Finding]]:
    """The secret scan of files whose new side (context and added lines) was read from the raw text: a file
    the redactor changes no line of holds no secret (every secret but a PEM block, checked for before, lies
    within one line) and is not parsed; parsing into Line objects costs ten times the redactor's pass."""
    found: dict[int, list[Finding]] = {}
    for index, texts in files:
        if redactor.redact_lines(texts) != texts:
            found[index] = secret_findings([parse_file(raw_files[index])], redactor)
    return found


def scan_diffs(chunk: Chunk, redacted: Sequence[tuple[int, ...]] | None, scanned: set[str]) -> list[FileDiff]:
    """What the secret scan reads again of a part's pieces (``redacted``: per piece, the hunks the rendering
    redacted in; None: all): a piece with no such hunk is not read at all, a withheld file whole."""
    diffs = []
    for index, piece in enumerate(chunk.pieces):
        if piece.raw.path in scanned:
            continue
        only = None if redacted is None or withheld_reason(piece.raw.path) is not None else redacted[index]
        if only != ():
            diffs.append(piece_diff(piece, only))
    return diffs


def piece_diff(piece: Piece, only: tuple[int, ...] | None = None) -> FileDiff:
    """The piece as a FileDiff for the secret scan; ``only``: just these of its hunks (None: all). A whole
    file rendered from its raw text is parsed here only when some of its hunks are to be read again."""
    raw = piece.raw
    hunks = piece.hunks
    if hunks is None and only is not None:
        views = hunk_views(raw, only)
        hunks = tuple(view_hunk(v) for v in views) if views is not None else None
        only = None if views is not None else only
    if hunks is None:
        hunks = () if only == () else parse_file(raw).hunks
    if only is not None:
        hunks = tuple(hunks[i] for i in only)
    return FileDiff(path=raw.path, old_path=raw.old_path, status=raw.status, hunks=hunks)


def halve(chunk: Chunk) -> tuple[Chunk, Chunk] | None:
    """Two halves of a part: its pieces split in two, or a single piece's hunks (None: it cannot be split)."""
    pieces = list(chunk.pieces)
    if len(pieces) > 1:
        mid = len(pieces) // 2
        return Chunk(tuple(pieces[:mid])), Chunk(tuple(pieces[mid:]))
    piece = pieces[0]
    hunks = list(piece.hunks or ())
    if len(hunks) < 2:
        return None
    mid = len(hunks) // 2
    first = Piece(piece.raw, piece.tokens // 2, tuple(hunks[:mid]), piece.part, piece.parts)
    second = Piece(piece.raw, piece.tokens - piece.tokens // 2, tuple(hunks[mid:]), piece.part, piece.parts)
    return Chunk((first,)), Chunk((second,))
