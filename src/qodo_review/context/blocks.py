"""The enclosing block of a line by indentation and braces alone: the related context of a file in a language
without a grammar, or one that does not parse. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence

MAX_BLOCK_LINES = 80  # how far up a block's header is looked for, and the most of a block shown
_HEADER = re.compile(
    r"^\s*(?:(?:export|public|private|protected|static|async|pub|def|fn|func|function|sub|class|module|"
    r"struct|impl|interface|trait|object|proc|procedure|method|defp|defmodule)\b|[\w.<>\[\], *&]+\([^;]*\)\s*\{?\s*$)"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def enclosing_block(lines: Sequence[str], line: int) -> tuple[int, int] | None:
    """(first, last) line (1-based) of the block that holds ``line``: the nearest line above it with less
    indentation that opens a block (ends with `{` or `:`, or looks like a definition), to the line where the
    indentation comes back to it (a closing bracket included). None when no such header is near."""
    index = min(line, len(lines)) - 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    if index < 0:
        return None
    level = _indent(lines[index])
    start = -1
    for i in range(index, max(-1, index - MAX_BLOCK_LINES), -1):
        text = lines[i]
        if not text.strip() or (_indent(text) >= level and i != index):
            continue
        if (_indent(text) < level or i == index) and (text.rstrip().endswith(("{", ":")) or _HEADER.match(text)):
            if i == index and _indent(text) >= level and i + 1 < len(lines) and _indent(lines[i + 1]) <= level:
                continue  # a one-line statement that is not a header of what follows
            start = i
            break
    if start < 0:
        return None
    head = _indent(lines[start])
    end = start
    for i in range(start + 1, min(len(lines), start + MAX_BLOCK_LINES)):
        text = lines[i]
        if not text.strip():
            continue
        if _indent(text) <= head:
            if text.strip()[:1] in ")}]" or text.strip().startswith("end"):
                end = i
            break
        end = i
    return start + 1, end + 1
