"""What code is related to a change, ranked: (1) the definition enclosing each changed line, (2) definitions
of the symbols the changed lines use (through the file's imports first, then by name), (3) call sites of the
functions and classes the change touches, (4) the tests that exercise them.

Pure: the repository is a ``Reader`` (its paths, and the text of the files asked for, within its own bound);
this module decides what to ask for, and never asks for a path ``allowed`` refuses.
"""

from __future__ import annotations

import builtins
import keyword
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .blocks import enclosing_block
from .languages import spec_for
from .modules import (
    TEST_PATH,
    call_names,
    definition_names,
    distance,
    family_of,
    local_module,
    module_files,
    snake,
    stem,
)
from .outline import Definition, Outline, outline

MAX_ENCLOSING_LINES = 120  # a longer enclosing definition is shown around its changed lines
AROUND_CHANGE = 15  # lines kept on each side of the changes of an enclosing definition cut to size
MAX_HEADER_LINES = 6  # a class's header shown with a changed member
MAX_DEFINITION_LINES = 80  # a longer definition is shown from its start up to this many lines
MAX_DEFINITIONS_PER_NAME = 2  # a name defined in more places than this (by name, not import) is ambiguous
MAX_CALLERS = 5  # call sites per changed function (tests counted apart)
MAX_TESTS = 3  # tests per changed function
MAX_CALLER_LINES = 40  # a caller longer than this is shown around the call
MAX_NAMES = 60  # names of a change looked up; the rest are left (a huge PR's context is per part anyway)
MAX_CHANGED_DEFINITIONS = 40  # changed functions whose callers are searched
_IGNORED_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | {"self", "cls", "this", "super", "_"}


class Reader(Protocol):
    """The repository at the head commit. ``searchable``: every file may be read (a local checkout), else only
    within the reader's bound (GitHub's API): callers and tests are then looked for near the change only."""

    searchable: bool

    def paths(self) -> Sequence[str]: ...

    def read(self, paths: Sequence[str]) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class Change:
    """One changed file: the new-side lines added, the lines next to a removal, and the ranges the diff shows."""

    path: str
    added: frozenset[int]
    touched: frozenset[int] = frozenset()
    shown: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Snippet:
    path: str
    start: int
    end: int
    rank: int  # 1 enclosing, 2 definition used, 3 caller, 4 test
    why: str
    serves: str  # the changed file it is context for
    order: int = 0  # within a rank, lower first

    @property
    def lines(self) -> int:
        return self.end - self.start + 1


@dataclass
class Related:
    """Every candidate snippet (not yet cut to a budget), the text of each file they come from, and notes."""

    snippets: list[Snippet] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    heuristic: set[str] = field(default_factory=set)  # changed files outlined by indentation only


def resolve(
    changes: Sequence[Change],
    reader: Reader,
    allowed: Callable[[str], bool],
    code: Callable[[str], bool] = lambda path: True,
) -> Related:
    """The ranked candidates for these changes. ``code``: whether a file without a grammar holds code (its
    enclosing blocks are then found by indentation; documentation and data get none)."""
    return _Resolver(reader, allowed, code).run(changes)


class _Resolver:
    def __init__(self, reader: Reader, allowed: Callable[[str], bool], code: Callable[[str], bool]) -> None:
        self.reader, self.allowed, self.code = reader, allowed, code
        self.listing = [p for p in reader.paths() if allowed(p)]
        self.known = set(self.listing)
        self.related = Related()
        self.outlines: dict[str, Outline | None] = {}
        self.raw: dict[str, str] = {}  # the text of each file read
        self.searched: set[str] = set()
        self.order = 0

    # -- reading --------------------------------------------------------------------------------------------

    def _read(self, paths: Iterable[str]) -> None:
        wanted = [p for p in dict.fromkeys(paths) if p in self.known and p not in self.related.texts]
        if not wanted:
            return
        for path, text in self.reader.read(wanted).items():
            if path in self.known and "\0" not in text[:8000]:
                self.related.texts[path] = text.splitlines()
                self.raw[path] = text

    def _outline(self, path: str) -> Outline | None:
        if path not in self.outlines:
            text = self.raw.get(path)
            self.outlines[path] = outline(path, text, strict=False) if text is not None else None
        return self.outlines[path]

    def _search(self, family: str) -> None:
        """A searchable reader's files of one family, read in one batch before any search (not per rank)."""
        if self.reader.searchable and family not in self.searched:
            self.searched.add(family)
            self._read(p for p in self.listing if family_of(p) == family)

    def _add(self, path: str, start: int, end: int, rank: int, why: str, serves: str) -> None:
        self.order += 1
        self.related.snippets.append(Snippet(path, start, end, rank, why, serves, self.order))

    # -- the ranks ------------------------------------------------------------------------------------------

    def run(self, changes: Sequence[Change]) -> Related:
        changes = [c for c in changes if self.allowed(c.path)]
        self._read(c.path for c in changes)
        plans: list[tuple[Change, Outline, set[str], list[Definition]]] = []
        for change in changes:
            lines = self.related.texts.get(change.path)
            if lines is None:
                continue
            where = change.added | change.touched
            parsed = outline(change.path, self.raw[change.path], where) if spec_for(change.path) else None
            if parsed is None:
                if self.code(change.path):
                    self.related.heuristic.add(change.path)
                    self._blocks(change, lines)
                continue
            self.outlines[change.path] = parsed
            changed = self._enclosing(change, parsed)
            plans.append((change, parsed, self._names(change, parsed, lines), changed))
        for change, parsed, names, _ in plans:
            self._definitions(change, parsed, names)
        for change, parsed, _, changed in plans:
            self._callers(change, parsed, changed)
        return self.related

    def _blocks(self, change: Change, lines: list[str]) -> None:
        seen: set[tuple[int, int]] = set()
        for line in sorted(change.added | change.touched):
            block = enclosing_block(lines, line)
            if block is not None and block not in seen and not _inside(block, change.shown):
                seen.add(block)
                self._add(change.path, *block, 1, "enclosing block", change.path)

    def _enclosing(self, change: Change, parsed: Outline) -> list[Definition]:
        """Rank 1; returns the functions and classes whose lines the change touches (for their callers)."""
        lines_of: dict[int, list[int]] = {}
        for line in change.added | change.touched:
            index = parsed.innermost(line)
            if index >= 0:
                lines_of.setdefault(index, []).append(line)
        changed: list[Definition] = []
        for index in sorted(lines_of):
            d = parsed.definitions[index]
            if d.kind in ("function", "class", "type"):
                changed.append(d)
            first, last = min(lines_of[index]), max(lines_of[index])
            start, end = d.start, d.end
            if d.kind == "class" and first >= d.body:  # a class's own lines: its header and the changed member
                header_end = min(d.body - 1, d.start + MAX_HEADER_LINES - 1)
                if header_end >= d.start and not _inside((d.start, header_end), change.shown):
                    self._add(change.path, d.start, header_end, 1, f"`{d.name}`, the header of the class", change.path)
                start, end = max(d.body, first - 3), min(d.end, last + 3)
            elif end - start + 1 > MAX_ENCLOSING_LINES:
                start, end = max(d.start, first - AROUND_CHANGE), min(d.end, last + AROUND_CHANGE)
                if start > d.start:
                    self._add(change.path, d.start, min(d.body, d.start + MAX_HEADER_LINES - 1), 1, "", change.path)
            if not _inside((start, end), change.shown):
                self._add(change.path, start, end, 1, f"`{d.name}`, the definition the change is in", change.path)
            if d.parent >= 0:
                p = parsed.definitions[d.parent]
                header_end = min(max(p.start, p.body - 1), p.start + MAX_HEADER_LINES - 1)
                if not _inside((p.start, header_end), change.shown):
                    self._add(change.path, p.start, header_end, 1, f"`{p.name}`, the header of the class", change.path)
        return changed

    def _names(self, change: Change, parsed: Outline, lines: list[str]) -> set[str]:
        """The symbols the added lines use: called, imported, defined in the file, or capitalised (types,
        constants). Plain lower-case names that are none of these are local variables."""
        imported = {i.local for i in parsed.imports}
        defined = {d.name for d in parsed.definitions}
        called = {name for line, name in parsed.calls if line in change.added}
        names: set[str] = set()
        for line in sorted(change.added):
            for name in parsed.names.get(line, ()):
                if name in _IGNORED_NAMES or len(name) < 2:
                    continue
                if name in called or name in imported or name in defined or name[:1].isupper():
                    names.add(name)
        return set(sorted(names)[:MAX_NAMES])

    def _definitions(self, change: Change, parsed: Outline, names: set[str]) -> None:
        """Rank 2: through the imports first, then in the file itself, then by name in the repository."""
        found: set[str] = set()
        targets: dict[str, list[tuple[str, str]]] = {}  # file -> (symbol, the name as used)
        text = "\n".join(
            self.related.texts[change.path][line - 1]
            for line in sorted(change.added)
            if line - 1 < len(self.related.texts[change.path])
        )
        for imp in parsed.imports:
            if imp.local not in names:
                continue
            for path in module_files(parsed.family, change.path, imp.module, imp.level, self.known):
                if imp.name and imp.name != "default":
                    targets.setdefault(path, []).append((imp.name, imp.local))
                else:
                    for attr in set(re.findall(rf"\b{re.escape(imp.local)}\s*(?:\.|::)\s*(\w+)", text)):
                        targets.setdefault(path, []).append((attr, imp.local))
            if imp.name and parsed.family == "python":  # `from pkg import module`
                sub = f"{imp.module}.{imp.name}" if imp.module else imp.name
                for path in module_files("python", change.path, sub, imp.level, self.known):
                    for attr in set(re.findall(rf"\b{re.escape(imp.local)}\.(\w+)", text)):
                        targets.setdefault(path, []).append((attr, imp.local))
        self._read(targets)
        for path, wanted in targets.items():
            other = self._outline(path)
            if other is None:
                continue
            for symbol, used in wanted:
                for d in other.definitions:
                    if (d.name == symbol and d.parent < 0) or (d.name == symbol and symbol == used):
                        self._definition(path, d, change.path, f"`{symbol}`, used by the change")
                        found.add(used)
                        found.add(symbol)
                        break
        # the functions the added lines are in are shown already (rank 1); a class holding them is not
        spans = [
            (d.start, d.end)
            for d in (parsed.definitions[i] for i in {parsed.innermost(ln) for ln in change.added} - {-1})
            if d.kind == "function"
        ]
        for d in parsed.definitions:
            if d.name in names and d.name not in found and not any(a <= d.start and d.end <= b for a, b in spans):
                self._definition(change.path, d, change.path, f"`{d.name}`, used by the change")
                found.add(d.name)
        if parsed.family == "python":
            found |= self._fixtures(change, parsed, found)
        rest = sorted(names - found - {i.local for i in parsed.imports if not local_module(parsed.family, i.module)})
        if rest:
            self._by_name(change, parsed, rest)

    def _fixtures(self, change: Change, parsed: Outline, found: set[str]) -> set[str]:
        """pytest fixtures: a test's parameter names a function of a conftest.py in its directory or above, with
        no import to follow (any name on the added lines counts, not only calls)."""
        here = posixpath.dirname(change.path)
        conftests = [p for p in self.listing if p.endswith("conftest.py") and here.startswith(posixpath.dirname(p))]
        used = {n for line in change.added for n in parsed.names.get(line, ())} - found
        if not conftests or not used:
            return set()
        self._read(conftests)
        fixtures: set[str] = set()
        for path in sorted(conftests, key=len, reverse=True):
            other = self._outline(path)
            for d in other.definitions if other is not None else ():
                if d.name in used and d.parent < 0 and d.name not in fixtures:
                    self._definition(path, d, change.path, f"`{d.name}`, a fixture the change uses")
                    fixtures.add(d.name)
        return fixtures

    def _definition(self, path: str, d: Definition, serves: str, why: str) -> None:
        self._add(path, d.start, min(d.end, d.start + MAX_DEFINITION_LINES - 1), 2, why, serves)

    def _by_name(self, change: Change, parsed: Outline, names: Sequence[str]) -> None:
        family = parsed.family
        here = posixpath.dirname(change.path)
        same = [p for p in self.listing if family_of(p) == family and p != change.path]
        if self.reader.searchable:
            candidates = same
        else:  # within the bound: the change's own directory (Go's package), and files named after a symbol
            stems = {snake(n) for n in names} | {n.lower() for n in names}
            candidates = [p for p in same if posixpath.dirname(p) == here] + [
                p for p in same if stem(p).lower().replace("-", "_") in stems
            ]
        self._search(family)
        self._read(candidates)
        defines = definition_names(family, names)
        hits: dict[str, list[str]] = {}
        for path in candidates:
            text = self.raw.get(path)
            if text is None or not any(name in text for name in names):  # a substring test first: C speed
                continue
            for name in defines(text):
                if path not in hits.get(name, []):
                    hits.setdefault(name, []).append(path)
        for name in names:
            paths = sorted(hits.get(name, []), key=lambda p: (distance(here, p), TEST_PATH.search(p) is not None, p))
            places: list[tuple[str, Definition]] = []
            for path in paths:
                other = self._outline(path)
                if other is None:
                    continue
                places += [(path, d) for d in other.definitions if d.name == name]
            near = [pd for pd in places if posixpath.dirname(pd[0]) == here]
            if len(places) > MAX_DEFINITIONS_PER_NAME and not near:
                continue  # ambiguous: `get`, `run`, `__init__` defined all over
            for path, d in (near or places)[:MAX_DEFINITIONS_PER_NAME]:
                self._definition(path, d, change.path, f"`{name}`, used by the change (found by name)")

    def _callers(self, change: Change, parsed: Outline, changed: Sequence[Definition]) -> None:
        """Ranks 3 and 4: where the changed functions and classes are called (tests apart)."""
        names = sorted({d.name for d in changed if len(d.name) > 2 and not d.name.startswith("__")})
        names = names[:MAX_CHANGED_DEFINITIONS]
        if not names:
            return
        family, here = parsed.family, posixpath.dirname(change.path)
        same = [p for p in self.listing if family_of(p) == family]
        if self.reader.searchable:
            candidates = same
        else:
            name = stem(change.path).lower()
            candidates = [p for p in same if posixpath.dirname(p) == here] + [
                p for p in same if TEST_PATH.search(p) and name in p.lower()
            ]
        self._search(family)
        self._read(candidates)
        calls = call_names(names)
        module = stem(change.path)
        hits: dict[str, list[str]] = {}
        for path in candidates:
            text = self.raw.get(path)
            if text is None or not any(name in text for name in names):
                continue
            for name in set(calls(text)):
                hits.setdefault(name, []).append(path)
        for name in names:
            # most relevant first: files that name the changed module (they import it), then the nearest
            ranked = sorted(
                hits.get(name, []),
                key=lambda p: (module not in self.raw.get(p, "")[:4000], distance(here, p), p),
            )
            callers = tests = 0
            for path in ranked:
                other = self._outline(path)
                if other is None:
                    continue
                is_test = TEST_PATH.search(path) is not None
                for line, callee in other.calls:
                    if callee != name or (path == change.path and any(d.start <= line <= d.end for d in changed)):
                        continue
                    if (tests if is_test else callers) >= (MAX_TESTS if is_test else MAX_CALLERS):
                        break
                    start, end = self._around(other, path, line)
                    rank = 4 if is_test else 3
                    what = "a test calling" if is_test else "calls"
                    self._add(path, start, end, rank, f"{what} `{name}`, which the change modifies", change.path)
                    if is_test:
                        tests += 1
                    else:
                        callers += 1

    def _around(self, other: Outline, path: str, line: int) -> tuple[int, int]:
        index = other.innermost(line)
        if index >= 0:
            d = other.definitions[index]
            if d.end - d.start + 1 <= MAX_CALLER_LINES:
                return d.start, d.end
        total = len(self.related.texts.get(path, []))
        return max(1, line - 5), min(total, line + 5)


def _inside(span: tuple[int, int], shown: Sequence[tuple[int, int]]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in shown)
