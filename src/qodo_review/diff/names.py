"""File names in diff headers: git's C-quoting, the a/ b/ prefixes, and the ambiguous
`diff --git a/x y b/x y` and `Binary files` lines."""

from __future__ import annotations

DEV_NULL = "/dev/null"
_MAX_SPLITS = 16  # candidate splits tried for an ambiguous `a/x y b/x y` or `Binary files` line
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_C_UNESCAPES = {chr(code): letter for letter, code in _C_ESCAPES.items()}


def _unquote_at(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the git C-quoted string starting at text[pos] == '"'; return (value, index after it).

    git quotes a name with `"`, `\\`, control characters or (core.quotepath) non-ASCII bytes, the
    bytes as 3-digit octal escapes (`"a/\\303\\244.txt"`): they are collected and decoded as UTF-8.
    """
    out = bytearray()
    i, n = pos + 1, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            return out.decode("utf-8", "replace"), i + 1
        if char == "\\":
            octal = text[i + 1 : i + 4]
            if len(octal) == 3 and all(c in "01234567" for c in octal) and octal[0] in "0123":
                out.append(int(octal, 8))
                i += 4
                continue
            if text[i + 1 : i + 2] not in _C_ESCAPES:
                return None
            out.append(_C_ESCAPES[text[i + 1]])
            i += 2
            continue
        out += char.encode("utf-8", "surrogatepass")
        i += 1
    return None


def _name_field(field: str) -> str:
    """A path as written after `--- `, `rename from ` etc.: unquoted, a trailing tab+timestamp cut."""
    if field.startswith('"'):
        quoted = _unquote_at(field, 0)
        if quoted is not None:
            return quoted[0]
    return field.split("\t", 1)[0]


def _header_name(name: str, prefix: str, prefixed: bool | None) -> str:
    """A `---`/`+++` name without its prefix, as the `diff --git` line showed it is prefixed."""
    if prefixed is False:
        return name
    if prefixed:
        return _strip_first(name) or name
    return _strip_prefix(name, prefix)


def _strip_prefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name


def _strip_first(name: str) -> str | None:
    """Drop the first path component (git's -p1), or None if there is none to drop."""
    _, sep, rest = name.partition("/")
    return rest if sep and rest else None


def _git_line_names(rest: str) -> tuple[str, str, bool | None] | None:
    """(old, new, prefixed) from the text after `diff --git `, prefixes stripped; None if unparseable."""
    pair = _split_git_names(rest)
    if pair is None:
        return None
    old, new = pair
    if old == new:  # --no-prefix: the two names of an unrenamed file are identical
        return old, new, False
    old_rest, new_rest = _strip_first(old), _strip_first(new)
    if old_rest is not None and old_rest == new_rest:  # a/x b/x, or custom src:// dst:// prefixes
        return old_rest, new_rest, True
    return _strip_prefix(old, "a/"), _strip_prefix(new, "b/"), None  # a rename: names differ


def _split_git_names(rest: str) -> tuple[str, str] | None:
    """Split `a/x b/y` into its two names (still prefixed); None if no split can be trusted."""
    if rest.startswith('"'):
        first = _unquote_at(rest, 0)
        if first is None or rest[first[1] : first[1] + 1] != " ":
            return None
        tail = rest[first[1] + 1 :]
        second = _unquote_at(tail, 0) if tail.startswith('"') else (tail, len(tail))
        return (first[0], second[0]) if second is not None else None
    if rest.endswith('"'):  # only the second name is quoted
        space = rest.find(' "')
        for _ in range(_MAX_SPLITS):
            if space == -1:
                break
            second = _unquote_at(rest, space + 1)
            if second is not None and second[1] == len(rest):
                return rest[:space], second[0]
            space = rest.find(' "', space + 1)
    # Unquoted names may contain spaces. Prefixes of equal length (a/ b/, i/ w/, src:// dst://) put
    # the split in the middle, so try the spaces nearest it first, and only a few: a hostile line
    # full of spaces must not cost quadratic time.
    middle = len(rest) // 2
    spaces = sorted((i for i, char in enumerate(rest) if char == " "), key=lambda i: abs(i - middle))
    for i in spaces[:_MAX_SPLITS]:
        old, new = rest[:i], rest[i + 1 :]
        old_rest = _strip_first(old)
        if old == new or (old_rest is not None and old_rest == _strip_first(new)):
            return old, new
    found = rest.find(" b/")  # a rename with spaces: its rename lines will name it anyway
    return (rest[:found], rest[found + 1 :]) if found != -1 else None


def _binary_names(line: str) -> tuple[str, str] | None:
    """(old, new) from `Binary files X and Y differ` (git, diff -r) or `Binary file X has changed` (hg)."""
    if line.startswith("Binary file ") and line.endswith(" has changed"):
        name = _name_field(line[len("Binary file ") : -len(" has changed")])
        return name, name
    if not (line.startswith("Binary files ") and line.endswith(" differ")):
        return None
    inner = line[len("Binary files ") : -len(" differ")]
    splits = [i for i in range(len(inner)) if inner.startswith(" and ", i)]
    if not splits:
        return None
    best = splits[0]
    for i in splits[:_MAX_SPLITS]:  # with several " and ", prefer the split whose names agree
        old, new = inner[:i], inner[i + 5 :]
        if DEV_NULL in (old, new) or _strip_first(old) == _strip_first(new):
            best = i
            break
    return _name_field(inner[:best]), _name_field(inner[best + 5 :])


def _quote(name: str) -> str:
    """git's C-quoting for names with quotes, backslashes or control characters (non-ASCII kept)."""
    if not any(char in _C_UNESCAPES or ord(char) < 0x20 or ord(char) == 0x7F for char in name):
        return name
    body = "".join(
        "\\" + _C_UNESCAPES[char]
        if char in _C_UNESCAPES
        else f"\\{ord(char):03o}"
        if ord(char) < 0x20 or ord(char) == 0x7F
        else char
        for char in name
    )
    return f'"{body}"'
