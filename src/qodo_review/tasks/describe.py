"""/describe: the PR description's prompt and schema, its tolerant parser, and the hidden-marker section.

The section lives between two hidden markers in the PR body; ``splice_body`` replaces only that
section and keeps every byte the author wrote outside it. Labels come only from ``.qodo.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ReviewConfig
from ..engine import Task
from ..errors import AnswerError
from ..findings import extract_json
from ..models import Skipped
from ..sanitize import HIDDEN_MARKER_PREFIX, inline_code, plain, sanitize_markdown
from .common import DATA_RULES, tool_task

# A cut-off answer is never read as a small object nested inside it: the top level must hold one of these.
ANSWER_KEYS = ("summary", "walkthrough", "description")

START = f"{HIDDEN_MARKER_PREFIX}:describe:start -->"
END = f"{HIDDEN_MARKER_PREFIX}:describe:end -->"
COMMENT_MARKER = f"{HIDDEN_MARKER_PREFIX}:describe -->"  # the comment used when the body cannot be edited
CHANGE_TYPES = (
    "bug fix",
    "feature",
    "refactor",
    "performance",
    "security",
    "docs",
    "tests",
    "build",
    "ci",
    "chore",
    "revert",
    "other",
)
_TYPE_ALIASES = {
    "bugfix": "bug fix",
    "fix": "bug fix",
    "bug": "bug fix",
    "feat": "feature",
    "enhancement": "feature",
    "documentation": "docs",
    "doc": "docs",
    "test": "tests",
    "testing": "tests",
    "perf": "performance",
    "refactoring": "refactor",
    "deps": "build",
    "dependencies": "build",
    "style": "chore",
    "maintenance": "chore",
}
MAX_ROWS = 100
MAX_NOTES = 20
MAX_LABELS = 10
SECTION_ROW_STEPS = (MAX_ROWS, 40, 15, 5, 0)  # walkthrough rows tried when the body has little room left

SYSTEM = """\
You are qodo-review, writing the description of a pull request for its reviewers.
Describe what the change does and why it matters, from the diff. Be factual and brief; do not review.

{rules}
Answer with one JSON object only, no prose around it:
{{"title": "<a suggested PR title, one line, imperative>",
 "types": ["<one or more of: {types}>"],
 "summary": "<one paragraph of markdown: what the PR does and why>",
 "walkthrough": [{{"files": ["<path as shown>", "..."], "change": "<one line: what changed there>"}}],
 "notes": ["<for reviewers: risky areas, migrations, breaking changes, config or API changes>"],
 "labels": [{labels}]}}
Group closely related files in one walkthrough row. Leave notes empty when there is nothing risky.
{label_rule}Write the title, summary, walkthrough and notes in {language}.
"""


@dataclass(frozen=True)
class WalkRow:
    files: tuple[str, ...]
    change: str


@dataclass(frozen=True)
class Description:
    """The parsed answer; its field names are the findings file's ``description`` object."""

    title: str
    types: tuple[str, ...]
    summary: str
    walkthrough: tuple[WalkRow, ...]
    notes: tuple[str, ...]
    labels: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "types": list(self.types),
            "summary": self.summary,
            "walkthrough": [{"files": list(r.files), "change": r.change} for r in self.walkthrough],
            "notes": list(self.notes),
            "labels": list(self.labels),
        }


def schema(labels: Sequence[str]) -> dict[str, Any]:
    label_items: dict[str, Any] = {"type": "string", "enum": list(labels)} if labels else {"type": "string"}
    return {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "types": {"type": "array", "items": {"type": "string", "enum": list(CHANGE_TYPES)}},
            "summary": {"type": "string"},
            "walkthrough": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string"}},
                        "change": {"type": "string"},
                    },
                    "required": ["files", "change"],
                },
            },
            "notes": {"type": "array", "items": {"type": "string"}},
            "labels": {"type": "array", "items": label_items, "maxItems": MAX_LABELS},
        },
        "required": ["title", "types", "summary", "walkthrough", "notes", "labels"],
    }


def system_text(config: ReviewConfig, nonce: str) -> str:
    if config.labels:
        labels = ", ".join(f'"{label}"' for label in config.labels)
        rule = "Choose labels only from this list, and only those that clearly apply; [] is fine.\n"
        choices = f'"<zero or more of: {labels}>"'
    else:
        rule, choices = "Leave labels empty: this repository configures none.\n", ""
    return SYSTEM.format(
        rules=DATA_RULES.format(nonce=nonce),
        types=", ".join(CHANGE_TYPES),
        labels=choices,
        label_rule=rule,
        language=config.language,
    )


def spec(config: ReviewConfig, nonce: str) -> Task[Description]:
    """One call: the files that fit, and the names of those that do not, so the walkthrough knows of them."""
    return tool_task(
        "describe",
        system_text(config, nonce),
        schema(config.labels),
        parse_description,
        merge_descriptions,
        list_not_shown=True,
    )


# --- parsing -------------------------------------------------------------------------------------


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _strings(value: object, limit: int, each: int) -> tuple[str, ...]:
    """A list of strings from a list, or from one string with one item per line."""
    items = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else []
    out = [_text(v, each).lstrip("-* ").strip() for v in items]
    return tuple(v for v in out if v)[:limit]


def _types(value: object) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _strings(value if isinstance(value, list) else [value], 10, 40):
        name = _TYPE_ALIASES.get(raw.lower(), raw.lower())
        if name in CHANGE_TYPES and name not in out:
            out.append(name)
    return tuple(out) or ("other",)


def _row(item: object) -> WalkRow | None:
    if not isinstance(item, dict):
        return None
    files = _strings(item.get("files") or item.get("file") or item.get("path") or [], 30, 300)
    change = _text(item.get("change") or item.get("description") or item.get("summary"), 500)
    return WalkRow(files, change) if files or change else None


def parse_description(text: str) -> Description:
    data = extract_json(text, ANSWER_KEYS)
    rows = data.get("walkthrough")
    rows = [rows] if isinstance(rows, dict) else rows if isinstance(rows, list) else []
    walkthrough = tuple(r for r in (_row(item) for item in rows[:MAX_ROWS]) if r is not None)
    summary = _text(data.get("summary") or data.get("description"), 6000)
    if not summary and not walkthrough:
        raise AnswerError("The model's answer holds no description (no summary and no walkthrough).")
    return Description(
        title=" ".join(_text(data.get("title"), 300).split()),
        types=_types(data.get("types") or data.get("type")),
        summary=summary,
        walkthrough=walkthrough,
        notes=_strings(data.get("notes"), MAX_NOTES, 1000),
        labels=_strings(data.get("labels"), MAX_LABELS, 100),
    )


def merge_descriptions(parts: Sequence[Description]) -> Description:
    """Several calls' descriptions (a split chunk) as one: first title, everything else in order."""
    first = parts[0]
    return Description(
        title=first.title,
        types=tuple(dict.fromkeys(t for p in parts for t in p.types if t != "other")) or ("other",),
        summary="\n\n".join(p.summary for p in parts if p.summary),
        walkthrough=tuple(r for p in parts for r in p.walkthrough)[:MAX_ROWS],
        notes=tuple(dict.fromkeys(n for p in parts for n in p.notes))[:MAX_NOTES],
        labels=tuple(dict.fromkeys(label for p in parts for label in p.labels)),
    )


def choose_labels(proposed: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """The configured labels the model chose, in the configured spelling; anything else is dropped."""
    by_key = {label.strip().lower(): label for label in allowed}
    picked = (by_key.get(p.strip().lower()) for p in proposed)
    return tuple(dict.fromkeys(p for p in picked if p is not None))


# --- rendering -----------------------------------------------------------------------------------


def render_section(
    desc: Description,
    host: str,
    *,
    not_shown: Sequence[Skipped] = (),
    labels: Sequence[str] = (),
    max_rows: int = MAX_ROWS,
    markers: bool = True,
) -> str:
    """The description between its hidden markers. Model text is sanitized, file names are code spans."""
    types = ", ".join(desc.types)
    parts = ["### Description", f"**Type:** {types}"]
    if desc.summary:
        parts.append(sanitize_markdown(desc.summary, repo=host, max_chars=6000))
    rows = [
        f"| {', '.join(inline_code(f) for f in r.files) or '-'} | {plain(r.change, 400) or '-'} |"
        for r in desc.walkthrough
    ]
    rows += [
        f"| {inline_code(s.path)} | not shown to the model ({plain(s.reason, 120)}) |"
        for s in not_shown
        if s.kind != "withheld"
    ]
    if rows:
        more = [f"| | …and {len(rows) - max_rows} more rows |"] if len(rows) > max_rows else []
        parts.append("**Walkthrough**\n\n| Files | What changed |\n|---|---|\n" + "\n".join(rows[:max_rows] + more))
    if desc.notes:
        notes = [sanitize_markdown(n, repo=host, max_chars=1000).replace("\n", "\n  ") for n in desc.notes]
        parts.append("**Notes for reviewers**\n\n" + "\n".join(f"- {n}" for n in notes))
    if desc.title:
        parts.append(f"**Suggested title:** {plain(desc.title, 200)}")
    if labels:
        parts.append("**Labels:** " + ", ".join(inline_code(label) for label in labels))
    parts.append(
        "<sub>Written by qodo-review. Text outside this section is yours and is never changed; "
        "comment `/describe` to rewrite this section.</sub>"
    )
    body = "\n\n".join(parts)
    return f"{START}\n{body}\n{END}" if markers else body


def fit_section(desc: Description, host: str, room: int, **kw: Any) -> str | None:
    """The fullest section that fits in ``room`` characters (fewer walkthrough rows first), or None."""
    for rows in SECTION_ROW_STEPS:
        section = render_section(desc, host, max_rows=rows, **kw)
        if len(section) <= room:
            return section
    return None


# From the START nearest to an END: a lone START earlier in the body never pulls the author's text in.
_PAIR = re.compile(re.escape(START) + r"(?:(?!" + re.escape(START) + r").)*?" + re.escape(END), re.DOTALL)


def splice_body(body: str, section: str) -> str:
    """The body with our section replaced (or appended); every byte outside our markers is kept.

    A damaged pair (one marker deleted by hand) is not guessed at: the lone marker is removed
    and a fresh section appended, so the author's text next to it is never taken for ours.
    """
    first = _PAIR.search(body)
    if first is not None:
        after = _PAIR.sub("", body[first.end() :])  # a duplicated section (pasted twice) goes too
        return _lone_markers_removed(body[: first.start()]) + section + _lone_markers_removed(after)
    kept = _lone_markers_removed(body)
    if not kept.strip():
        return section
    return kept + ("\n" if kept.endswith("\n") else "\n\n") + section


def _lone_markers_removed(text: str) -> str:
    return text.replace(START, "").replace(END, "")


def section_of(body: str) -> str | None:
    """Our current section in a body, or None."""
    found = _PAIR.search(body)
    return found.group(0) if found else None
