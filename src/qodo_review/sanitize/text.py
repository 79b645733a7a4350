"""Untrusted text made safe character by character and line by line: the cleaning every other pass starts
from (controls, bidi, surrogates), one-line `plain` text for cells and headings, Actions log lines and
workflow-command escapes, our hidden markers, and cutting at grapheme boundaries."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable

HIDDEN_MARKER_PREFIX = "<!-- qodo-review"
TRUNCATION_NOTE = "\n\n…(truncated)"
_ZWSP = "\u200b"

# --- character-level cleaning -------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")
# Trojan Source (CVE-2021-42574): embeddings/overrides/isolates, plus the bidi marks.
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
_CONTROLS = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_DROP_IN_CODE: dict[int, None] = dict.fromkeys([*_CONTROLS, *_BIDI])
# U+FDD0..U+FDEF are noncharacters reserved for internal use: we use two as placeholder sentinels.
_DROP_IN_TEXT: dict[int, None] = dict.fromkeys([*_CONTROLS, *_BIDI, 0xFEFF, *range(0xFDD0, 0xFDF0)])
# The same as character classes: re.sub scans at C speed where str.translate with a dict looks up every
# character (a few times slower on the long texts of a big summary).
_DROP_IN_CODE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _DROP_IN_CODE) + "]+")
_DROP_IN_TEXT_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _DROP_IN_TEXT) + "]+")
_PH_OPEN, _PH_CLOSE = "\ufdd0", "\ufdd1"
_PH = re.compile(f"{_PH_OPEN}([0-9]+){_PH_CLOSE}")


def _clean_code(text: str) -> str:
    """Code keeps every printable character; only line endings, controls and bidi change."""
    text = _SURROGATE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return _DROP_IN_CODE_RE.sub("", text)


def _clean_text(text: str) -> str:
    # U+2028/2029 are line terminators for JavaScript's /^/m: a bot could see a line start there.
    text = _clean_code(text).replace("\u2028", "\n").replace("\u2029", "\n")
    return _DROP_IN_TEXT_RE.sub("", text)


_COMMENT_OPEN = re.compile("<!--")
_MARKER_OPEN = re.compile(r"<!--(?=\s*+qodo[\s_-]*+review)", re.IGNORECASE)


def _defuse_comment_openers(text: str) -> str:
    """``<!--`` -> ``<\\u200b!--``: looks the same, but is neither a comment nor a forged marker."""
    return _COMMENT_OPEN.sub("<" + _ZWSP + "!--", text)


def _defuse_markers(text: str) -> str:
    return _MARKER_OPEN.sub("<" + _ZWSP + "!--", text)


# --- one-line text: plain, logs, workflow commands ----------------------------------------------

_MENTION = re.compile(r"(?<![A-Za-z0-9_])[@\uff20\ufe6b](?=[A-Za-z0-9])")
# GitHub's closing keywords; a review must never close an issue.
_CLOSING = re.compile(
    r"(?<![A-Za-z0-9_])(?i:close[sd]?|fix(?:e[sd])?|resolve[sd]?):?\s*+"
    r"(?=(?:[\w.-]++/[\w.-]++)?#[0-9]|(?i:gh)-[0-9]|(?i:https?)://)"
)
_TOKEN_CHAR = re.compile(r"\S")
_TOKEN_RUN_END = re.compile(r"\S{1,600}+$")  # bounded: a longer run is cut at 600 before the end
_TOKEN_RUN_START = re.compile(r"\S{1,600}+")
_PLAIN_SPECIAL = re.compile(r"[!-/:-?\[-`{-~]")  # every ASCII punctuation except "@"


def plain(text: str, max_chars: int = 300) -> str:
    """One line of untrusted text (a title, a file name) for a table cell or a heading.

    Whitespace runs become one space; the visible text is cut to ``max_chars`` with "…"; every
    ASCII punctuation character is backslash-escaped (no Markdown, HTML, autolink or table cell
    survives); mentions and closing keywords get a zero-width space.
    """
    text = re.sub(r"\s+", " ", _clean_text(text)).strip()
    if len(text) > max_chars:
        cut = _grapheme_cut(text, max(0, max_chars - 1))
        # Never inside a token-like word: a cut token (or URL password) is too short for the redactor to
        # recognise, and its first part would be posted.
        run = _TOKEN_RUN_END.search(text, max(0, cut - 600), cut)
        if run and cut < len(text) and _TOKEN_CHAR.match(text, cut):
            after = _TOKEN_RUN_START.match(text, cut)
            word = text[run.start() : after.end() if after else cut]
            if len(word) >= 8 and not (word.isalpha() and (word.islower() or word.isupper())):
                cut = run.start()  # a token-like word (digits, punctuation or mixed case) goes whole
        text = text[:cut].rstrip() + "…"
    text = _CLOSING.sub(lambda m: m[0] + _ZWSP, text)
    text = _MENTION.sub(lambda m: m[0] + _ZWSP, text)
    return _PLAIN_SPECIAL.sub(lambda m: "\\" + m[0], text)


_ANSI = re.compile(
    r"\x1b\[[0-?]*+[ -/]*+[@-~]"  # CSI: colours, cursor movement, erase line
    r"|\x1b\][^\x07\x1b]*+(?:\x07|\x1b\\)?"  # OSC: window title, hyperlinks
    r"|\x1b[PX^_][^\x1b]*+(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
    r"|\x9b[0-?]*+[ -/]*+[@-~]"  # 8-bit CSI
)


def log_safe(text: str) -> str:
    """Untrusted text made safe to print to an Actions log.

    The runner trims each line and treats ``::cmd`` (and the legacy ``##[cmd]``) as a workflow
    command, so such lines get a zero-width space in front, which it does not trim. ``\\r`` is
    removed (the runner's line reader would start a new line there), as are ANSI escapes, the
    other control characters and bidi overrides.
    """
    text = _ANSI.sub("", _SURROGATE.sub("\ufffd", text)).replace("\r", "")
    text = _DROP_IN_CODE_RE.sub("", text)
    lines = text.split("\n")
    return "\n".join(_ZWSP + ln if ln.lstrip().startswith(("::", "##[")) else ln for ln in lines)


def may_hold_command(text: str) -> bool:
    """Whether the runner could read a workflow command in the text, so it must be printed between
    ``::stop-commands::`` and a one-time token (output.Out does).

    The runner looks for ``::`` at a line start and for the legacy ``##[`` anywhere in a line, and it
    compares culture-sensitively: .NET's ICU comparison ignores zero-width and other ignorable
    characters, so the zero-width space of :func:`log_safe` cannot be relied on. Conservatively, any
    ``::`` or ``##[`` left once such characters are removed counts.
    """
    if ":" not in text and "#" not in text:
        return False
    folded = "".join(ch for ch in text if unicodedata.category(ch) not in _IGNORED_BY_ICU or ch in "\t\n")
    return "::" in folded or "##[" in folded


# Format characters (U+200B, U+FEFF, U+2060, ...), controls, combining and enclosing marks, unassigned.
_IGNORED_BY_ICU = frozenset(("Cf", "Cc", "Cn", "Co", "Mn", "Me"))


def workflow_escape_data(text: str) -> str:
    """Escape the message of ``::error ...::message`` exactly as @actions/core's escapeData."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_escape_property(text: str) -> str:
    """Escape a property value (``file=...``) exactly as @actions/core's escapeProperty."""
    return workflow_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def strip_markers(text: str) -> str:
    """Remove anything shaped like our hidden marker: ``<!-- qodo-review ... -->`` in any case or
    spacing; an unterminated one is removed to the end of its line."""
    while True:
        out: list[str] = []
        pos = 0
        comment_end = _comment_ends(text)
        while (m := _MARKER_OPEN.search(text, pos)) is not None:
            out.append(text[pos : m.start()])
            end = comment_end(m.end())
            if end < 0:
                newline = text.find("\n", m.end())
                end = len(text) if newline < 0 else newline
            pos = end
        out.append(text[pos:])
        stripped = "".join(out)
        if stripped == text:  # removing one marker can join the halves of another
            return text
        text = stripped


_COMMENT_CLOSE = re.compile("--!?>")


def _comment_ends(text: str) -> Callable[[int], int]:
    """``first_end(i)``: the index just past the first ``-->`` (or ``--!>``) starting at or
    after ``i``, or -1. Indexed once, so many unterminated ``<!--`` stay linear."""
    starts, ends = [], []
    for m in _COMMENT_CLOSE.finditer(text):
        starts.append(m.start())
        ends.append(m.end())

    def first_end(after: int) -> int:
        k = bisect_left(starts, after)
        return ends[k] if k < len(starts) else -1

    return first_end


# --- grapheme-safe cutting ------------------------------------------------------------------


def _grapheme_cut(text: str, limit: int, *, prefer_space: bool = False) -> int:
    """A cut index <= limit that does not split a grapheme cluster (approximately: combining
    marks, ZWJ sequences, variation selectors, skin tones, tag sequences, flag pairs)."""
    cut = min(limit, len(text))
    if prefer_space and cut < len(text):
        window = max(0, cut - 80)
        space = max(text.rfind(" ", window, cut), text.rfind("\n", window, cut))
        cut = space if space > 0 else cut
    while 0 < cut < len(text) and (_extends(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if 0 < cut < len(text) and _is_regional(text[cut]):
        run = cut
        while run > 0 and _is_regional(text[run - 1]):
            run -= 1
        cut -= (cut - run) % 2
    return cut


def _extends(ch: str) -> bool:
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or ch == "\u200d"
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
    )


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF
