"""/ask: a question about the PR answered from its diff. The prompt and schema, a tolerant parser,
citations checked against the diff and linked to the PR's Files tab, and the reply's Markdown.

The question is untrusted PR text: fenced and redacted for the model, quoted as plain text in the reply.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ReviewConfig
from ..engine import Task
from ..errors import AnswerError
from ..findings import extract_json
from ..models import FileDiff
from ..sanitize import HIDDEN_MARKER_PREFIX, inline_code, plain, sanitize_markdown
from .common import DATA_RULES, tool_task

# A cut-off answer is never read as a small object nested inside it: the top level must hold one of these.
ANSWER_KEYS = ("answer", "response", "text")

MARKER = f"{HIDDEN_MARKER_PREFIX}:ask -->"  # also makes the event stage ignore our own reply
MAX_ANSWER_CHARS = 20_000
MAX_CITATIONS = 30
MAX_QUOTED_LINES = 20
MAX_THREAD_CHARS = 6_000

SYSTEM = """\
You are qodo-review, answering a maintainer's question about a pull request from its diff.
The question is the last item of the data, after "Question:". Answer it directly and precisely;
say so when the diff does not show enough to answer. Do not review the PR unless asked to.

{rules}
Answer with one JSON object only, no prose around it:
{{"answer": "<markdown>",
 "citations": [{{"path": "<file path as shown>", "line": <first line>, "end_line": <last line>,
   "side": "RIGHT|LEFT"}}]}}
Cite the lines your answer relies on; [] when none. Write the answer in {language}.
"""


@dataclass(frozen=True)
class Citation:
    path: str
    line: int | None
    end_line: int | None
    side: str = "RIGHT"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "end_line": self.end_line, "side": self.side}


@dataclass(frozen=True)
class Reply:
    """The parsed answer; the field names are the findings file's."""

    answer: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Thread:
    """The review thread a /ask was written in: its anchor and the comments so far (untrusted)."""

    path: str
    line: int | None
    side: str
    comments: tuple[tuple[str, str], ...] = ()  # (login, body)


SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "path": {"type": "string"},
                    "line": {"type": "integer"},
                    "end_line": {"type": "integer"},
                    "side": {"type": "string", "enum": ["RIGHT", "LEFT"]},
                },
                "required": ["path", "line", "end_line", "side"],
            },
        },
    },
    "required": ["answer", "citations"],
}


def system_text(config: ReviewConfig, nonce: str) -> str:
    return SYSTEM.format(rules=DATA_RULES.format(nonce=nonce), language=config.language)


def spec(config: ReviewConfig, nonce: str, question: str, thread: Thread | None = None) -> Task[Reply]:
    """One call; a review thread's file is sent first so its lines are always in the prompt."""
    return tool_task(
        "ask",
        system_text(config, nonce),
        SCHEMA,
        parse_reply,
        merge_replies,
        context=question_context(question, thread),
        focus=thread.path if thread else "",
        related=True,
    )


def question_context(question: str, thread: Thread | None) -> str:
    """The untrusted text after the diff: the thread (when there is one), then the question."""
    parts = []
    if thread is not None:
        where = f"line {thread.line} ({thread.side} side)" if thread.line else "an outdated line"
        lines = [f"The question was asked in a review thread on {thread.path}, {where}; answer about those lines."]
        used = 0
        for login, body in thread.comments:
            text = f"- {login}: {body.strip()}"
            if used + len(text) > MAX_THREAD_CHARS:
                lines.append("- (earlier comments cut)")
                break
            lines.append(text)
            used += len(text)
        parts.append("\n".join(lines))
    parts.append(f"Question: {question.strip()}")
    return "\n\n".join(parts)


# --- parsing -------------------------------------------------------------------------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


def _citation(item: object) -> Citation | None:
    if isinstance(item, str):  # "app/users.py:12"
        head, _, tail = item.rpartition(":")
        item = {"path": head, "line": tail} if head and tail.strip().isdigit() else {"path": item}
    if not isinstance(item, dict):
        return None
    path = str(item.get("path") or item.get("file") or "").strip().removeprefix("./")[:500]
    if not path:
        return None
    line = _int(item.get("line") or item.get("start_line"))
    end_line = _int(item.get("end_line")) or line
    if line is not None and end_line is not None and end_line < line:
        line, end_line = end_line, line
    side = "LEFT" if str(item.get("side", "")).upper() == "LEFT" else "RIGHT"
    return Citation(path, line, end_line, side)


def parse_reply(text: str) -> Reply:
    data = extract_json(text, ANSWER_KEYS)
    answer = data.get("answer", data.get("response", data.get("text")))
    if not isinstance(answer, str) or not answer.strip():
        raise AnswerError("The model's answer holds no 'answer' text.")
    items = data.get("citations", data.get("references", []))
    items = items if isinstance(items, list) else [items]
    found = (_citation(i) for i in items[:MAX_CITATIONS])
    return Reply(answer.strip()[:MAX_ANSWER_CHARS], tuple(dict.fromkeys(c for c in found if c is not None)))


def merge_replies(parts: Sequence[Reply]) -> Reply:
    return Reply(
        "\n\n".join(p.answer for p in parts),
        tuple(dict.fromkeys(c for p in parts for c in p.citations))[:MAX_CITATIONS],
    )


# --- links and the reply -------------------------------------------------------------------------


def diff_anchor(path: str) -> str:
    """GitHub's anchor of a file in a PR's Files tab: "diff-" + the SHA-256 of its path."""
    return "diff-" + hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()


def _in_diff(file: FileDiff, line: int, side: str) -> bool:
    for hunk in file.hunks:
        for ln in hunk.lines:
            if (ln.old if side == "LEFT" else ln.new) == line and ln.kind != ("+" if side == "LEFT" else "-"):
                return True
    return False


def citation_link(c: Citation, files_url: str, files: Callable[[str], FileDiff | None]) -> tuple[str, str]:
    """(Markdown, url) for one citation: a link to its lines, to its file, or plain code when it is not in
    the diff. The url is "" when the citation could not be linked."""
    span = "" if c.line is None else f":{c.line}" if c.end_line in (None, c.line) else f":{c.line}-{c.end_line}"
    label = inline_code(f"{c.path}{span}") + (" (old)" if c.side == "LEFT" and c.line else "")
    file = files(c.path)
    if file is None or not files_url:
        return label + ("" if file is not None else " (not in this PR's diff)"), ""
    anchor = diff_anchor(c.path)
    letter = "L" if c.side == "LEFT" else "R"
    if c.line is not None and _in_diff(file, c.line, c.side):
        anchor += f"{letter}{c.line}"
        if c.end_line and c.end_line != c.line and _in_diff(file, c.end_line, c.side):
            anchor += f"-{letter}{c.end_line}"
        url = f"{files_url}#{anchor}"
        return f"[{label}]({url})", url
    url = f"{files_url}#{anchor}"
    return f"[{label}]({url})" + (f" (line {c.line} is outside the diff)" if c.line else ""), url


def quote(question: str) -> str:
    """The question as a block quote of plain text: no Markdown, links or mentions of the asker's survive."""
    lines = [plain(ln, 500) for ln in question.strip().splitlines() if ln.strip()]
    if len(lines) > MAX_QUOTED_LINES:
        lines = [*lines[:MAX_QUOTED_LINES], "…"]
    return "\n".join(f"> {'**Question:** ' if i == 0 else ''}{ln}" for i, ln in enumerate(lines or ["(empty)"]))


def reply_markdown(question: str, reply: Reply, *, host: str, links: Sequence[str], about: str = "") -> str:
    """The reply comment: marker, the quoted question, the sanitized answer, the cited lines."""
    parts = [MARKER, quote(question)]
    if about:
        parts.append(f"About {about}:")
    parts.append(sanitize_markdown(reply.answer, repo=host, max_chars=MAX_ANSWER_CHARS))
    if links:
        parts.append("**Cited:** " + " · ".join(links))
    return "\n\n".join(parts)
