"""PEM private keys across lines: a block followed from its BEGIN marker, or walked up from its END marker
when its start is not in the text (a cut hunk). Each marker costs a bounded walk, and no text is walked twice."""

from __future__ import annotations

import re

from .scan import MAX_PEM_LINES, MIN_OPEN_PEM_BODY, MIN_PEM_BODY, PEM_BYTES, PEM_FREE, _Hit, _line_end

_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# Key material on one line: base64, escaped newlines (JSON and Java strings), the RFC 1421 headers.
_PEM_INLINE = re.compile(
    r"(?:\\[rn]|[A-Za-z0-9+/= \t\r]|(?:Proc-Type|DEK-Info|Comment|Version):"
    r"[^\\\n\"']{0,200}+){0,20000}+"
)
# A line inside a block: framing (indentation, quotes, `+`, commas) around base64 or a header.
_PEM_LINE = re.compile(
    r"[ \t\"'`+,;(]{0,80}+(?P<core>(?:[A-Za-z0-9+/=]|\\[rn]){1,8192}+"
    r"|(?:Proc-Type|DEK-Info|Comment|Version): ?[^\"'\n\\]{0,200}+)?(?:\\[rn]){0,4}+"
    r"[ \t\r\"'`+,;)\\]{0,80}+"
)
_PEM_FRAMING = re.compile(r"(?:\\[rn]|[ \t\r\"'`+,;)\\]){0,80}+")
_NOT_BASE64 = re.compile(r"\\[rn]|[^A-Za-z0-9+/=]")

_Spans = list[tuple[int, int]]


def _pem_hits(text: str) -> tuple[list[_Hit], int]:
    """The hits of PEM blocks, and the cut: where the marker budget ran out (len(text) if it did not)."""
    hits: list[_Hit] = []
    covered_to = 0
    budget = PEM_FREE + len(text) // PEM_BYTES

    def add(spans: _Spans, body: str, minimum: int) -> None:
        key = _NOT_BASE64.sub("", body)
        if len(key) >= minimum:
            group, value = len(hits), "pem:" + key  # one value shared by the block's lines, not one copy each
            hits.extend(_Hit(s, e, "private-key", value, 1, group) for s, e in spans)

    ends_seen: set[int] = set()
    cut = len(text)
    for begin in _PEM_BEGIN.finditer(text):
        budget -= 1
        if budget < 0:
            cut = text.rfind("\n", 0, begin.start()) + 1
            break
        if begin.start() >= covered_to:
            spans, body, covered_to, ended = _follow_pem(text, begin)
            if ended:
                ends_seen.add(spans[-1][1])
            add(spans, body, MIN_PEM_BODY if ended else MIN_OPEN_PEM_BODY)
    # A block whose BEGIN line is not in this text (a cut hunk). A walk up from an END marker stops where the
    # previous marker ended: its material is the text between them, so no text is walked (or copied) twice
    # however many END markers follow one another.
    floor = 0
    for end in _PEM_END.finditer(text, 0, cut):
        budget -= 1
        if budget < 0:
            cut = text.rfind("\n", 0, end.start()) + 1
            break
        if end.start() > floor and end.end() not in ends_seen:  # markers back to back hold no material
            add(*_follow_pem_back(text, end, floor), MIN_OPEN_PEM_BODY)
        floor = end.end()
    return hits, cut


def _follow_pem(text: str, begin: re.Match[str]) -> tuple[_Spans, str, int, bool]:
    """The spans of one block from its BEGIN marker, the key material, where it ends, and if END was seen."""
    line_end = _line_end(text, begin.end())
    inline = _PEM_INLINE.match(text, begin.end(), line_end)
    body, stop = (inline.group(), inline.end()) if inline else ("", begin.end())
    end = _PEM_END.match(text, stop, line_end)
    if end:
        return [(begin.start(), end.end())], body, end.end(), True
    spans = [(begin.start(), begin.end() + len(body.rstrip(" \t\r")))]
    if not _PEM_FRAMING.fullmatch(text, stop, line_end):
        return spans, body, line_end, False  # code follows the marker: not a block to follow
    pos = line_end + 1
    for _ in range(MAX_PEM_LINES):
        if pos > len(text):
            break
        stop = _line_end(text, pos)
        end = _PEM_END.search(text, pos, stop)
        if end:
            core = _PEM_LINE.match(text, pos, end.start())
            first = core.start("core") if core and core.group("core") else end.start()
            spans.append((first, end.end()))
            return spans, body + text[first : end.start()], end.end(), True
        line = _PEM_LINE.fullmatch(text, pos, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            body += line.group("core")
        pos = stop + 1
    return spans, body, pos, False


def _follow_pem_back(text: str, end: re.Match[str], floor: int) -> tuple[_Spans, str]:
    """The spans and key material of a block seen only from its END marker, walking up, never above floor."""
    line_start = max(text.rfind("\n", 0, end.start()) + 1, floor)
    core = _PEM_LINE.match(text, line_start, end.start())
    first = core.start("core") if core and core.group("core") and core.end() == end.start() else end.start()
    spans, pieces = [(first, end.end())], [text[first : end.start()]]
    stop = line_start - 1
    for _ in range(MAX_PEM_LINES):
        if stop < floor:
            break
        start = text.rfind("\n", 0, stop) + 1
        if start < floor:
            break
        line = _PEM_LINE.fullmatch(text, start, stop)
        if line is None:
            break
        if line.group("core"):
            spans.append(line.span("core"))
            pieces.append(line.group("core"))
        stop = start - 1
    return spans, "".join(reversed(pieces))
