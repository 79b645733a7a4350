"""/improve: committable code suggestions. The prompt and schema, a tolerant parser, the checks each
suggestion must pass before it is posted, ranking and the cap, and the Markdown of each channel.

A suggestion that fails a check is never dropped: it goes to the summary as plain text with its
location and the reason. Hidden fingerprints (path, the code replaced, the replacement) keep
re-runs from posting the same suggestion twice, even after a push shifts its lines.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import ReviewConfig
from ..engine import Task
from ..errors import AnswerError
from ..findings import extract_json
from ..models import CATEGORIES, FileDiff, Line
from ..sanitize import HIDDEN_MARKER_PREFIX, fence, inline_code, plain, suggestion_block
from .common import DATA_RULES, tool_task

# A cut-off answer is never read as a small object nested inside it: the top level must hold one of these.
ANSWER_KEYS = ("suggestions", "improvements")

SUMMARY_MARKER = f"{HIDDEN_MARKER_PREFIX}:improve -->"
FINGERPRINT_RE = re.compile(re.escape(HIDDEN_MARKER_PREFIX) + r":improve:fp=([0-9a-f]{16}) -->")
PLACEHOLDER = "<<SECRET:"  # redact.PLACEHOLDER_FORMAT's opening: committing it would break the code
MAX_PER_ANSWER = 100
MAX_CODE_CHARS = 8_000
MAX_REASON_CHARS = 300

SYSTEM = """\
You are qodo-review, proposing concrete improvements to the CHANGED code of a pull request.
Each suggestion replaces a few consecutive lines of the new file with better code: fix a bug, close
a security hole, handle an error, simplify, speed up. Propose only changes you are sure compile and
keep behaviour unless the behaviour is the bug. Skip pure style a formatter would fix.

{rules}
Suggestions apply to RIGHT-side lines only (`R<n>`: added or context rows), all in one hunk.

Answer with one JSON object only, no prose around it:
{{"suggestions": [{{"path": "<file path as shown>", "line": <first R line>, "end_line": <last R line>,
   "importance": <1-10, 10 = must fix>, "category": "{categories}",
   "reason": "<one line: why this is better>",
   "original": "<the current text of lines line..end_line, copied exactly>",
   "replacement": "<the exact new text for lines line..end_line, indentation included>"}}]}}
Give at most {limit} suggestions, most important first; [] when there is nothing worth changing.
Write the reasons in {language}.
"""


@dataclass(frozen=True)
class Suggestion:
    """One suggestion as the model gave it; the field names are the findings file's."""

    path: str
    line: int | None
    end_line: int | None
    importance: int
    category: str
    reason: str
    replacement: str
    original: str | None = None  # what the model believes the lines hold; checked against the diff

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "side": "RIGHT",
            "importance": self.importance,
            "category": self.category,
            "reason": self.reason,
            "replacement": self.replacement,
        }


def schema() -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "line": {"type": "integer"},
            "end_line": {"type": "integer"},
            "importance": {"type": "integer", "minimum": 1, "maximum": 10},
            "category": {"type": "string", "enum": list(CATEGORIES)},
            "reason": {"type": "string"},
            "original": {"type": "string"},
            "replacement": {"type": "string"},
        },
        "required": ["path", "line", "end_line", "importance", "category", "reason", "original", "replacement"],
    }
    return {
        "type": "object",
        "properties": {"suggestions": {"type": "array", "items": item}},
        "required": ["suggestions"],
    }


def system_text(config: ReviewConfig, nonce: str) -> str:
    text = SYSTEM.format(
        rules=DATA_RULES.format(nonce=nonce),
        categories="|".join(CATEGORIES),
        limit=config.max_suggestions or 10,
        language=config.language,
    )
    return text  # the team's instructions are added to every command's calls by guidance.guided


def spec(config: ReviewConfig, nonce: str) -> Task[tuple[Suggestion, ...]]:
    """As many calls as the review would make: the same chunking, the same max-calls."""
    return tool_task(
        "improve",
        system_text(config, nonce),
        schema(),
        parse_suggestions,
        lambda parts: tuple(s for p in parts for s in p),
        max_calls=config.max_calls,
        related=True,
    )


# --- parsing -------------------------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


def _suggestion(item: dict[str, Any]) -> Suggestion | None:
    replacement = item.get("replacement", item.get("suggestion", item.get("code")))
    if not isinstance(replacement, str):
        return None  # nothing to commit: not a suggestion (an empty string is: it deletes the lines)
    path = re.sub(r"^(?:a/|b/|\./)", "", str(item.get("path") or item.get("file") or "").strip())[:500]
    line = _int(item.get("line") or item.get("start_line"))
    end_line = _int(item.get("end_line")) or line
    if line is not None and end_line is not None and end_line < line:
        line, end_line = end_line, line
    category = str(item.get("category") or "").strip().lower()
    reason = " ".join(str(item.get("reason") or item.get("title") or item.get("description") or "").split())
    original = item.get("original", item.get("existing_code"))
    return Suggestion(
        path=path,
        line=line,
        end_line=end_line,
        importance=min(10, _int(item.get("importance") or item.get("score")) or 5),
        category=category if category in CATEGORIES else "maintainability",
        reason=reason[:MAX_REASON_CHARS] or "Suggested change",
        replacement=replacement[:MAX_CODE_CHARS],
        original=original[:MAX_CODE_CHARS] if isinstance(original, str) else None,
    )


def parse_suggestions(text: str) -> tuple[Suggestion, ...]:
    data = extract_json(text, ANSWER_KEYS)
    items = data.get("suggestions", data.get("improvements", []))
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise AnswerError("The model's answer has 'suggestions' that is not a list.")
    found = (_suggestion(i) for i in items[:MAX_PER_ANSWER] if isinstance(i, dict))
    return tuple(s for s in found if s is not None)


# --- checks, ranking, the cap --------------------------------------------------------------------


def _lines(code: str) -> list[str]:
    """Code compared line by line, ignoring line endings and trailing blanks."""
    return [ln.rstrip() for ln in code.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")]


def _loose(code: str) -> list[str]:
    """Code compared ignoring indentation and blank lines (models re-indent what they quote)."""
    return [ln.strip() for ln in _lines(code) if ln.strip()]


def right_lines(file: FileDiff, line: int, end_line: int) -> list[Line] | None:
    """The RIGHT-side lines line..end_line when all lie in one hunk of the head, else None."""
    for hunk in file.hunks:
        rows = [ln for ln in hunk.lines if ln.kind != "-" and ln.new is not None]
        numbers = [ln.new for ln in rows]
        if line in numbers:
            if end_line not in numbers:
                return None
            return [ln for ln in rows if ln.new is not None and line <= ln.new <= end_line]
    return None


def _fence_body(block: str) -> str:
    return block.split("\n", 1)[1].rsplit("\n", 1)[0] if block.count("\n") >= 2 else ""


def check(s: Suggestion, file: FileDiff | None, scrub: Callable[[str], str] = lambda t: t) -> str:
    """Why the suggestion cannot be posted as a committable block ("" when it can).

    ``scrub`` is the run's redactor: a block that the last redaction pass would change is not
    posted, since what GitHub commits must be exactly what was checked.
    """
    if file is None:
        return "file not in the diff" if s.path else "no file given"
    if s.line is None or s.end_line is None:
        return "no line given"
    rows = right_lines(file, s.line, s.end_line)
    if rows is None:
        return (
            f"lines {s.line}-{s.end_line} are not all changed or context lines of one hunk of the head"
            if s.end_line != s.line
            else f"line {s.line} is not a changed or context line of the head"
        )
    original = "\n".join(ln.text for ln in rows)
    if _lines(s.replacement) == _lines(original):
        return "the replacement is the same as the current code"
    if s.original is not None and _loose(s.original) != _loose(original):
        return "the cited lines hold other code than the suggestion replaces"
    if PLACEHOLDER in s.replacement:
        return "the replacement holds a redacted secret's placeholder"
    block = suggestion_block(s.replacement)
    if s.replacement.strip() and _lines(_fence_body(block)) != _lines(s.replacement):
        return "the code holds characters that cannot be posted unchanged in a suggestion block"
    if scrub(block) != block:
        return "the redactor would change the code"
    return ""


def fingerprint(s: Suggestion, original: str) -> str:
    """Path, the code replaced and the replacement: stable when a push only shifts the lines."""
    key = "\0".join([s.path, "\n".join(_loose(original)), "\n".join(_loose(s.replacement))])
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:16]


def marker(fp: str) -> str:
    return f"{HIDDEN_MARKER_PREFIX}:improve:fp={fp} -->"


@dataclass
class Plan:
    """What happens to each suggestion: posted inline, already posted, not postable, or over the cap."""

    inline: list[tuple[Suggestion, str]] = field(default_factory=list)  # (suggestion, fingerprint)
    repeats: list[tuple[Suggestion, str]] = field(default_factory=list)
    invalid: list[tuple[Suggestion, str]] = field(default_factory=list)  # (suggestion, why)
    over_cap: list[Suggestion] = field(default_factory=list)


def rank(suggestions: Sequence[Suggestion]) -> list[Suggestion]:
    """Most important first; the model's own order breaks ties."""
    return sorted(suggestions, key=lambda s: -s.importance)


def plan(
    suggestions: Sequence[Suggestion],
    files: Callable[[str], FileDiff | None],
    *,
    cap: int,
    posted: Collection[str] = (),
    scrub: Callable[[str], str] = lambda t: t,
) -> Plan:
    """Check, de-duplicate and cap. The cap counts suggestions already posted by an earlier run, so
    re-runs never grow the PR past ``cap`` suggestions from one pass of the model."""
    out = Plan()
    seen: set[str] = set()
    for s in rank(suggestions):
        why = check(s, files(s.path), scrub)
        if why:
            out.invalid.append((s, why))
            continue
        file = files(s.path)
        assert file is not None and s.line is not None and s.end_line is not None  # check() passed
        fp = fingerprint(s, "\n".join(ln.text for ln in right_lines(file, s.line, s.end_line) or []))
        if fp in seen:
            continue  # the same change proposed twice in one run (two chunks): one is enough
        seen.add(fp)
        if len(out.inline) + len(out.repeats) >= cap:
            out.over_cap.append(s)
        elif fp in posted:
            out.repeats.append((s, fp))
        else:
            out.inline.append((s, fp))
    return out


# --- rendering -----------------------------------------------------------------------------------


def location(s: Suggestion) -> str:
    if not s.path:
        return "(no file)"
    if s.line is None:
        return inline_code(s.path)
    span = f"{s.line}" if s.end_line in (None, s.line) else f"{s.line}-{s.end_line}"
    return inline_code(f"{s.path}:{span}")


def headline(s: Suggestion) -> str:
    return f"💡 **Suggestion · {s.category} · importance {s.importance}/10:** {plain(s.reason, MAX_REASON_CHARS)}"


def comment_body(s: Suggestion, fp: str) -> str:
    """One inline review comment: the reason, the committable block, the hidden fingerprint."""
    return f"{headline(s)}\n\n{suggestion_block(s.replacement)}\n\n{marker(fp)}"


def comment_payload(s: Suggestion, body: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"path": s.path, "body": body, "side": "RIGHT", "line": s.end_line or s.line}
    if s.end_line and s.line and s.end_line != s.line:
        payload["start_line"], payload["start_side"] = s.line, "RIGHT"
    return payload


def not_inline_section(items: Sequence[tuple[Suggestion, str]], title: str = "Suggestions not posted inline") -> str:
    """Plain text with location and reason; the code in an ordinary (not committable) block."""
    if not items:
        return ""
    out = [f"### {title}"]
    for s, why in items:
        out.append(
            f"- **{plain(s.reason, MAX_REASON_CHARS)}** at {location(s)} (importance {s.importance}; {plain(why, 200)})"
        )
        out.append("\n".join("  " + ln if ln else "" for ln in fence(s.replacement).split("\n")))
    return "\n".join(out)


def _row(s: Suggestion) -> str:
    return f"- {location(s)}: {plain(s.reason, MAX_REASON_CHARS)} (importance {s.importance})"


def summary_markdown(p: Plan, *, cap: int, extra: Sequence[str] = (), dry_run: bool = False) -> str:
    """The body of the improve summary comment (or, without the marker, of the job summary)."""
    counts = [f"{len(p.inline)} posted inline"]
    if p.repeats:
        counts.append(f"{len(p.repeats)} already posted")
    if p.invalid:
        counts.append(f"{len(p.invalid)} not postable as suggestions")
    if p.over_cap:
        counts.append(f"{len(p.over_cap)} over the cap (max-suggestions: {cap})")
    title = "## qodo-review suggestions" + (" (dry run)" if dry_run else "")
    parts = [
        title,
        " · ".join(counts)
        if any((p.inline, p.repeats, p.invalid, p.over_cap))
        else "No suggestions: nothing worth changing was found.",
    ]
    if p.inline or p.repeats:
        rows = [_row(s) for s, _ in p.inline] + [_row(s) + " (posted earlier)" for s, _ in p.repeats]
        parts.append("### Inline\n" + "\n".join(rows))
    parts.append(not_inline_section(p.invalid))
    if p.over_cap:
        rows = [_row(s) for s in p.over_cap]
        parts.append(
            f"<details><summary>{len(p.over_cap)} more suggestions over the cap</summary>\n\n"
            + "\n".join(rows)
            + "\n\n</details>"
        )
    parts.extend(extra)
    return "\n\n".join(x for x in parts if x)
