"""The engine's one call into related context per run: the planned files' candidates gathered from a Reader,
and a line for the privacy manifest saying where they came from and what the source could not do.

Related code is a help, never a reason to fail: whatever goes wrong reading it (a checkout git refuses,
GitHub failing, a file that does not parse) leaves the review without it, and the manifest says why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ..budget import BudgetPlan
from ..diff import RawFile
from ..select import context_allowed
from . import gather
from .resolve import Reader, Related
from .source import ApiReader, GitReader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    related: Related
    source: str  # for the privacy manifest: where from, how much was read, what was left out and why


def gather_context(reader: Reader, plan: BudgetPlan, reviewable: Sequence[RawFile], ignores: Sequence[str]) -> Found:
    """The candidates for every file the plan sends (each part later takes those of its own files)."""
    planned = {piece.raw.path for chunk in plan.chunks for piece in chunk.pieces}
    files = [raw for raw in reviewable if raw.path in planned]
    try:
        related = gather(files, reader, lambda path: context_allowed(path, ignores))
    except Exception as exc:
        log.warning("related code was not read: %s", exc)
        return Found(Related(), f"not read: {type(exc).__name__}: {str(exc)[:200]}")
    return Found(related, describe(reader, related))


def describe(reader: Reader, related: Related) -> str:
    parts: list[str] = []
    if isinstance(reader, ApiReader):
        parts.append(
            f"read through GitHub's API at the head commit: {reader.requests} requests, {reader.reads} files; "
            f"callers and tests searched only near the change (at most {reader.max_reads} files per run)"
        )
        if reader.truncated:
            parts.append("GitHub cut the tree listing short")
    elif isinstance(reader, GitReader):
        parts.append(f"read from the git repository at the head commit: {reader.reads} files searched")
    if related.heuristic:
        kinds = sorted({p.rsplit(".", 1)[-1] if "." in p.rsplit("/", 1)[-1] else p for p in related.heuristic})
        parts.append(
            f"enclosing blocks only (by indentation, no parser or no clean parse) for {len(related.heuristic)} "
            f"files: {', '.join(kinds[:10])}"
        )
    return "; ".join(parts)
