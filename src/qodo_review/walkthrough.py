"""The review's walkthrough and effort, from the answers the review already gets (no extra model call).

Each call answers, besides its findings, one line per file of its part (``files``) and an effort estimate for
its part (``effort``: 1-5 and one line why). Everything here is model text, hence hostile: it is read
tolerantly, cut to one line, a line for a file the part did not hold is dropped (``scoped``), and the
Markdown is made by ``plain`` when it is rendered. The PR's effort is the highest part's, with its why.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from typing import Any

from .models import Answer, Effort

# Lines asked of each call: ~25 output tokens each, so 40 keep within a tenth of the answer's 8,000 tokens
# (tokens.DEFAULT_OUTPUT_TOKENS) however many small files a part holds; the rest of the files show "—".
FILE_LINES_ASKED = 40
MAX_FILE_NOTES = 300  # lines per answer read, at most
MAX_NOTE_CHARS = 300  # one line of "what changed"
MAX_WHY_CHARS = 300
MAX_SENTENCES = 5  # the walkthrough's prose: 2-5 sentences (issue 13)
EFFORT_MIN, EFFORT_MAX = 1, 5

FILES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "change": {"type": "string"}},
        "required": ["path", "change"],
    },
}
EFFORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "integer", "minimum": EFFORT_MIN, "maximum": EFFORT_MAX},
        "why": {"type": "string"},
    },
    "required": ["score", "why"],
}


def _line(value: object, limit: int) -> str:
    """One line of model text: whitespace runs collapsed, cut to ``limit`` characters."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.split())[:limit]


def parse_files(value: object) -> tuple[tuple[str, str], ...]:
    """``[{"path", "change"}]`` (or ``{path: change}``) as (path, one line); anything else is skipped."""
    if isinstance(value, dict):
        value = [{"path": k, "change": v} for k, v in value.items()]
    if not isinstance(value, list):
        return ()
    out: dict[str, str] = {}
    for item in value[:MAX_FILE_NOTES]:
        if not isinstance(item, dict):
            continue
        path = re.sub(r"^(?:a/|b/|\./)", "", _line(item.get("path") or item.get("file"), 500))
        change = _line(item.get("change") or item.get("summary") or item.get("description"), MAX_NOTE_CHARS)
        if path and change and path not in out:
            out[path] = change
    return tuple(out.items())


def parse_effort(value: object) -> Effort | None:
    """``{"score": 1-5, "why": "..."}`` (a bare number is read too); out of range or unreadable: None."""
    if isinstance(value, dict):
        raw, why = value.get("score", value.get("level")), _line(value.get("why") or value.get("reason"), MAX_WHY_CHARS)
    else:
        raw, why = value, ""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if not isinstance(raw, int) or not EFFORT_MIN <= raw <= EFFORT_MAX:
        return None
    return Effort(raw, why)


def scoped(answer: Answer, paths: Collection[str]) -> Answer:
    """The answer of a part, with the lines for files the part did not hold dropped."""
    kept = tuple((path, note) for path, note in answer.files if path in paths)
    return answer if kept == answer.files else replace(answer, files=kept)


def merge_files(answers: Iterable[Answer]) -> tuple[tuple[str, str], ...]:
    """One line per file over the parts; a file split over several parts keeps its first part's line."""
    out: dict[str, str] = {}
    for answer in answers:
        for path, note in answer.files:
            out.setdefault(path, note)
    return tuple(out.items())


def merge_effort(efforts: Iterable[Effort | None]) -> Effort | None:
    """The PR's effort: the highest part's, with its why (the first such part on a tie)."""
    best: Effort | None = None
    for effort in efforts:
        if effort is not None and (best is None or effort.score > best.score):
            best = effort
    return best


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def sentences(summary: str, limit: int = MAX_SENTENCES) -> str:
    """At most ``limit`` sentences of the merged summary, the parts' paragraphs taken in turn, so a PR reviewed
    in several calls shows every part's first sentence before any part's second."""
    parts = [[s for s in _SENTENCE_END.split(" ".join(p.split())) if s] for p in summary.split("\n\n") if p.strip()]
    chosen: list[list[str]] = [[] for _ in parts]
    taken = 0
    for depth in range(max((len(p) for p in parts), default=0)):
        for i, part in enumerate(parts):
            if taken < limit and depth < len(part):
                chosen[i].append(part[depth])
                taken += 1
    return "\n\n".join(" ".join(c) for c in chosen if c)


def area(path: str) -> str:
    """The group a changed file is listed under: its top folder, or the repository root."""
    return path.split("/", 1)[0] + "/" if "/" in path else "(root)"


def grouped(paths: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The paths by area, areas in order of first appearance, root files last."""
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(area(path), []).append(path)
    return sorted(groups.items(), key=lambda kv: kv[0] == "(root)")
