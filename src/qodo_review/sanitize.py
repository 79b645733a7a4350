"""Make untrusted text (PR content, the model's answer) safe to post as GitHub Markdown and to print
to an Actions log: Markdown sanitizing, unbreakable code fences and spans, one-line cells, log lines
and workflow-command escaping. Pure functions only."""

from __future__ import annotations

import enum
import html
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from html.entities import html5 as _HTML5_ENTITIES
from urllib.parse import unquote

__all__ = [
    "HIDDEN_MARKER_PREFIX",
    "TRUNCATION_NOTE",
    "fence",
    "inline_code",
    "log_safe",
    "may_hold_command",
    "plain",
    "sanitize_markdown",
    "strip_markers",
    "suggestion_block",
    "workflow_escape_data",
    "workflow_escape_property",
]

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
_PH_OPEN, _PH_CLOSE = "\ufdd0", "\ufdd1"
_PH = re.compile(f"{_PH_OPEN}([0-9]+){_PH_CLOSE}")

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_P = r"!-/:-@\[-`{-~"  # ASCII punctuation as a character-class body


def _clean_code(text: str) -> str:
    """Code keeps every printable character; only line endings, controls and bidi change."""
    text = _SURROGATE.sub("\ufffd", text).replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_DROP_IN_CODE)


def _clean_text(text: str) -> str:
    # U+2028/2029 are line terminators for JavaScript's /^/m: a bot could see a line start there.
    return _clean_code(text).replace("\u2028", "\n").replace("\u2029", "\n").translate(_DROP_IN_TEXT)


_COMMENT_OPEN = re.compile("<!--")
_MARKER_OPEN = re.compile(r"<!--(?=\s*+qodo[\s_-]*+review)", re.IGNORECASE)


def _defuse_comment_openers(text: str) -> str:
    """``<!--`` -> ``<\\u200b!--``: looks the same, but is neither a comment nor a forged marker."""
    return _COMMENT_OPEN.sub("<" + _ZWSP + "!--", text)


def _defuse_markers(text: str) -> str:
    return _MARKER_OPEN.sub("<" + _ZWSP + "!--", text)


# --- code: fences and spans ---------------------------------------------------------------------


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
            word = text[run.start():after.end() if after else cut]
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
    text = text.translate(_DROP_IN_CODE)
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


# --- Markdown -----------------------------------------------------------------------------------
#
# The rules are written against how GitHub (cmark-gfm) renders *our output*. Whatever we leave
# untouched as code must be code for GitHub too, so everything in prose that could swallow a
# backtick is neutralised (raw HTML, autolinks, foreign link destinations, stray fences, unpaired
# backtick runs), and code spans and fenced blocks are re-emitted in a form we control.


MAX_INPUT_CHARS = 64_000
"""Model text is cut to this many characters before it is sanitized (with the note). A finding's body is
at most 8,000 characters and a summary 20,000 (findings.py), so only a hostile or broken answer is cut;
the cap bounds the sanitizer's time and memory whatever it is given (bench/bench_sanitize.py)."""


def sanitize_markdown(text: str, *, repo: str = "", max_chars: int = 20000) -> str:
    """Model-written Markdown made safe to post on GitHub (idempotent), in one linear pass.

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
    whole = _sanitize_once(text, scope)
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


# Prose: code spans are swapped for placeholders, references decoded, then one tokenizer
# rewrites everything else in a single left-to-right scan.

_BACKTICKS = re.compile("`+")
_BACKSLASH_OR_BACKTICK = re.compile(r"[\\`]")
_CELL_PIPE = re.compile(r"(?<!\\)\|")  # cmark-gfm: a pipe right after a backslash is escaped
_DELIMITER_ROW = re.compile(r"[ \t>]*+\|?[ \t]*+:?-++:?[ \t]*+(?:\|[ \t]*+:?-++:?[ \t]*+)*+\|?[ \t]*+")


def _sanitize_prose(lines: list[str], scope: _Scope) -> str:
    spans: list[str] = []
    in_table = _table_lines(lines)
    protected = []
    for line, table in zip(lines, in_table, strict=True):
        if table:  # GFM splits cells before it looks for code spans
            cells = _CELL_PIPE.split(line)
            protected.append("|".join(_protect_code_spans(cell, spans) for cell in cells))
        else:
            protected.append(_protect_code_spans(line, spans))
    prose = _REFERENCE.sub(_decode_reference, _remove_comments("\n".join(protected)))
    prose = _LINE_START.sub(lambda m: m[0] + "\\", prose)
    return _expand(_Inline(scope, spans).rewrite(prose), spans)


_SPACE_OR_EDGE = frozenset(" \t\n")


def _remove_comments(text: str) -> str:
    """HTML comments removed (an unterminated ``<!--`` alone), before any other rule looks at the text.

    Where a comment stood between two non-space characters a ZWSP stays in its place: the halves must
    not join into something a rule would have rewritten (``@<!---->admin``, ``<!<!-- -->--``), and this
    pass runs once, so nothing would rewrite it later. Next to a space or a line break nothing can join
    (every rewritten construct is one run of non-space characters; line starts are looked at later)."""
    if "<!--" not in text:
        return text
    out: list[str] = []
    ends = _comment_ends(text)
    pos = 0
    while (start := text.find("<!--", pos)) >= 0:
        close = ends(start + 2)  # from the opener's own "--": "<!-->" and "<!--->" end at once
        end = close if close >= 0 else start + 4
        out.append(text[pos:start])
        before = text[start - 1] if start > 0 else " "
        after = text[end] if end < len(text) else " "
        if before not in _SPACE_OR_EDGE and after not in _SPACE_OR_EDGE:
            out.append(_ZWSP)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _table_lines(lines: list[str]) -> list[bool]:
    """Lines GitHub might read as table rows: a delimiter row, the line above it, and the
    lines below it up to a blank one (a superset of GFM's rule)."""
    flags = [False] * len(lines)
    marked = 0  # lines before this index are already decided: keeps many delimiter rows linear
    for i in range(1, len(lines)):
        if "|" in lines[i] and _DELIMITER_ROW.fullmatch(lines[i]):
            j = max(i - 1, marked)
            while j < len(lines) and lines[j].strip(" \t>"):
                flags[j] = True
                j += 1
            marked = j
    return flags


def _protect_code_spans(segment: str, spans: list[str]) -> str:
    """Swap single-line code spans for placeholders, pairing backtick runs as cmark does, and
    escape unpaired runs so that none of our later insertions can pair with them."""
    starts_by_length: dict[int, list[int]] = {}
    for run in _BACKTICKS.finditer(segment):
        starts_by_length.setdefault(run.end() - run.start(), []).append(run.start())
    if not starts_by_length:
        return segment
    out: list[str] = []
    pos = scan = 0
    while (m := _BACKSLASH_OR_BACKTICK.search(segment, scan)) is not None:
        p = m.start()
        if segment[p] == "\\":
            scan = p + 2 if segment[p + 1 : p + 2] in _ASCII_PUNCT else p + 1
            continue
        end = p
        while end < len(segment) and segment[end] == "`":
            end += 1
        length = end - p
        candidates = starts_by_length.get(length, [])
        k = bisect_left(candidates, end)
        out.append(segment[pos:p])
        if k < len(candidates):
            close = candidates[k] + length
            out.append(_placeholder(spans, segment[p:close]))
            pos = scan = close
        else:
            out.append("\\`" * length)
            pos = scan = end
    out.append(segment[pos:])
    return "".join(out)


def _placeholder(spans: list[str], code: str) -> str:
    spans.append(code)
    return f"{_PH_OPEN}{len(spans) - 1}{_PH_CLOSE}"


def _expand(text: str, spans: list[str]) -> str:
    """Put the code spans back, with a space where the preceding text would eat the opening
    backtick (an odd run of backslashes escapes it; a backtick would lengthen the run)."""
    out: list[str] = []
    backslashes, after_backtick = 0, False
    pos = 0
    for m in _PH.finditer(text):
        before = text[pos : m.start()]
        if before:
            tail = len(before) - len(before.rstrip("\\"))
            backslashes = backslashes + tail if tail == len(before) else tail
            after_backtick = before.endswith("`")
        guard = " " if after_backtick or backslashes % 2 else ""
        span = spans[int(m[1])]
        out.extend((before, guard, span))
        backslashes, after_backtick = 0, span.endswith("`")
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_REFERENCE = re.compile(
    f"(?P<ph>{_PH.pattern})|(?P<esc>\\\\[{_P}])"
    "|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
)


def _decode_reference(m: re.Match[str]) -> str:
    """Decode entities (``&#64;`` renders as "@", so it can mention or link), keeping any ASCII
    punctuation literal with a backslash; ``\\@`` becomes "@" for the same reason."""
    if m["ph"] is not None:
        return m[0]
    if m["esc"] is not None:
        return "@" if m[0] == "\\@" else m[0]
    ref = m[0]
    if ref[1] != "#" and ref[1:] not in _HTML5_ENTITIES:
        return ref  # not an entity for CommonMark either: it renders as typed
    return "".join(_literal(ch) for ch in html.unescape(ref))


def _literal(ch: str) -> str:
    if ch in "@:/.#":  # inert in inline Markdown; left bare so the rules below can see them
        return ch
    if ch in _ASCII_PUNCT:
        return "\\" + ch
    if ch in "\n\u2028\u2029":
        return " "
    return _clean_text(ch)


class _Verdict(enum.Enum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    DANGEROUS = "dangerous"


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*+):")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _unescape(m: re.Match[str]) -> str:
    return m[1]


@dataclass(frozen=True)
class _Scope:
    """Where links may point: this repository on its web host (``host/owner/name``, lower-cased)."""

    host: str
    owner: str
    name: str

    @staticmethod
    def parse(repo: str) -> _Scope:
        host, _, rest = repo.strip().strip("/").lower().partition("/")
        owner, _, name = rest.partition("/")
        if not (host and owner and name) or "/" in name:
            return _Scope("", "", "")  # no repository: no absolute link is kept
        return _Scope(host, owner, name)

    def holds(self, path: str) -> bool:
        """Whether a URL path (before ``?``/``#``) is in this repository, the way a browser resolves it."""
        segments = [unquote(s).lower() for s in path.split("/")]
        if any(s in (".", "..") for s in segments):  # "/o/r/../../evil" is /evil once the browser is done
            return False
        return bool(self.owner) and segments[1:3] == [self.owner, self.name]


def _classify(url: str, scope: _Scope) -> _Verdict:
    """Where a browser would go: http(s) URLs into this repository on its host, and relative URLs that stay
    there, are allowed; any other repository, even on the same host, is not."""
    url = html.unescape(_BACKSLASH_ESCAPE.sub(_unescape, url))
    url = _clean_text(url).strip(" \t\n\f\v").replace("\t", "").replace("\n", "")
    if re.sub(r"\s+", "", url).lower().startswith(("javascript:", "vbscript:", "data:")):
        return _Verdict.DANGEROUS
    url = url.replace("\\", "/")  # browsers read "\" as "/" in http(s) URLs
    m = _SCHEME.match(url)
    if m is not None:
        if m[1].lower() not in ("http", "https"):
            return _Verdict.BLOCKED
        rest = url[m.end() :]
    elif url.startswith("//"):
        rest = url
    else:
        path = re.split(r"[?#]", url, maxsplit=1)[0]
        if path.startswith("/"):  # from the host's root: only into this repository
            return _Verdict.ALLOWED if scope.holds(path) else _Verdict.BLOCKED
        # relative to the page (.../owner/name/pull/1): fine unless ".." climbs, maybe out of the repository
        climbs = any(unquote(s) == ".." for s in path.split("/"))
        return _Verdict.BLOCKED if climbs else _Verdict.ALLOWED
    # "http:evil.com" and "https:////evil.com" both reach evil.com: skip every slash.
    authority, _, path = _split_authority(rest.lstrip("/"))
    hostname = re.sub(r":[0-9]*$", "", authority.rpartition("@")[2]).lower()
    return _Verdict.ALLOWED if hostname == scope.host and scope.holds(path) else _Verdict.BLOCKED


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(authority, "", path before any query or fragment, with its leading "/")."""
    m = re.search(r"[/?#]", rest)
    if m is None:
        return rest, "", ""
    path = rest[m.start() :] if rest[m.start()] == "/" else ""
    return rest[: m.start()], "", re.split(r"[?#]", path, maxsplit=1)[0]


def _defang(url: str) -> str:
    """``https://evil.example/x`` -> ``hxxps://evil[.]example/x``."""
    m = _SCHEME.match(url)
    head, rest = "", url
    if m is not None:
        scheme = m[1].lower()
        if scheme not in ("http", "https", "ftp"):
            return f"{m[1]}[:]{url[m.end() :]}"
        head, rest = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[scheme] + ":", url[m.end() :]
    slashes = len(rest) - len(rest.lstrip("/\\"))
    authority, slash, path = rest[slashes:].partition("/")
    return head + rest[:slashes] + authority.replace(".", "[.]") + slash + path


_NOT_PH = f"{_PH_OPEN}{_PH_CLOSE}"
_ESC_ANY = rf"\\[^\n{_NOT_PH}]"
_LEAD = r"^(?:[^\S\n]|>|(?:[-+*]|[0-9]{1,9}[.)])(?=[^\S\n]))*+"
_TEXT = rf"(?:[^\[\]\\\n]|{_ESC_ANY}|\[(?:[^\[\]\\\n]|{_ESC_ANY})*+\])*+"
_DEST = (
    rf"<(?:[^<>\n\\|{_NOT_PH}]|{_ESC_ANY})*+>"
    rf"|(?:[^\s()\\|\]{_NOT_PH}]|{_ESC_ANY}|\((?:[^\s()\\|\]{_NOT_PH}]|{_ESC_ANY})*+\))*+"
)
_TITLE = (
    rf""""(?:[^"\\\n\]]|{_ESC_ANY})*+"|'(?:[^'\\\n\]]|{_ESC_ANY})*+'"""
    rf"|\((?:[^()\\\n\]]|{_ESC_ANY})*+\)"
)
# GitHub's autolinker runs to the next space or "<"; we stop earlier (at "\\", "|", a code span)
# and then wrap an allowed URL in <...> so that GitHub's link cannot run over what follows.
_URL_CHARS = rf"[^\s<|\\{_NOT_PH}]"

# GFM makes "local@domain.tld" a mailto link: a ZWSP after "@" breaks the domain (as for a mention).
_EMAIL_AT = r"(?<=[A-Za-z0-9.+_-])@(?=[A-Za-z0-9_-]++\.[A-Za-z0-9_-])"
_AT_IN_URL = re.compile(f"{_EMAIL_AT}|{_MENTION.pattern}")  # a URL kept as link text: rewritten no further
# "/approve" at a line start could trigger another bot; "~~~" would open a fence we did not see.
_LINE_START = re.compile(rf"{_LEAD}(?=/\w|~~~)", re.MULTILINE)
# The lookahead lets the regex engine skip, at C speed, characters that start no token.
_TOKEN = re.compile(
    f"(?=[\\\\<!\\[\\]@\uff20\ufe6b{_PH_OPEN}hHfFwWcCrR])(?:"
    + "|".join(
        (
            f"(?P<ph>{_PH.pattern})",
            rf"(?P<esc>\\[{_P}])",
            r"(?P<comment><!--)",
            r"(?P<br>(?i:<br)\s*+/?>)",
            rf"(?P<img>(?i:<img)(?=[\s/>])[^<>\n|{_NOT_PH}]*+>)",
            rf"(?P<autolink><[A-Za-z][A-Za-z0-9+.-]{{1,31}}:[^\s<>|{_NOT_PH}]*+>)",
            r"(?P<lt><(?=\S))",
            rf"(?P<image>!\[(?P<alt>{_TEXT})\](?:\((?:[^()\n{_NOT_PH}]|\([^()\n{_NOT_PH}]*+\))*+\)"
            rf"|\[(?:[^\[\]\\\n]|{_ESC_ANY})*+\])?)",
            r"(?P<bang>!\[)",
            rf"(?P<link>\[(?P<text>{_TEXT})\]\(\s*+(?P<dest>{_DEST})(?:\s++(?:{_TITLE}))?\s*+\))",
            r"(?P<paren>\]\()",
            r"(?P<definition>\]:(?P<def_space>[ \t]*+)(?P<def_dest>\S++))",
            rf"(?P<url>(?i:https?://|ftps?://|www\.){_URL_CHARS}*+)",
            f"(?P<closing>{_CLOSING.pattern})",
            f"(?P<email>{_EMAIL_AT})",
            f"(?P<mention>{_MENTION.pattern})",
        )
    )
    + ")"
)
_IMG_ALT = re.compile(r"""(?:^|\s)alt\s*+=\s*+(?:"([^"]*+)"|'([^']*+)'|([^\s"'=<>`]++))""", re.IGNORECASE)
_TRAILING_ENTITY = re.compile(r"&[A-Za-z0-9]++;$")


class _Inline:
    """The inline rewriter for one prose block; ``spans`` receives the code spans it emits."""

    def __init__(self, scope: _Scope, spans: list[str]) -> None:
        self.scope = scope
        self.spans = spans

    def rewrite(self, text: str, *, in_link: bool = False) -> str:
        out: list[str] = []
        pos = 0
        comment_end: Callable[[int], int] | None = None
        while (m := _TOKEN.search(text, pos)) is not None:
            out.append(text[pos : m.start()])
            if m.lastgroup == "comment":  # searching from "<!" also ends "<!-->" and "<!--->" at once
                comment_end = comment_end or _comment_ends(text)
                close = comment_end(m.start() + 2)
                pos = close if close >= 0 else m.end()
                continue
            replacement, pos = self._token(m, in_link)
            out.append(replacement)
        out.append(text[pos:])
        return "".join(out)

    def _token(self, m: re.Match[str], in_link: bool) -> tuple[str, int]:
        kind, token, end = m.lastgroup, m[0], m.end()
        if kind in ("ph", "esc"):
            return token, end
        if kind == "br":
            return " ", end
        if kind == "img":
            alt = _IMG_ALT.search(_BACKSLASH_ESCAPE.sub(_unescape, token[4:-1]))  # an attribute, not Markdown
            return (plain(html.unescape(next(g for g in alt.groups() if g is not None))) if alt else ""), end
        if kind == "autolink":
            return self._url(token[1:-1], keep=token), end
        if kind == "lt":
            return "\\<", end
        if kind == "image":
            return self.rewrite(m["alt"], in_link=in_link), end
        if kind == "bang":
            return "!\\[", end
        if kind == "link":
            return self._link(m["text"], m["dest"]), end
        if kind == "paren":  # not a link we understood: make sure GitHub does not see one either
            return "]\\(", end
        if kind == "definition":
            return self._definition(m)
        if kind == "url":
            return self._bare_url(token, in_link), end
        return token + _ZWSP, end  # closing keyword, e-mail address or mention

    def _inert(self, url: str) -> str:
        return _placeholder(self.spans, inline_code(_defang(_expand(url, self.spans))))

    def _url(self, url: str, keep: str) -> str:
        verdict = _classify(url, self.scope)
        if verdict is _Verdict.ALLOWED:
            return keep
        return "" if verdict is _Verdict.DANGEROUS else self._inert(url)

    def _link(self, text: str, dest: str) -> str:
        if dest.startswith("<"):
            dest = dest[1:-1]
        verdict = _classify(dest, self.scope)
        if verdict is _Verdict.ALLOWED:
            return f"[{self.rewrite(text, in_link=True)}]({_canonical_destination(dest)})"
        label = self.rewrite(text)  # the label now stands outside any link
        if verdict is _Verdict.DANGEROUS:
            return label
        return f"{label} ({self._inert(_BACKSLASH_ESCAPE.sub(_unescape, dest))})"

    def _definition(self, m: re.Match[str]) -> tuple[str, int]:
        dest = m["def_dest"]
        inner = dest[1:-1] if dest.startswith("<") and dest.endswith(">") else dest
        verdict = _classify(inner, self.scope)
        if verdict is _Verdict.DANGEROUS:
            return "]\\:" + m["def_space"], m.end()
        # "[ref]\:" is text, not a definition. Either way the destination is then rewritten as
        # prose, in case GitHub does not read this line as a definition at all.
        allowed = verdict is _Verdict.ALLOWED and _PH_OPEN not in dest
        return ("]:" if allowed else "]\\:") + m["def_space"], m.start("def_dest")

    def _bare_url(self, url: str, in_link: bool) -> str:
        core = url
        while core:  # GFM leaves trailing punctuation and unbalanced ")" out of the link
            if core[-1] in "?!.,:*_~'\"":
                core = core[:-1]
            elif core[-1] == ")" and core.count("(") < core.count(")"):
                core = core[:-1]
            elif (entity := _TRAILING_ENTITY.search(core)) is not None:
                core = core[: entity.start()]
            else:
                break
        if not core:
            return url
        full = core if _SCHEME.match(core) else "http://" + core
        if in_link:  # an escaped ":" or "." cannot start an autolink; the text reads the same
            kept = re.sub(r"(?<=^www)\.|:", lambda m: "\\" + m[0], core, count=1)
            kept = _AT_IN_URL.sub(lambda m: m[0] + _ZWSP, kept)  # it is rewritten no further
        else:  # a placeholder, so that a backslash before it gets a guard space (_expand), as code does
            kept = _placeholder(self.spans, f"<{full}>")
        return self._url(full, keep=kept) + url[len(core) :]


def _canonical_destination(dest: str) -> str:
    """Our own spelling of an allowed destination: no title, nothing that could swallow text."""
    dest = _BACKSLASH_ESCAPE.sub(_unescape, dest)
    encoded = "".join(f"%{ord(c):02X}" if c in " ()<>`|\\\"'" or c.isspace() else c for c in dest)
    return encoded.replace("&", "\\&")


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
