"""Related context: beside the diff, the code the change is in, the code it calls and the code that calls it.

Modules: ``languages`` (the tree-sitter grammars and what their node types mean), ``outline`` (a file's
definitions, calls, imports and names, from tree-sitter queries), ``blocks`` (the indentation heuristic for
other files), ``modules`` (imports to files, name and call patterns), ``resolve`` (the ranking, pure over a
``Reader``), ``render`` (one call's section, cut to its budget), ``source`` (the Readers: the workspace's git
objects, a local repository, GitHub's API), ``found`` (the engine's one call per run).
The engine calls ``found.gather_context`` once per run and ``section`` once per model call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from ..diff import RawFile
from ..models import FileStatus
from ..redact import Redactor
from ..select import is_source
from .render import Block, pick, render_related
from .resolve import Change, Reader, Related, resolve

__all__ = ["Block", "Change", "Reader", "Related", "change_of", "gather", "section"]

MAX_CONTEXT_FILES = 300  # changed files whose context is resolved; past it a PR's parts go without
# A file changed in more lines than this (generated, vendored, a data dump) gets no related code: it fills
# its calls itself, and reading its lines for a change set would cost more than the whole rest of the PR.
MAX_CONTEXT_FILE_CHANGES = 5_000
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


def change_of(raw: RawFile) -> Change:
    """A diff file's changed lines on the new side, read from its text without parsing it into Line objects."""
    added: set[int] = set()
    touched: set[int] = set()
    shown: list[tuple[int, int]] = []
    text = raw.text
    for match in _HUNK.finditer(text):
        new = int(match.group(1))
        length = int(match.group(2)) if match.group(2) is not None else 1
        shown.append((new, new + length - 1))
        pos = text.find("\n", match.end()) + 1
        line, left = new, length
        while pos and pos < len(text) and text[pos] in "+- \\":
            end = text.find("\n", pos)
            kind = text[pos]
            if kind == "+":
                added.add(line)
                line += 1
                left -= 1
            elif kind == " ":
                line += 1
                left -= 1
            elif kind == "-":
                touched.update((max(1, line - 1), line))
            if end == -1:
                break
            pos = end + 1
            if left <= 0 and not text.startswith(("-", "\\"), pos):
                break
    return Change(raw.path, frozenset(added), frozenset(touched - added), tuple(shown))


def gather(raw_files: Sequence[RawFile], reader: Reader, allowed: Callable[[str], bool]) -> Related:
    """Every candidate snippet for these changed files (deleted files have no new side to relate)."""
    eligible = [
        r
        for r in raw_files
        if r.status is not FileStatus.DELETED and not r.binary and r.added + r.removed <= MAX_CONTEXT_FILE_CHANGES
    ]
    return resolve([change_of(r) for r in eligible[:MAX_CONTEXT_FILES]], reader, allowed, is_source)


def section(
    related: Related, paths: Collection[str], redactor: Redactor, *, max_lines: int, max_tokens: int
) -> tuple[str, list[Block]]:
    """One call's "Related code" section for the changed files it sends, within its budgets."""
    if max_lines <= 0 or max_tokens <= 0:
        return "", []
    blocks = pick(related.snippets, related.texts, paths, max_lines=max_lines, max_tokens=max_tokens)
    return render_related(blocks, related.texts, redactor), blocks
