"""A file's text as the facts the resolver ranks by: its definitions (nested), call sites, imports and the names
used on given lines, from tree-sitter queries. Pure: text in, an Outline out (or None when the file has no
grammar or does not parse cleanly)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .languages import Spec, spec_for

# A file larger than this is not parsed (generated tables, bundles): its enclosing blocks come from the
# indentation heuristic instead. Real source files are far smaller; parsing stays well under a few ms.
MAX_PARSE_BYTES = 1_000_000


@dataclass(frozen=True)
class Definition:
    """A named definition; lines are 1-based and inclusive. ``body`` is the first line of its body (a class's
    header is start..body-1), ``parent`` the index of the definition it is nested in (-1: top level)."""

    name: str
    kind: str
    start: int
    end: int
    body: int
    parent: int = -1


@dataclass(frozen=True)
class Import:
    """One imported name: ``local`` as the file uses it, from ``module`` (as written: "a.b", "./x", "fmt"),
    ``name`` the imported symbol ("" when the module itself is bound to ``local``)."""

    local: str
    module: str
    name: str = ""
    level: int = 0  # Python's relative-import dots


@dataclass(frozen=True)
class Outline:
    language: str
    family: str
    definitions: tuple[Definition, ...]
    calls: tuple[tuple[int, str], ...]  # (line, the called name)
    names: Mapping[int, frozenset[str]]  # line -> names used on it (only the lines asked for)
    imports: tuple[Import, ...]

    def innermost(self, line: int) -> int:
        """Index of the innermost definition holding the line, or -1."""
        best = -1
        for index, d in enumerate(self.definitions):
            if d.start <= line <= d.end and (best < 0 or d.start >= self.definitions[best].start):
                best = index
        return best


_LOCK = threading.Lock()
_PARSERS: dict[tuple[str, str], Any] = {}


def _language(spec: Spec) -> Any:
    _parser(spec)
    return _PARSERS[(spec.module, spec.function)]


def _parser(spec: Spec) -> Any:
    """A tree-sitter parser for the language, built on first use (the grammar's import is the cost)."""
    key = (spec.module, spec.function)
    with _LOCK:
        if key not in _PARSERS:
            import tree_sitter

            grammar = importlib.import_module(spec.module)
            _PARSERS[key] = tree_sitter.Language(getattr(grammar, spec.function)())
    # A Parser is not safe to share between threads; one per call costs microseconds.
    import tree_sitter

    return tree_sitter.Parser(_PARSERS[key])


def outline(path: str, text: str, lines: Iterable[int] = (), *, strict: bool = True) -> Outline | None:
    """The file's definitions, calls and imports, and the names used on ``lines``. None: no grammar for the
    file, too large, or (strict) the parse has errors: a changed file then falls back to the indentation
    heuristic; a file searched for definitions (not strict) gives what parsed."""
    spec = spec_for(path)
    data = text.encode("utf-8", "replace")
    if spec is None or len(data) > MAX_PARSE_BYTES:
        return None
    try:
        tree = _parser(spec).parse(data)
    except (ImportError, AttributeError, ValueError, OSError):  # a grammar that cannot load: no outline
        return None
    root = tree.root_node
    if strict and root.has_error:
        return None
    return _walk(spec, root, frozenset(lines))


def _name_of(spec: Spec, node: Any) -> str:
    for name_field in spec.name_fields:
        child = node.child_by_field_name(name_field)
        if child is not None:
            text: str = child.text.decode("utf-8", "replace")
            if child.type in ("generic_type", "scoped_type_identifier"):
                first = child.child(0) if child.type == "generic_type" else child.child_by_field_name("name")
                text = first.text.decode("utf-8", "replace") if first is not None else text
            return text
    return ""


def _callee(node: Any, fields: tuple[str, ...]) -> str:
    """The last identifier of a call's callee: f(), a.b.f(), pkg.F(), new K(), Vec::new()."""
    for name_field in fields:
        target = node.child_by_field_name(name_field)
        while target is not None:
            if target.child_count == 0 or target.type in ("identifier", "type_identifier", "field_identifier"):
                return str(target.text.decode("utf-8", "replace"))
            nxt = None
            for sub in ("attribute", "property", "field", "name", "type"):
                nxt = target.child_by_field_name(sub)
                if nxt is not None:
                    break
            target = nxt if nxt is not None else (target.named_children[-1] if target.named_child_count else None)
    return ""


# Top-level constants (and functions bound to a name) per family, as tree-sitter query patterns capturing the name.
_CONSTANTS = {
    "python": ("(module (expression_statement (assignment left: (identifier) @const)))",),
    "js": tuple(
        f"(program {wrap.format(f'({decl} (variable_declarator name: (identifier) @const))')})"
        for decl in ("lexical_declaration", "variable_declaration")
        for wrap in ("{}", "(export_statement {})")
    ),
    "go": (
        "(source_file (const_declaration (const_spec name: (identifier) @const)))",
        "(source_file (var_declaration (var_spec name: (identifier) @const)))",
    ),
}
_QUERIES: dict[str, tuple[Any, Any]] = {}


def _queries(spec: Spec, language: Any) -> tuple[Any, Any]:
    """(the structure query, the names query) of a language, compiled once. A node type a grammar lacks
    (TypeScript's abstract classes in JavaScript) is left out rather than failing the whole query."""
    key = f"{spec.module}.{spec.function}"
    with _LOCK:
        if key not in _QUERIES:
            import tree_sitter

            patterns = [f"({t}) @def" for t in spec.definitions]
            patterns += [f"({t}) @call" for t in spec.calls]
            patterns += [f"({t}) @imp" for t in spec.imports]
            patterns += list(_CONSTANTS.get(spec.family, ()))
            valid = []
            for pattern in patterns:
                try:
                    tree_sitter.Query(language, pattern)
                except (tree_sitter.QueryError, ValueError, NameError, SyntaxError):
                    continue
                valid.append(pattern)
            names = " ".join(f"({t}) @id" for t in sorted(spec.identifiers))
            _QUERIES[key] = (tree_sitter.Query(language, "\n".join(valid)), tree_sitter.Query(language, names))
        return _QUERIES[key]


def _walk(spec: Spec, root: Any, lines: frozenset[int]) -> Outline:
    """The outline from tree-sitter queries (the matching runs in C; a Python walk of every node costs ten
    times as much on a large file)."""
    import tree_sitter

    structure, identifiers = _queries(spec, _language(spec))
    captures = tree_sitter.QueryCursor(structure).captures(root)
    found: list[tuple[int, Definition, int]] = []  # (start byte, definition, end byte)
    for node in captures.get("def", []):
        name = _name_of(spec, node)
        if not name:
            continue
        body = node.child_by_field_name("body")
        start = node.start_point[0] + 1
        outer = node.parent
        if outer is not None and outer.type in ("decorated_definition", "export_statement"):
            start = outer.start_point[0] + 1
        row = node.start_point[0] + 1
        end = node.end_point[0] + 1
        definition = Definition(name, spec.definitions[node.type], start, end, _body(body, row))
        found.append((node.start_byte, definition, node.end_byte))
    for node in captures.get("const", []):
        top = node
        while top.parent is not None and top.parent.parent is not None:
            top = top.parent
        holder = node.parent
        value = None
        if holder is not None:
            value = holder.child_by_field_name("value") or holder.child_by_field_name("right")
        what = "function" if value is not None and "function" in value.type else "constant"
        first, last = top.start_point[0] + 1, top.end_point[0] + 1
        found.append((top.start_byte, Definition(_text(node), what, first, last, first), top.end_byte))
    found.sort(key=lambda item: (item[0], -item[2]))
    definitions: list[Definition] = []
    open_ends: list[tuple[int, int]] = []  # (end byte, index) of the definitions that hold the next one
    for _, d, end_byte in found:
        while open_ends and open_ends[-1][0] < end_byte:
            open_ends.pop()
        parent = open_ends[-1][1] if open_ends else -1
        definitions.append(Definition(d.name, d.kind, d.start, d.end, d.body, parent))
        open_ends.append((end_byte, len(definitions) - 1))
    calls = []
    for node in captures.get("call", []):
        callee = _callee(node, spec.calls[node.type])
        if callee:
            calls.append((node.start_point[0] + 1, callee))
    imports = [imp for node in captures.get("imp", []) for imp in _imports(spec, node)]
    names: dict[int, set[str]] = {}
    for first, last in _runs(lines):
        cursor = tree_sitter.QueryCursor(identifiers)
        cursor.set_point_range((first - 1, 0), (last, 0))
        for node in cursor.captures(root).get("id", []):
            row = node.start_point[0] + 1
            if row in lines:
                names.setdefault(row, set()).add(_text(node))
    return Outline(
        spec.name,
        spec.family,
        tuple(definitions),
        tuple(sorted(calls)),
        {line: frozenset(found_names) for line, found_names in names.items()},
        tuple(imports),
    )


def _body(body: Any, row: int) -> int:
    return int(body.start_point[0]) + 1 if body is not None else row


def _runs(lines: frozenset[int]) -> list[tuple[int, int]]:
    """Consecutive line numbers as (first, last) runs."""
    runs: list[tuple[int, int]] = []
    for line in sorted(lines):
        if runs and line == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], line)
        else:
            runs.append((line, line))
    return runs


def _text(node: Any) -> str:
    return str(node.text.decode("utf-8", "replace")) if node is not None else ""


def _imports(spec: Spec, node: Any) -> list[Import]:
    handler = _IMPORTS.get(spec.family)
    return handler(node) if handler is not None else []


def _python_imports(node: Any) -> list[Import]:
    out: list[Import] = []
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "aliased_import":
                out.append(Import(_text(child.child_by_field_name("alias")), _text(child.child_by_field_name("name"))))
            elif child.type == "dotted_name":
                dotted = _text(child)
                out.append(Import(dotted.split(".")[0], dotted))
        return out
    module_node = node.child_by_field_name("module_name")
    module = _text(module_node)
    level = len(module) - len(module.lstrip("."))
    module = module.lstrip(".")
    for child in node.named_children:
        if child is module_node or (module_node is not None and child.start_byte < module_node.end_byte):
            continue
        if child.type == "aliased_import":
            out.append(
                Import(
                    _text(child.child_by_field_name("alias")), module, _text(child.child_by_field_name("name")), level
                )
            )
        elif child.type == "dotted_name":
            out.append(Import(_text(child), module, _text(child), level))
    return out


def _js_imports(node: Any) -> list[Import]:
    source = _text(node.child_by_field_name("source")).strip("'\"`")
    out: list[Import] = []
    stack = list(node.named_children)
    while stack:
        child = stack.pop()
        if child.type == "import_specifier":
            name = _text(child.child_by_field_name("name"))
            alias = _text(child.child_by_field_name("alias")) or name
            out.append(Import(alias, source, name))
        elif child.type == "namespace_import":
            out.extend(Import(_text(c), source) for c in child.named_children if c.type == "identifier")
        elif child.type == "import_clause":
            for c in child.named_children:
                if c.type == "identifier":  # the default import
                    out.append(Import(_text(c), source, "default"))
                else:
                    stack.append(c)
        elif child.type == "named_imports":
            stack.extend(child.named_children)
    return out or [Import("", source)]


def _go_imports(node: Any) -> list[Import]:
    path = _text(node.child_by_field_name("path")).strip('"`')
    local = _text(node.child_by_field_name("name")) or path.rsplit("/", 1)[-1]
    return [Import(local, path)]


def _java_imports(node: Any) -> list[Import]:
    dotted = next((_text(c) for c in node.named_children if c.type in ("scoped_identifier", "identifier")), "")
    return [Import(dotted.rsplit(".", 1)[-1], dotted.rsplit(".", 1)[0], dotted.rsplit(".", 1)[-1])] if dotted else []


def _rust_imports(node: Any) -> list[Import]:
    text = _text(node.child_by_field_name("argument"))
    base, _, rest = text.partition("::{")
    names = [n.strip() for n in rest.rstrip("}").split(",")] if rest else [text.rsplit("::", 1)[-1]]
    module = base if rest else text.rsplit("::", 1)[0]
    return [Import(n.split(" as ")[-1].strip(), module, n.split(" as ")[0].strip()) for n in names if n and n != "*"]


_IMPORTS: dict[str, Callable[[Any], list[Import]]] = {
    "python": _python_imports,
    "js": _js_imports,
    "go": _go_imports,
    "java": _java_imports,
    "rust": _rust_imports,
}
