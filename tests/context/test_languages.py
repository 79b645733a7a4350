"""languages.outline per language: definitions, calls, imports, names per line; a file that does not parse or
has no grammar gives None; the grammars are compiled wheels (nothing is downloaded)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from qodo_review.context.blocks import enclosing_block
from qodo_review.context.languages import SPECS
from qodo_review.context.outline import Import, outline

CASES = [
    (
        "a/b.py",
        "import os\nfrom .m import c as d\nK = 3\n\n@dec\nclass A:\n    def f(self, x):\n        return d(x).h(K)\n",
        {("K", "constant"), ("A", "class"), ("f", "function")},
        {(8, "d"), (8, "h")},
        [Import("os", "os"), Import("d", "m", "c", 1)],
    ),
    (
        "x.ts",
        'import {a, b as c} from "./x";\nexport const k = (q: T) => a(q);\nclass C { m() { this.n(); } }\n'
        "interface I {}\n",
        {("k", "function"), ("C", "class"), ("m", "function"), ("I", "type")},
        {(2, "a"), (3, "n")},
        [Import("c", "./x", "b"), Import("a", "./x", "a")],
    ),
    (
        "x.go",
        'package a\nimport (\n "fmt"\n x "github.com/a/b"\n)\nconst K = 1\ntype T struct{}\n'
        "func (t *T) M(a int) int { return fmt.Println(a) }\nfunc F() { x.G() }\n",
        {("K", "constant"), ("T", "type"), ("M", "function"), ("F", "function")},
        {(8, "Println"), (9, "G")},
        [Import("fmt", "fmt"), Import("x", "github.com/a/b")],
    ),
    (
        "x.java",
        "import a.b.C;\nclass A {\n  void m() { C.f(); new D(); }\n}\n",
        {("A", "class"), ("m", "function")},
        {(3, "f"), (3, "D")},
        [Import("C", "a.b", "C")],
    ),
    (
        "x.rs",
        "use crate::a::{C, d};\nconst K: u8 = 1;\nstruct S;\nimpl S {\n    fn m(&self) { d(); }\n}\n",
        {("K", "constant"), ("S", "type"), ("S", "class"), ("m", "function")},
        {(5, "d")},
        [Import("C", "crate::a", "C"), Import("d", "crate::a", "d")],
    ),
]


@pytest.mark.parametrize(("path", "text", "definitions", "calls", "imports"), CASES, ids=[c[0] for c in CASES])
def test_outline(
    path: str, text: str, definitions: set[tuple[str, str]], calls: set[tuple[int, str]], imports: list[Import]
) -> None:
    found = outline(path, text, range(1, 20))
    assert found is not None
    assert {(d.name, d.kind) for d in found.definitions} == definitions
    assert calls <= set(found.calls)
    assert sorted(found.imports, key=repr) == sorted(imports, key=repr)


def test_a_method_knows_its_class_and_the_class_its_header() -> None:
    text = "class A(Base):\n    '''Doc.'''\n\n    def f(self):\n        return 1\n"
    found = outline("a.py", text)
    assert found is not None
    a, f = found.definitions
    assert (a.start, a.body, a.end) == (1, 2, 5) and f.parent == 0
    assert found.definitions[found.innermost(5)].name == "f"


def test_names_only_for_the_lines_asked() -> None:
    found = outline("a.py", "x = alpha()\ny = beta()\n", [2])
    assert found is not None and dict(found.names) == {2: frozenset({"y", "beta"})}


def test_no_grammar_or_no_clean_parse_is_none() -> None:
    assert outline("a.rb", "def f\nend\n") is None
    assert outline("a.py", "def f(:\n  pass\n") is None
    assert outline("a.py", "def f(:\n  pass\n", strict=False) is not None  # searched files give what parsed


@pytest.mark.parametrize("module", sorted({spec.module for spec in SPECS.values()}))
def test_grammars_ship_compiled_in_their_wheels(module: str) -> None:
    """Nothing is fetched at run time: each grammar is a shared library inside its installed package."""
    package = importlib.import_module(module)
    assert package.__file__ is not None
    assert any(p.suffix in (".so", ".pyd") for p in Path(package.__file__).parent.iterdir())


def test_enclosing_block_by_indentation() -> None:
    ruby = "class A\n  def f(x)\n    y = 1\n  end\n\n  def g\n    1\n  end\nend\n".splitlines()
    assert enclosing_block(ruby, 3) == (2, 4)
    assert enclosing_block(ruby, 7) == (6, 8)
    c = "int f(int a) {\n  if (a) {\n    return 1;\n  }\n  return 2;\n}\n".splitlines()
    assert enclosing_block(c, 5) == (1, 6)
    assert enclosing_block(["x = 1"], 1) is None
