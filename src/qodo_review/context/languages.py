"""The languages related context understands: per language, its tree-sitter grammar (a compiled wheel, loaded
on first use by outline.py, never downloaded) and what its node types mean (define, call, name, import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One language: its grammar module and what its node types mean."""

    name: str
    family: str  # files of one family resolve each other's names (JavaScript and TypeScript are one)
    module: str  # the grammar wheel's module
    function: str  # its function returning the language pointer
    definitions: Mapping[str, str]  # node type -> kind: function, class, type, constant
    calls: Mapping[str, tuple[str, ...]]  # call node type -> the fields naming the callee, in order
    identifiers: frozenset[str]  # leaf node types that name something
    imports: frozenset[str]  # import statement node types
    containers: frozenset[str] = frozenset()  # definition types whose header is shown with a changed member
    name_fields: tuple[str, ...] = ("name",)


_PY = Spec(
    "python",
    "python",
    "tree_sitter_python",
    "language",
    {"function_definition": "function", "class_definition": "class"},
    {"call": ("function",)},
    frozenset({"identifier"}),
    frozenset({"import_statement", "import_from_statement"}),
    frozenset({"class_definition"}),
)
_JS_DEFS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "method_definition": "function",
    "interface_declaration": "type",
    "type_alias_declaration": "type",
    "enum_declaration": "type",
}
_JS_CALLS = {"call_expression": ("function",), "new_expression": ("constructor",)}
_JS_IDS = frozenset({"identifier", "property_identifier", "type_identifier", "shorthand_property_identifier"})
_JS_CONTAINERS = frozenset({"class_declaration", "abstract_class_declaration"})
_JS = Spec(
    "javascript",
    "js",
    "tree_sitter_javascript",
    "language",
    _JS_DEFS,
    _JS_CALLS,
    _JS_IDS,
    frozenset({"import_statement"}),
    _JS_CONTAINERS,
)
_TS = Spec(
    "typescript",
    "js",
    "tree_sitter_typescript",
    "language_typescript",
    _JS_DEFS,
    _JS_CALLS,
    _JS_IDS,
    frozenset({"import_statement"}),
    _JS_CONTAINERS,
)
_TSX = Spec(
    "tsx",
    "js",
    "tree_sitter_typescript",
    "language_tsx",
    _JS_DEFS,
    _JS_CALLS,
    _JS_IDS,
    frozenset({"import_statement"}),
    _JS_CONTAINERS,
)
_GO = Spec(
    "go",
    "go",
    "tree_sitter_go",
    "language",
    {"function_declaration": "function", "method_declaration": "function", "type_spec": "type"},
    {"call_expression": ("function",), "composite_literal": ("type",)},
    frozenset({"identifier", "field_identifier", "type_identifier", "package_identifier"}),
    frozenset({"import_spec"}),
)
_JAVA = Spec(
    "java",
    "java",
    "tree_sitter_java",
    "language",
    {
        "class_declaration": "class",
        "interface_declaration": "class",
        "enum_declaration": "class",
        "record_declaration": "class",
        "method_declaration": "function",
        "constructor_declaration": "function",
    },
    {"method_invocation": ("name",), "object_creation_expression": ("type",)},
    frozenset({"identifier", "type_identifier"}),
    frozenset({"import_declaration"}),
    frozenset({"class_declaration", "interface_declaration", "enum_declaration", "record_declaration"}),
)
_RUST = Spec(
    "rust",
    "rust",
    "tree_sitter_rust",
    "language",
    {
        "function_item": "function",
        "struct_item": "type",
        "enum_item": "type",
        "trait_item": "class",
        "type_item": "type",
        "const_item": "constant",
        "static_item": "constant",
        "macro_definition": "function",
        "impl_item": "class",
    },
    {"call_expression": ("function",), "macro_invocation": ("macro",), "struct_expression": ("name",)},
    frozenset({"identifier", "type_identifier", "field_identifier"}),
    frozenset({"use_declaration"}),
    frozenset({"impl_item", "trait_item"}),
    name_fields=("name", "type"),
)

SPECS: dict[str, Spec] = {
    ".py": _PY,
    ".pyi": _PY,
    ".js": _JS,
    ".jsx": _JS,
    ".mjs": _JS,
    ".cjs": _JS,
    ".ts": _TS,
    ".mts": _TS,
    ".cts": _TS,
    ".tsx": _TSX,
    ".go": _GO,
    ".java": _JAVA,
    ".rs": _RUST,
}


def spec_for(path: str) -> Spec | None:
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return SPECS.get(name[dot:].lower()) if dot > 0 else None
