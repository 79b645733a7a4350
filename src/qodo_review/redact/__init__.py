"""Secret redaction: credentials in PR text become stable placeholders before anything reaches the model,
and every outgoing text passes here last.

The package: rules.py (the rule table), values.py (the checks a value must pass), assignments.py (keyword
assignments and LABELS), scan.py (prefilter, hits, merge), lines.py (the rules run on the chosen lines),
pem.py (PEM blocks across lines),
files.py (files withheld whole, secret findings), and here the Redactor (run secrets, placeholders, and
the see-through of Markdown escaping).
"""

from __future__ import annotations

import base64
import bisect
import json
import re
import threading
from array import array
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any
from urllib.parse import quote, quote_plus

from .assignments import LABELS
from .files import secret_findings, withheld_reason
from .lines import _rule_hits
from .pem import _pem_hits
from .rules import RULES, Rule
from .scan import DENSE, _Hit, _line_end, _merge, dense_hit

__all__ = [
    "LABELS",
    "PLACEHOLDER_FORMAT",
    "RULES",
    "Redactor",
    "Rule",
    "may_be_escaped",
    "secret_findings",
    "withheld_reason",
]

# Placeholders look like <<SECRET:github-token:3>>: n numbers the distinct values of one Redactor (one run)
# across kinds, from 1, and the same value always gets the same placeholder. A PEM private key spanning lines
# is replaced line by line: every line of the block, BEGIN and END markers included, keeps its indentation,
# quotes and surrounding code, and its key material becomes the block's one placeholder. Text too dense
# with candidates to scan one by one (scan.py's work budget) is withheld whole, every line of it replaced by
# one <<SECRET:dense:n>>. Line counts never change.
PLACEHOLDER_FORMAT = "<<SECRET:{kind}:{n}>>"
_PLACEHOLDER = re.compile(r"<<SECRET:[a-z0-9-]{1,40}:[0-9]{1,9}>>")
_LINE_TEXT = re.compile(r"[^\n]+")
MIN_RUN_SECRET_LENGTH = 8  # shorter run secrets would mask ordinary text everywhere


# --- run secrets ------------------------------------------------------------------------------------------


def _encodings(secret: str) -> set[str]:
    """The forms of a run secret in text: plain, base64 (both alphabets, three alignments), URL, JSON."""
    raw = secret.encode()
    forms = {secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret), quote(secret)}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in set(forms)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode())
        for offset in range(3):
            # Encoded after `offset` other bytes, the first characters mix in the neighbours' bits, and so do
            # the last when the length is not a multiple of 3: keep only the characters the secret fixes.
            encoded = encode(b"\0" * offset + raw).decode().rstrip("=")
            tail = 0 if (offset + len(raw)) % 3 == 0 else 1
            forms.add(encoded[(0, 2, 3)[offset] : len(encoded) - tail])
    # Markdown is escaped before the last pass over it (sanitize.plain puts a backslash before every ASCII
    # punctuation but "@"): a key echoed in an error or by the model reaches that pass as `sk\-proj\-...`.
    forms |= {_MARKDOWN_ESCAPED.sub(r"\\\g<0>", f) for f in forms}
    return {f for f in forms if len(f) >= MIN_RUN_SECRET_LENGTH and "\n" not in f}


_ZWSP = "\u200b"  # sanitize puts one after `@` and closing keywords
_ESCAPING = re.compile(r"\\(?=[!-/:-@\[-`{-~])|\u200b")  # what escaping adds: a backslash before punctuation


def may_be_escaped(text: str) -> bool:
    """Whether escaping may hide a secret in the text (a backslash, a zero-width space): only
    Redactor.redact looks through it; redact_lines reads lines as they are."""
    return "\\" in text or _ZWSP in text


_MARKDOWN_ESCAPED = re.compile(r"[!-/:-?\[-`{-~]")  # the characters sanitize.plain escapes


def _run_secret_lines(secrets: Iterable[str]) -> set[str]:
    """Run secrets to look for; a multi-line one (a PEM key) is looked for line by line."""
    lines = {line.strip() for s in secrets if s for line in s.splitlines()}
    return {line for line in lines if len(line) >= MIN_RUN_SECRET_LENGTH}


# --- the redactor -----------------------------------------------------------------------------------------


class Redactor:
    """Replaces secrets with stable placeholders. One instance per run; safe to share between a few threads.

    run_secrets: the run's own credentials, redacted everywhere in plain, base64 and URL-encoded form.
    allowlist: exact values known to be public test values, left alone (never a run secret).
    """

    def __init__(self, run_secrets: Iterable[str] = (), allowlist: Iterable[str] = ()) -> None:
        secrets = _run_secret_lines(run_secrets)
        # Every form of a secret maps to the secret, so all its forms share one placeholder; longest first,
        # so a secret that contains another is replaced whole.
        forms = {form: s for s in sorted(secrets, key=len) for form in _encodings(s)}
        self._run_forms = sorted(forms.items(), key=lambda item: (-len(item[0]), item[0]))
        self._run_secrets = frozenset(secrets)
        self._allowlist = frozenset(a for a in allowlist if a) - self._run_secrets
        self._lock = threading.Lock()
        self._placeholders: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def redact_data(self, value: Any) -> Any:
        """A JSON-shaped value with every string in it (keys too) redacted, for documents that are serialised
        after: each string keeps its own lines, where a serialised document would hold a whole prompt on one
        line (and an over-dense line is withheld whole, which would break the document)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(k) if isinstance(k, str) else k: self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(v) for v in value]
        return value

    def redact(self, text: str) -> str:
        """The text with every secret replaced by its placeholder; everything around it is kept.

        Escaping cannot hide a secret from it: Markdown backslash escapes (`ghp\\_...`, what sanitize.plain
        makes) and zero-width spaces are looked through, so the last pass over an outgoing text finds what
        it would have found before the text was escaped (the invariant: redaction is never defeated by an
        escaping that ran first)."""
        hits = self._scan(text)
        if may_be_escaped(text):
            hits = _merge(text, hits + self._escaped_hits(text))
        return self._apply(text, hits)

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        """The same for diff line texts, following PEM blocks across lines; returns as many lines."""
        joined = "\n".join(lines)
        if joined.count("\n") != max(len(lines) - 1, 0):  # a "line" holding a newline: keep the count exact
            return [self.redact(line).replace("\n", " ") for line in lines]
        return self._apply_lines(joined, lines, self._scan(joined)) if lines else []

    def allow(self, values: Iterable[str]) -> None:
        """Add known public test values to the allowlist (the base branch's config is read after the run's
        secrets are known). A run secret is never allowlisted."""
        with self._lock:
            self._allowlist = self._allowlist | (frozenset(v for v in values if v) - self._run_secrets)

    def counts(self) -> dict[str, int]:
        """Kind -> number of distinct secrets redacted so far (the privacy manifest)."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def _placeholder(self, kind: str, value: str) -> str:
        with self._lock:
            found = self._placeholders.get(value)
            if found is None:
                found = PLACEHOLDER_FORMAT.format(kind=kind, n=len(self._placeholders) + 1)
                self._placeholders[value] = found
                self._counts[kind] = self._counts.get(kind, 0) + 1
            return found

    def _locate(self, lines: Sequence[str]) -> list[tuple[int, str, str, int]]:
        """(line index, kind, placeholder, occurrence) per secret; a PEM block is one occurrence."""
        starts, offset = [], 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        out = []
        for number, hit in enumerate(self._scan("\n".join(lines))):
            index = _line_index(starts, hit.start)
            occurrence = hit.group if hit.group >= 0 else -1 - number
            out.append((index, hit.kind, self._placeholder(hit.kind, hit.value), occurrence))
        return out

    def _scan(self, text: str) -> list[_Hit]:
        hits = self._run_secret_hits(text)
        cut, pem = len(text), list[_Hit]()
        if "PRIVATE KEY" in text:
            pem, cut = _pem_hits(text)
            hits += pem
        rules, rules_cut = _rule_hits(text, pem)
        hits += (h for h in rules if h.value not in self._allowlist)
        cut = min(cut, rules_cut)
        if "<<SECRET:" in text:  # text redacted before (a rendered comment): its placeholders stay as they are
            taken = [m.span() for m in _PLACEHOLDER.finditer(text)]
            starts = [start for start, _ in taken]
            hits = [h for h in hits if h.kind == DENSE or not _overlaps(taken, starts, h)]
        if cut < len(text):  # the work budget ran out: the rest is withheld, never scanned less
            hits.append(dense_hit(text, cut, len(text)))
        return _merge(text, hits)

    def _escaped_hits(self, text: str) -> list[_Hit]:
        """Hits in the text with escaping backslashes and zero-width spaces removed, mapped back to the text
        (a hit's span then covers the removed characters inside it)."""
        view = _ESCAPING.sub("", text)
        if len(view) == len(text):
            return []
        hits = self._scan(view)
        if not hits:
            return []
        # the i-th removed character sat just before view offset before[i] (an array: 8 bytes an entry), the
        # length of the text before it less what was removed: the running sum of the pieces between them,
        # summed in C (a Python loop over the removed characters cost ~1 µs each)
        pieces = _ESCAPING.split(text)
        pieces.pop()
        before = array("q", accumulate(map(len, pieces)))
        del pieces

        def to_text(v: int) -> int:
            return v + bisect.bisect_right(before, v)

        return [_Hit(to_text(h.start), to_text(h.end - 1) + 1, h.kind, h.value, h.priority, h.group) for h in hits]

    def _run_secret_hits(self, text: str) -> list[_Hit]:
        hits = []
        for form, secret in self._run_forms:
            pos = text.find(form)
            while pos >= 0:
                hits.append(_Hit(pos, pos + len(form), "run-secret", "run:" + secret, 0))
                pos = text.find(form, pos + len(form))
        return hits

    def _apply_lines(self, text: str, lines: Sequence[str], hits: list[_Hit]) -> list[str]:
        """What _apply makes of the text, split into lines, where the text is the lines joined by newlines:
        only the lines the hits touch are split again (most lines of a file hold no secret, and splitting
        them all cost more than the rest of the call but the scan)."""
        if not hits:
            return list(lines)
        out: list[str] = []
        done = newlines = pos = 0  # lines[:done] are in out; text[:pos] holds `newlines` newlines
        first = 0
        while first < len(hits):  # a run of hits on adjacent or shared lines, replaced together
            start = text.rfind("\n", 0, hits[first].start) + 1
            stop = _line_end(text, hits[first].end)
            last = first + 1
            while last < len(hits) and hits[last].start <= stop:
                stop = max(stop, _line_end(text, hits[last].end))
                last += 1
            newlines += text.count("\n", pos, start)
            out += lines[done:newlines]
            out += self._apply(text, hits[first:last], start, stop).split("\n")
            newlines += text.count("\n", start, stop)
            done, pos, first = newlines + 1, stop, last
        out += lines[done:]
        return out

    def _apply(self, text: str, hits: list[_Hit], start: int = 0, stop: int | None = None) -> str:
        """text[start:stop] with the hits (all inside it) replaced by their placeholders."""
        out: list[str] = []
        pos = start
        for hit in hits:
            placeholder = self._placeholder(hit.kind, hit.value)
            if hit.kind == DENSE:  # may span lines: each line of it becomes the placeholder, the count stays
                out += (text[pos : hit.start], _LINE_TEXT.sub(placeholder, text[hit.start : hit.end]))
            else:
                out += (text[pos : hit.start], placeholder)
            pos = hit.end
        out.append(text[pos:stop])
        return "".join(out)


def _overlaps(spans: list[tuple[int, int]], starts: list[int], hit: _Hit) -> bool:
    """Whether the hit overlaps one of the sorted, disjoint spans (starts lists their starts)."""
    index = bisect.bisect_left(starts, hit.end) - 1
    return index >= 0 and spans[index][1] > hit.start


def _line_index(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1
