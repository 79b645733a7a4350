"""The prose pass of `sanitize_markdown`: code spans swapped for placeholders, character references decoded,
then one tokenizer rewrites everything else (HTML, images, links, bare URLs, mentions, e-mail addresses,
closing keywords) in a single left-to-right scan."""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from collections.abc import Callable
from html.entities import html5 as _HTML5_ENTITIES

from .fences import inline_code
from .links import (
    _BACKSLASH_ESCAPE,
    _EMAIL_AT,
    _SCHEME,
    _canonical_destination,
    _classify,
    _defang,
    _Scope,
    _unescape,
    _Verdict,
)
from .text import (
    _CLOSING,
    _MENTION,
    _PH,
    _PH_CLOSE,
    _PH_OPEN,
    _ZWSP,
    _clean_text,
    _comment_ends,
    plain,
)

_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_P = r"!-/:-@\[-`{-~"  # ASCII punctuation as a character-class body


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
_MENTION_SIGNS = "@\uff20\ufe6b"


def _join(out: list[str], piece: str) -> None:
    """Append a piece; a rewrite can bring an "@" and a name together that were apart in the input
    (`@[t](https://x)` becomes "@t (...)", `@[](javascript:x)t` becomes "@t"): a mention made at a join is
    defused there. Only the joins are looked at: a kept URL's own "/@name" is left whole."""
    if not piece:
        return
    if piece[0].isascii() and piece[0].isalnum():
        last = "".join(out[-2:])[-2:]  # the output's last two characters (no piece in `out` is empty)
        before = last[:-1]
        if last[-1:] in _MENTION_SIGNS and last and not (before.isascii() and (before.isalnum() or before == "_")):
            piece = _ZWSP + piece
    out.append(piece)


def _seal(piece: str) -> str:
    """A piece rewritten on its own and then joined to what follows it: a "<" it ends with was alone there,
    and left bare it could open a tag or an autolink with the next text (`![<]` then a backtick)."""
    return piece[:-1] + "\\<" if piece.endswith("<") and not piece.endswith("\\<") else piece


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
            _join(out, text[pos : m.start()])
            if m.lastgroup == "comment":  # searching from "<!" also ends "<!-->" and "<!--->" at once
                comment_end = comment_end or _comment_ends(text)
                close = comment_end(m.start() + 2)
                pos = close if close >= 0 else m.end()
                continue
            replacement, pos = self._token(m, in_link)
            _join(out, replacement)
        _join(out, text[pos:])
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
            return _seal(self.rewrite(m["alt"], in_link=in_link)), end
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
        label = _seal(self.rewrite(text))  # the label now stands outside any link
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
        # A destination the prose rules would rewrite (a bare URL: `]:www.example`) is not kept as one either,
        # or the rewritten text would read as a definition on a second pass.
        found = _TOKEN.match(inner)
        rewritten = (
            found is not None
            and found.lastgroup == "url"
            and _classify(inner if _SCHEME.match(inner) else "http://" + inner, self.scope) is not _Verdict.ALLOWED
        )
        allowed = verdict is _Verdict.ALLOWED and _PH_OPEN not in dest and not rewritten
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
