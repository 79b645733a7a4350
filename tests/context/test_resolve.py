"""resolve: the ranking 1-4 over a repository given as a dict, per language; what a reader is asked for (never a
refused path; near the change only when it cannot search)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qodo_review.context import Change, gather
from qodo_review.context.resolve import resolve
from qodo_review.diff import split_diff


class DictReader:
    def __init__(self, files: Mapping[str, str], searchable: bool = True) -> None:
        self.files, self.searchable = dict(files), searchable
        self.asked: list[str] = []

    def paths(self) -> Sequence[str]:
        return list(self.files)

    def read(self, paths: Sequence[str]) -> Mapping[str, str]:
        self.asked.extend(paths)
        return {p: self.files[p] for p in paths}


PY = {
    "app/__init__.py": "",
    "app/util.py": "def helper(a, b):\n    return a + b\n\n\nclass Store:\n    def get(self, k):\n        return k\n",
    "app/main.py": (
        "from .util import helper, Store\n\n\ndef run(x):\n    s = Store()\n    y = helper(x, 2)\n    return y\n"
    ),
    "far/away/other.py": "from app.main import run\n\n\ndef go():\n    return run(3)\n",
    "tests/test_main.py": "from app.main import run\n\n\ndef test_run():\n    assert run(1) == 3\n",
    "secret/keys.py": "def helper(a, b):\n    return 'not this one'\n",
}


def snippets(related: object) -> list[tuple[int, str, int, int]]:
    """Best first, as pick takes them."""
    ranked = sorted(related.snippets, key=lambda s: (s.rank, s.order))  # type: ignore[attr-defined]
    return [(s.rank, s.path, s.start, s.end) for s in ranked]


def test_python_ranks_enclosing_definitions_callers_tests() -> None:
    reader = DictReader(PY)
    related = resolve([Change("app/main.py", frozenset({5, 6}), shown=((5, 6),))], reader, lambda p: True)
    assert snippets(related) == [
        (1, "app/main.py", 4, 7),  # the function the change is in: the hunk shows only part of it
        (2, "app/util.py", 1, 2),  # helper, through the import (not secret/keys.py's helper, by name)
        (2, "app/util.py", 5, 7),  # Store, capitalised
        (3, "far/away/other.py", 4, 5),
        (4, "tests/test_main.py", 4, 5),
    ]


def test_a_refused_path_is_never_asked_for() -> None:
    reader = DictReader(PY)
    related = resolve(
        [Change("app/main.py", frozenset({6}))], reader, lambda p: not p.startswith(("app/util", "secret/"))
    )
    assert not [p for p in reader.asked if p.startswith(("app/util", "secret/"))]
    assert all(not s.path.startswith(("app/util", "secret/")) for s in related.snippets)


def test_without_search_callers_are_looked_for_near_the_change_only() -> None:
    reader = DictReader(PY, searchable=False)
    related = resolve([Change("app/main.py", frozenset({6}))], reader, lambda p: True)
    assert "far/away/other.py" not in reader.asked  # another directory: only a search of the tree finds it
    assert "tests/test_main.py" in reader.asked  # a test named after the module
    assert (4, "tests/test_main.py", 4, 5) in snippets(related)


def test_a_class_member_change_shows_the_class_header() -> None:
    files = {"m.py": "class Base:\n    '''Doc.'''\n\n    x = 1\n\n    def f(self):\n        return 1\n"}
    related = resolve([Change("m.py", frozenset({7}), shown=((7, 7),))], DictReader(files), lambda p: True)
    assert snippets(related) == [(1, "m.py", 6, 7), (1, "m.py", 1, 1)]


def test_typescript_relative_import() -> None:
    files = {
        "src/a.ts": 'import { parse } from "./lib/parse.js";\nexport function f(s: string) {\n  return parse(s);\n}\n',
        "src/lib/parse.ts": "export function parse(s: string): number {\n  return Number(s);\n}\n",
    }
    related = resolve([Change("src/a.ts", frozenset({3}))], DictReader(files), lambda p: True)
    assert (2, "src/lib/parse.ts", 1, 3) in snippets(related)


def test_go_same_package_and_imported_package() -> None:
    files = {
        "go.mod": "module example.com/m\n",
        "cmd/run.go": (
            'package cmd\n\nimport "example.com/m/util"\n\nfunc Run() int {\n\treturn util.Add(helper(), 1)\n}\n'
        ),
        "cmd/helper.go": "package cmd\n\nfunc helper() int {\n\treturn 2\n}\n",
        "util/add.go": "package util\n\n// Add adds.\nfunc Add(a, b int) int {\n\treturn a + b\n}\n",
    }
    related = resolve([Change("cmd/run.go", frozenset({6}))], DictReader(files), lambda p: True)
    found = snippets(related)
    assert (2, "util/add.go", 4, 6) in found and (2, "cmd/helper.go", 3, 5) in found


def test_java_import_and_rust_use() -> None:
    files = {
        "src/main/java/a/App.java": "package a;\nimport b.Util;\nclass App {\n  int m() { return Util.twice(2); }\n}\n",
        "src/main/java/b/Util.java": (
            "package b;\npublic class Util {\n  static int twice(int x) { return 2 * x; }\n}\n"
        ),
        "src/lib.rs": "use crate::math::double;\npub fn run() -> u8 {\n    double(2)\n}\n",
        "src/math.rs": "pub fn double(x: u8) -> u8 {\n    x * 2\n}\n",
    }
    reader = DictReader(files)
    java = resolve([Change("src/main/java/a/App.java", frozenset({4}))], reader, lambda p: True)
    assert (2, "src/main/java/b/Util.java", 2, 4) in snippets(java)
    rust = resolve([Change("src/lib.rs", frozenset({3}))], reader, lambda p: True)
    assert (2, "src/math.rs", 1, 3) in snippets(rust)


def test_gather_reads_the_changed_lines_from_the_diff() -> None:
    diff = (
        "diff --git a/app/main.py b/app/main.py\n--- a/app/main.py\n+++ b/app/main.py\n"
        "@@ -5,2 +5,2 @@ def run(x):\n     s = Store()\n-    y = helper(x, 1)\n+    y = helper(x, 2)\n"
    )
    related = gather(split_diff(diff), DictReader(PY), lambda p: True)
    assert (2, "app/util.py", 1, 2) in snippets(related)


def test_an_ambiguous_name_found_only_by_name_is_left_out() -> None:
    files = {f"pkg{i}/m.py": "def run():\n    return 1\n" for i in range(5)}
    files["main.py"] = "def f():\n    return run()\n"
    related = resolve([Change("main.py", frozenset({2}))], DictReader(files), lambda p: True)
    assert not [s for s in related.snippets if s.rank == 2]
