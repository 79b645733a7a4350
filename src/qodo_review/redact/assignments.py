"""Keyword assignments (`password = "..."`, `api_key: ...`): the pattern, which keywords name a secret and which
metadata about it, and the literal the value must be."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator
from operator import itemgetter

from ahocorasick_rs import BytesAhoCorasick

from .rules import RULES
from .values import _REFERENCE, MIN_VALUE, NOT_FIRST, _password_value, _secret_value, _token_value

# Keyword assignments: `password = "..."`, `api_key: ...`, `"client_secret": "..."`, `SECRET=...`, `:pwd =>`
# The keyword ends an identifier; tails that name metadata about the secret (token_url, secret_name,
# password_field...) do not hold the secret itself.
_KEYWORD = (
    r"(?i:(?P<kw>passw(?:or)?d|passphrase|(?<![a-z])pass(?![a-z])|(?<![a-z])pwd(?![a-z])|secret"
    r"|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|signing[_.-]?key|encryption[_.-]?key"
    r"|preshared[_.-]?key|master[_.-]?key|auth[_.-]?key|license[_.-]?key|credentials?"
    r"|(?<![a-z])key(?![a-z])|(?<![a-z])pat(?![a-z]))(?P<tail>[A-Za-z0-9_.-]{0,40}+))"
)
_ASSIGN = r"[\"'`\]]{0,2}[ \t]{0,20}(?:=>|:=|::=|\?=|\|\|=|===|!==|==|!=|=|:|,|->)[ \t]{0,20}"
# A value: a YAML tag (`!!binary`) and a string prefix (b"", @"") are skipped; quotes may be escaped (\").
_VALUE = (
    r"(?:![A-Za-z!]{1,20}[ \t]{1,5})?(?:[brfuBRFUL@]{1,2}(?=[\"']))?\\{0,2}"
    # a quoted string followed by `: value` is the next key (`"pass","complete":true`), not a value;
    # a colon ending the line (`if password == '...':`) still leaves it a value
    r"(?:\"(?P<dq>[^\"\n]{1,512})\"(?![ \t]{0,5}:[ \t]{0,5}\S)|'(?P<sq>[^'\n]{1,512})'"
    r"(?![ \t]{0,5}:[ \t]{0,5}\S)"
    r"|`(?P<bq>[^`\n]{1,512})`"
    # a bare word ending in a colon is a YAML key (`token: handler:`), never a value
    r"|(?P<bare>[^\s\"'`,;#<>(){}\[\]][^\s\"'`,;]{0,511}+)(?![^\s\"'`,;])(?<!:))"
)
_KEYWORD_ASSIGNMENT = re.compile(_KEYWORD + _ASSIGN + _VALUE)
_XML_SETTING = re.compile(
    r"(?i:key)=[\"'][^\"'\n]{0,60}?"
    + _KEYWORD
    + r"[^\"'\n]{0,60}[\"'][ \t]{1,10}(?i:value)=[\"'](?P<dq>[^\"'\n]{1,512})[\"']"
)
_ASSIGNMENT_KEYWORDS = ("pass", "pwd", "secret", "token", "key", "credential", "_pat", "pat ", "pat=", "pat:")
# Where an alternative of _KEYWORD can start (none is a prefix of another: one word per place).
_START_WORDS = (
    "pass|pwd|secret|token|api|access|private|signing|encryption|preshared|master|auth|license|credential|key|pat"
)
_ASSIGNMENT_START = re.compile(_START_WORDS)
_STARTS = BytesAhoCorasick([w.encode() for w in _START_WORDS.split("|")])  # the same, in one pass
_METADATA_TAILS = (
    "id",
    "ids",
    "name",
    "names",
    "file",
    "path",
    "url",
    "uri",
    "type",
    "length",
    "len",
    "count",
    "size",
    "ttl",
    "timeout",
    "expiry",
    "expires",
    "expiration",
    "field",
    "label",
    "prompt",
    "header",
    "regex",
    "pattern",
    "format",
    "policy",
    "endpoint",
    "env",
    "var",
    "dir",
    "prefix",
    "mode",
    "method",
    "hash",
    "hint",
    "min",
    "max",
    "provider",
    "store",
    "manager",
    "class",
    "ref",
    "version",
    "source",
    "arn",
)
_ASSIGNMENT_LABELS = {
    "password": "hard-coded password",
    "token": "hard-coded token",
    "api-key": "hard-coded API key",
    "secret": "hard-coded secret",
}
LABELS: dict[str, str] = {
    **{r.kind: r.label for r in reversed(RULES)},
    **_ASSIGNMENT_LABELS,
    "private-key": "private key",
    "run-secret": "credential of this workflow run",
    "secret-file": "secret file",
    "dense": "secret in text too dense with secret-like values to scan (withheld whole)",
}


@functools.lru_cache(maxsize=256)
def _assignment_kind(keyword: str) -> tuple[str, Callable[[str], bool]]:
    """The kind a keyword names, and how sure a value must look: vaguer names ask for more randomness."""
    k = keyword.lower()
    if k.startswith("pass") or k == "pwd":
        return "password", _password_value
    if k in ("key", "pat"):
        return ("api-key" if k == "key" else "token"), _token_value
    if k == "token":
        return "token", _secret_value
    return ("api-key" if k.endswith("key") else "secret"), _secret_value


def _assignment_hits(text: str, lowered: str) -> Iterator[tuple[int, int, str]]:
    """The assignments' secrets in a text of one line or of many joined by newlines: no match crosses one
    (tests/security/test_redact_batch.py checks that the patterns cannot match a newline)."""
    line_start = line_stop = -1
    ends_open = False
    for m in _assignment_matches(text, lowered):
        name = m.lastgroup or "bare"  # the value alternatives are the pattern's last groups
        quoted = m.group(name).rstrip("\\")  # `\"value\"` inside an escaped string
        # Every check starts with _plain_value, and the value is a prefix of `quoted`: most matches in code
        # (`token = t`) fail here, before the costlier steps below.
        if len(quoted) < MIN_VALUE or quoted[0] in NOT_FIRST:
            continue
        if m.group("tail").lower().rstrip("_.-").endswith(_METADATA_TAILS):
            continue
        start = m.start(name)
        if name == "bare":
            if start > line_stop:  # once per line: per keyword it would copy the line, quadratic on a long one
                line_start = text.rfind("\n", 0, start) + 1
                found = text.find("\n", start)
                line_stop = len(text) if found < 0 else found
                ends_open = text[line_start:line_stop].rstrip().endswith((",", "{", ";"))
            value = _bare_literal(text, line_start, m, quoted, ends_open)
        else:
            value = quoted
        kind, check = _assignment_kind(m.group("kw"))
        if value and check(value):
            yield start, start + len(value), kind


_KEY_AT_LINE_START = re.compile(r"[ \t]{0,80}(?:export[ \t]{1,5}|set[ \t]{1,5}|-[ \t]{1,5}|#[ \t]{0,5})?[\w.-]{0,80}")
_QUERY_KEY = re.compile(r"[?&][\w.-]{0,80}")
_BRACKETS = frozenset("()[]{}")
_OPERATORS = frozenset("<>|&")
_QUERY_REACH = 81  # the longest _QUERY_KEY match
_START_REACH = 80 + 6 + 5 + 80  # the longest _KEY_AT_LINE_START match


def _bare_literal(text: str, line_start: int, m: re.Match[str], value: str, ends_open: bool) -> str | None:
    """The literal an unquoted value holds, or None when it is code. In .env and YAML lines
    (`DB_PASSWORD=hunter2&x`, `  password: s3cr3t`) the value runs to the next blank, so no tail of it leaks;
    in a URL query it ends at `&`; elsewhere (`password = pw`, `f(token=t)`) a call, a variable or an
    expression is code, not a secret. The match's line starts at line_start in text."""
    # Both prefix patterns are bounded, so only the last _QUERY_REACH characters before the keyword (or the
    # first _START_REACH of the line) can matter: never copy or search the whole prefix of a long line.
    kw = m.start("kw")
    near = max(line_start, kw - _QUERY_REACH)
    query = max(text.rfind("?", near, kw), text.rfind("&", near, kw))  # -1: none, and no query key
    if query >= 0 and _QUERY_KEY.fullmatch(text, query, kw):
        return re.split("[&#]", value, maxsplit=1)[0]
    between = text[m.end("tail") : m.start("bare")]
    at_start = kw - line_start <= _START_REACH and _KEY_AT_LINE_START.fullmatch(text, line_start, kw) is not None
    yaml = between.rstrip(" \t") == ":" and not ends_open
    if m.group("kw").isupper() or (at_start and (between == "=" or yaml)):
        return value
    value = value.rstrip(")]}")  # the end of a call or an object: f(password=x)
    if not _BRACKETS.isdisjoint(value) or _is_reference(value):
        return None
    # `password = a&b` starting a line is an ini literal; inside code, `&|<>` make it an expression.
    return value if at_start or _OPERATORS.isdisjoint(value) else None


_VALUE_STOP = re.compile(r"[\s\"'`,;]")
_MAX_ASSIGNMENT = 700  # keyword 20 + tail 40 + assignment 45 + value prefix 30 + value 512, rounded up
# _VALUE_STOP's characters as b" ", every other byte as b"a" (a non-ASCII blank too: a run looks longer, never
# shorter, so the check below errs on the side of the skipping loop).
_STOP_TABLE = bytes(32 if chr(b) in " \t\n\r\f\v\x1c\x1d\x1e\x1f\"'`,;" else 97 for b in range(256))
_STOP_FREE = b"a" * (_MAX_ASSIGNMENT + 1)
_ONE_PASS_MAX = 1 << 18  # characters: past this the list of every keyword start would cost much memory


def _assignment_matches(text: str, lowered: str) -> Iterator[re.Match[str]]:
    """The assignment pattern, tried only where a keyword starts: scanning every position of every line
    with it is what makes a naive keyword rule slow."""
    if len(text) <= _MAX_ASSIGNMENT:
        # Short (one line, say): no skip can apply, and a search for the next start with a regex costs less
        # than a pass's fixed cost.
        pos = 0
        while (hit := _ASSIGNMENT_START.search(lowered, pos)) is not None:
            if (m := _KEYWORD_ASSIGNMENT.match(text, hit.start())) is None:
                pos = hit.start() + 1
            else:
                yield m
                pos = m.end()
    elif len(text) > _ONE_PASS_MAX or _STOP_FREE in text.encode("ascii", "replace").translate(_STOP_TABLE):
        yield from _skipping_matches(text, lowered)
    else:
        # Many lines: every place a keyword starts in one pass ("replace": one byte per character, same
        # offsets). No run of _MAX_ASSIGNMENT characters lacks a blank, quote, comma or semicolon, so the
        # skip never applies: the matches at each place a keyword starts, past the last match. The pattern
        # is tried at every place, in C (most fail: `token)`), and a match inside the last one is dropped:
        # the same matches as not trying there, without a Python step per place.
        starts = sorted(map(itemgetter(1), _STARTS.find_matches_as_indexes(lowered.encode("ascii", "replace"), True)))
        pos = 0
        for m in filter(None, map(_KEYWORD_ASSIGNMENT.match, itertools.repeat(text), starts)):
            if m.start() >= pos:
                yield m
                pos = m.end()
    if "value=" in lowered:
        yield from _XML_SETTING.finditer(text)


def _skipping_matches(text: str, lowered: str) -> Iterator[re.Match[str]]:
    """The same, searching for each next start (no list of them: a megabyte line can hold 300,000), and
    skipping the places no match can start from."""
    pos = stop = 0
    while (hit := _ASSIGNMENT_START.search(lowered, pos)) is not None:
        # A match ends at most _MAX_ASSIGNMENT past its start, at a blank, quote, comma or semicolon (or the
        # line's end). Where the next one is farther (`password=password=...` for a megabyte), no keyword
        # before it can start a match: skip them, so the pattern is tried on each character a bounded
        # number of times.
        if stop <= hit.start():
            found = _VALUE_STOP.search(text, hit.start())
            stop = found.start() if found else len(text)
        if stop - hit.start() > _MAX_ASSIGNMENT:
            pos = stop - _MAX_ASSIGNMENT
            continue
        m = _KEYWORD_ASSIGNMENT.match(text, hit.start())
        if m is None:
            pos = hit.start() + 1
            continue
        yield m
        pos = m.end()


def _is_reference(value: str) -> bool:
    return _REFERENCE.fullmatch(value) is not None and ("." in value or not any(map(str.isdigit, value)))
