"""`sanitize_markdown`: model-written Markdown made safe to post on GitHub, in two linear passes: fenced blocks
are found and re-emitted in a form we control, prose goes through the inline pass (`inline`), and a cut
text is repaired into a fixed point."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fences import _safe_info
from .inline import _sanitize_prose
from .links import _Scope
from .text import _ZWSP, TRUNCATION_NOTE, _clean_text, _defuse_comment_openers, _grapheme_cut

# The rules are written against how GitHub (cmark-gfm) renders *our output*. Whatever we leave
# untouched as code must be code for GitHub too, so everything in prose that could swallow a
# backtick is neutralised (raw HTML, autolinks, foreign link destinations, stray fences, unpaired
# backtick runs), and code spans and fenced blocks are re-emitted in a form we control.


MAX_INPUT_CHARS = 64_000
"""Model text is cut to this many characters before it is sanitized (with the note). A finding's body is
at most 8,000 characters and a summary 20,000 (findings.py), so only a hostile or broken answer is cut;
the cap bounds the sanitizer's time and memory whatever it is given (bench/bench_sanitize.py)."""


def sanitize_markdown(text: str, *, repo: str = "", max_chars: int = 20000) -> str:
    """Model-written Markdown made safe to post on GitHub (idempotent), in two linear passes.

    * images become their alt text; raw HTML is shown as text (``\\<details>``); ``<br>`` becomes
      a space; HTML comments are removed, and ``<!--`` anywhere (code included) gets a ZWSP;
    * ``repo`` is ``host/owner/name`` (``github.com/octo/hello``): links into that repository on that
      host, and relative URLs that do not climb out with ``..``, are kept; any other URL (another
      repository on the same host included) becomes ``text (`hxxps://evil[.]example/x`)``;
      ``javascript:``, ``vbscript:``, ``data:`` links keep only their text; bare and ``<autolinks>``
      likewise; reference definitions to such URLs are broken (``[ref]\\: ...``); without ``repo`` no
      absolute URL is kept;
    * ``@user`` -> ``@\\u200buser``; ``a@b.example`` -> ``a@\\u200bb.example`` (GitHub would make an
      e-mail address a mailto link); a line starting with ``/command`` -> ``\\/command`` (in code
      blocks ``\\u200b/command``); ``fixes #1`` -> ``fixes \\u200b#1``;
    * control and bidi characters are removed; code spans and blocks are otherwise untouched;
    * the input is cut to :data:`MAX_INPUT_CHARS`; the result is at most ``max_chars`` (or
      ``len(TRUNCATION_NOTE)``) characters, cut at a grapheme boundary, with an open code fence
      closed before the note.
    """
    scope = _Scope.parse(repo)
    cut = len(text) > MAX_INPUT_CHARS
    if cut:
        text = text[: _grapheme_cut(text, MAX_INPUT_CHARS, prefer_space=True)]
    # Two passes, a constant: the first one's rewrites can bring text together that a pass reads anew (an
    # escaped "]:" after a rewritten URL, a "<" after an undone link); the second one settles it (no change
    # on 20,000 random hostile strings that one pass left unsettled, bench/bench_sanitize.py keeps it linear).
    whole = _sanitize_once(_sanitize_once(text, scope), scope)
    if len(whole) <= max_chars and not cut:
        return whole
    # Cut the sanitized text and sanitize that prefix once more: the cut can split a construct (a link, an
    # escape, a fence), and the second pass repairs the tail (closes the fence, escapes half a link) the way
    # it would on the next run, so the result is a fixed point. The repair can only lengthen the tail by a
    # little; a second try with the overshoot taken off covers that. A constant number of linear passes.
    budget = max_chars - len(TRUNCATION_NOTE)
    limit = budget
    for _ in range(_REPAIR_TRIES):
        if limit <= 0:
            break
        repaired = _sanitize_once(whole[: _grapheme_cut(whole, limit, prefer_space=True)], scope).rstrip()
        if len(repaired) <= budget:
            return repaired + TRUNCATION_NOTE
        limit -= len(repaired) - budget
    return TRUNCATION_NOTE


_REPAIR_TRIES = 3


def _sanitize_once(text: str, scope: _Scope) -> str:
    lines = _clean_text(text).split("\n")
    out: list[str] = []
    for block in _blocks(lines):
        if isinstance(block, _Fence):
            out.extend(_emit_fence(block, previous=out[-1] if out else ""))
        else:
            out.extend(_sanitize_prose(block, scope).split("\n"))
    return _defuse_comment_openers("\n".join(out))


@dataclass(frozen=True)
class _Fence:
    indent: int
    char: str
    length: int
    info: str
    content: tuple[str, ...]
    closed: bool


_OPENER = re.compile(r"( *)(`{3,}+|~{3,}+)(.*)")


def _blocks(lines: list[str]) -> list[list[str] | _Fence]:
    """Split lines into prose runs and fenced blocks.

    Only space-indented fences are recognised (any other fence-looking line stays prose, where it
    is escaped). A block ends at any line that *could* close it for GitHub (any indentation) or
    that leaves the opener's indentation (it left a list item), so we never think "code" where
    GitHub thinks "prose"; we then emit our own closer.
    """
    blocks: list[list[str] | _Fence] = []
    prose: list[str] = []
    i = 0
    while i < len(lines):
        m = _OPENER.fullmatch(lines[i])
        if m is None or (m[2][0] == "`" and "`" in m[3]):
            prose.append(lines[i])
            i += 1
            continue
        indent, char, length = len(m[1]), m[2][0], len(m[2])
        j, closed = i + 1, False
        while j < len(lines):
            line = lines[j]
            stripped = line.strip(" \t")
            if len(stripped) >= length and stripped == char * len(stripped):
                closed = True
                break
            if stripped and _indent_columns(line) < indent:
                break
            j += 1
        if prose:
            blocks.append(prose)
            prose = []
        blocks.append(_Fence(indent, char, length, m[3], tuple(lines[i + 1 : j]), closed))
        i = j + 1 if closed else j
    if prose:
        blocks.append(prose)
    return blocks


def _indent_columns(line: str) -> int:
    column = 0
    for ch in line:
        if ch == " ":
            column += 1
        elif ch == "\t":
            column += 4 - column % 4
        else:
            break
    return column


_CODE_SLASH = re.compile(r"^([^\S\n]*+)(?=/\w)")


def _emit_fence(block: _Fence, previous: str) -> list[str]:
    lead = " " * block.indent
    fence_line = lead + block.char * block.length
    out = []
    if block.indent >= 4 and previous.strip(" \t"):
        # Without a blank line GitHub may read a deeply indented opener as paragraph text.
        out.append("")
    out.append(fence_line + _safe_info(block.info))
    out.extend(_CODE_SLASH.sub(lambda m: m[1] + _ZWSP, line) for line in block.content)
    out.append(fence_line)
    return out
