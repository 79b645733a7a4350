"""How names and modules map to files: the repository files an import names (per language family), which
files a path is a test of, and the one-pass text patterns that find where names may be defined or called
(the outline confirms). Pure."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Sequence

from .languages import spec_for

TEST_PATH = re.compile(
    r"(^|/)(tests?|spec|__tests__|testing)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(test|spec)\.[a-z]+$|Tests?\.java$"
)


def family_of(path: str) -> str:
    spec = spec_for(path)
    return spec.family if spec is not None else ""


def stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.split(".", 1)[0]


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def distance(here: str, path: str) -> int:
    """Directory steps between a file's directory and another file."""
    a = [p for p in here.split("/") if p]
    b = [p for p in posixpath.dirname(path).split("/") if p]
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return len(a) + len(b) - 2 * common


def local_module(family: str, module: str) -> bool:
    """Whether an import names code of this repository as far as its text says (a relative path, crate::)."""
    return module.startswith((".", "crate", "super", "self")) if family in ("js", "rust") else True


def module_files(family: str, importer: str, module: str, level: int, known: set[str]) -> list[str]:
    """The repository files an import's module names (none for a third-party module)."""
    here = posixpath.dirname(importer)
    if family == "python":
        if level:
            base = here
            for _ in range(level - 1):
                base = posixpath.dirname(base)
            rel = posixpath.join(base, *module.split(".")) if module else base
            return [p for p in (rel + ".py", rel + "/__init__.py") if p in known]
        tail = "/".join(module.split("."))
        ends = (tail + ".py", tail + "/__init__.py")
        return sorted(
            (p for p in known if p.endswith(ends) and (p in ends or p[: -len(_end(p, ends))].endswith("/"))), key=len
        )[:2]
    if family == "js":
        if not module.startswith("."):
            return []
        rel = posixpath.normpath(posixpath.join(here, module))
        stem = re.sub(r"\.(m?js|cjs|jsx)$", "", rel)
        for candidate in (
            rel,
            *(stem + e for e in (".ts", ".tsx", ".js", ".jsx", ".mjs", ".mts", ".d.ts")),
            *(rel + "/index" + e for e in (".ts", ".tsx", ".js", ".jsx")),
        ):
            if candidate in known:
                return [candidate]
        return []
    if family == "go":
        dirs = {posixpath.dirname(p) for p in known if p.endswith(".go")}
        best = [d for d in dirs if d and (module == d or module.endswith("/" + d))]
        if not best:
            return []
        top = max(best, key=len)
        return sorted(
            p for p in known if posixpath.dirname(p) == top and p.endswith(".go") and not p.endswith("_test.go")
        )
    if family == "java":
        tail = module.replace(".", "/")
        return sorted(p for p in known if p.endswith(".java") and posixpath.dirname(p).endswith(tail))[:20]
    if family == "rust":
        parts = [p for p in module.split("::") if p not in ("crate", "self", "super")]
        if not parts:
            return []
        tail = "/".join(parts)
        ends = (tail + ".rs", tail + "/mod.rs")
        return sorted(p for p in known if p.endswith(ends))[:2]
    return []


def _end(path: str, ends: tuple[str, ...]) -> str:
    return next(e for e in ends if path.endswith(e))


# Per family, lines that may define a name (group `n` or `m`); the outline confirms. One pass per file.
_DEF_PREFIX = {
    "python": (
        r"(?:^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+(?P<n>{names})\b"
        r"|^(?P<m>{names})[ \t]*(?::[^=\n]*)?=)"
    ),
    "js": (
        r"(?:\b(?:function\*?|class|interface|type|enum|const|let|var)[ \t]+(?P<n>{names})\b"
        r"|^[ \t]*(?:(?:static|async|get|set|public|private|protected|readonly)[ \t]+)*(?P<m>{names})[ \t]*[(<=:])"
    ),
    "go": (
        r"(?:\b(?:func(?:[ \t]*\([^)]*\))?|type|const|var)[ \t]+(?P<n>{names})\b"
        r"|^[ \t]+(?P<m>{names})[ \t]+(?:=|[\w.*\[\]]+[ \t]*=|[\w.*\[\]]+[ \t]*$))"
    ),
    "java": r"(?:\b(?:class|interface|enum|record)[ \t]+(?P<n>{names})\b|[\w>\]][ \t]+(?P<m>{names})[ \t]*\()",
    "rust": (
        r"(?:\b(?:fn|struct|enum|trait|type|const|static|mod|macro_rules!)[ \t]+(?P<n>{names})\b"
        r"|\bimpl(?:<[^>]*>)?[ \t]+(?P<m>{names})\b)"
    ),
}


def definition_names(family: str, names: Sequence[str]) -> Callable[[str], Iterator[str]]:
    """The names a text may define (the outline confirms): one pass over each file for all the names."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    template = _DEF_PREFIX.get(family, r"\b(?P<n>{names})\b(?P<m>)")
    pattern = re.compile(template.format(names=alternatives), re.MULTILINE)

    def found(text: str) -> Iterator[str]:
        for match in pattern.finditer(text):
            name = match.group("n") or match.group("m")
            if name:
                yield name

    return found


def call_names(names: Sequence[str]) -> Callable[[str], Iterator[str]]:
    """The names a text may call (`f(`, `new K(`, `T{`, `m!(`): one pass over each file for all the names."""
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"\b(?P<n>{alternatives})[ \t]*(?:!|::<[^>]*>)?[ \t]*[({{]")

    def found(text: str) -> Iterator[str]:
        for match in pattern.finditer(text):
            yield match.group("n")

    return found
