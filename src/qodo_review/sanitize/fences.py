"""Code we emit: fenced blocks and ```suggestion``` blocks the content cannot close, and code spans the
content cannot leave (even inside a table cell)."""

from __future__ import annotations

import re

from .text import _clean_code, _clean_text, _defuse_comment_openers, _defuse_markers


def fence(code: str, lang: str = "") -> str:
    """A fenced code block that ``code`` cannot close; the content is kept byte for byte.

    ``lang`` keeps only language-name characters, and never makes a ``suggestion`` block.

    Exceptions, all for safety: line endings become ``\\n``, control and bidi characters are
    dropped, and a forged ``<!-- qodo-review`` marker gets a zero-width space after ``<``.
    """
    return _fenced(code, _safe_info(lang))


def suggestion_block(code: str) -> str:
    """A GitHub ```` ```suggestion ```` block that ``code`` cannot close (same rules as :func:`fence`;
    an empty ``code`` suggests deleting the lines)."""
    return _fenced(code, "suggestion")


def _fenced(code: str, info: str) -> str:
    body = _defuse_markers(_clean_code(code))
    longest = max((len(run) for run in re.findall("`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)  # longer than any run inside: no content line can close it
    return f"{ticks}{info}\n{body}\n{ticks}" if body else f"{ticks}{info}\n{ticks}"


_PIPE = re.compile(r"(?<!\\)(\\*+)\|")  # starts only at a run's first backslash: linear


def inline_code(text: str) -> str:
    """A code span the content cannot leave, even inside a table cell.

    Newlines become spaces (a blank line would end the paragraph) and every ``|`` is preceded by
    a backslash, because GFM splits table cells on unescaped pipes before it looks at code spans.
    """
    body = _defuse_comment_openers(_clean_text(text).replace("\n", " "))
    body = _PIPE.sub(lambda m: m[1] + ("\\" if len(m[1]) % 2 == 0 else "") + "|", body)
    if not body:
        return "` `"
    # A span ends at the first run of exactly its own length: use the shortest length not inside.
    lengths = {len(run) for run in re.findall("`+", body)}
    ticks = "`" * next(n for n in range(1, len(lengths) + 2) if n not in lengths)
    # CommonMark strips one space from each side when both are present, and a backtick at an
    # edge would merge with the fence; a space on both sides fixes both.
    if body[0] == "`" or body[-1] == "`" or (body[0] == body[-1] == " " and body.strip()):
        body = f" {body} "
    return f"{ticks}{body}{ticks}"


def _safe_info(info: str) -> str:
    """First word of an info string, language-name characters only; never ``suggestion``."""
    words = info.split()
    word = re.sub(r"[^A-Za-z0-9_+#.-]", "", words[0])[:40] if words else ""
    return "" if word.lower() == "suggestion" else word
