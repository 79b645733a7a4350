"""The model's answer as findings: tolerant parsing, placement against the diff, merging, the verdict.

The answer is untrusted: it is parsed defensively, every finding is checked against the diff,
and a finding that cannot be placed inline is kept for the summary, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import AnswerError
from .models import CATEGORIES, Answer, FileDiff, Finding, Severity

MAX_FINDINGS_PER_ANSWER = 200
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 8_000
MAX_SUGGESTION_CHARS = 8_000


def extract_json(text: str, keys: Collection[str] = ()) -> Any:
    """The first JSON object in the text: bare, inside a ```json fence, or after leading prose.

    With `keys`, only an object holding at least one of them counts: a cut-off or malformed answer
    must not be read as the small object nested inside it.
    """
    stripped = text.strip()
    candidates = [stripped]
    candidates += [m.group(1) for m in re.finditer(r"```(?:json)?[ \t]*\n(.*?)```", stripped, re.DOTALL)]
    decoder = json.JSONDecoder()
    for candidate in candidates:
        for match in re.finditer(r"\{", candidate):
            try:
                value, _ = decoder.raw_decode(candidate, match.start())
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(value, dict) and (not keys or any(k in value for k in keys)):
                return value
    raise AnswerError("The model's answer held no JSON object." if not keys else
                      f"The model's answer held no JSON object with {' or '.join(repr(k) for k in keys)}.")


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip()) or None
    return None


def _str(value: object, limit: int) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    return text[:limit]


def finding_from_json(item: dict[str, Any]) -> Finding | None:
    """One finding; None only for an entry with nothing to show (no title, no body)."""
    title = _str(item.get("title"), MAX_TITLE_CHARS).strip().splitlines()
    body = _str(item.get("body") or item.get("description") or item.get("message"), MAX_BODY_CHARS).strip()
    if not title and not body:
        return None
    path = _str(item.get("path") or item.get("file"), 500).strip()
    path = re.sub(r"^(?:a/|b/|\./)", "", path)
    line = _int(item.get("line") or item.get("start_line"))
    end_line = _int(item.get("end_line")) or line
    if line is not None and end_line is not None and end_line < line:
        line, end_line = end_line, line
    side = "LEFT" if str(item.get("side", "")).upper() == "LEFT" else "RIGHT"
    category = _str(item.get("category"), 40).strip().lower()
    suggestion = item.get("suggestion")
    return Finding(
        path=path, line=line, end_line=end_line, side=side,
        severity=Severity.parse(item.get("severity")),
        category=category if category in CATEGORIES else "maintainability",
        title=(title[0] if title else body.splitlines()[0])[:MAX_TITLE_CHARS],
        body=body,
        suggestion=suggestion[:MAX_SUGGESTION_CHARS] if isinstance(suggestion, str) and suggestion.strip() else None,
    )


def parse_answer(text: str) -> Answer:
    data = extract_json(text, keys=("findings", "summary"))
    raw_findings = data.get("findings", [])
    if isinstance(raw_findings, dict):
        raw_findings = [raw_findings]
    if not isinstance(raw_findings, list):
        raise AnswerError("The model's answer has 'findings' that is not a list.")
    findings = []
    for item in raw_findings[:MAX_FINDINGS_PER_ANSWER]:
        if isinstance(item, dict) and (finding := finding_from_json(item)) is not None:
            findings.append(finding)
    return Answer(summary=_str(data.get("summary"), 20_000).strip(), findings=tuple(findings))


@dataclass(frozen=True)
class Placed:
    inline: tuple[Finding, ...]
    outside: tuple[tuple[Finding, str], ...]  # (finding, why it is not inline)


def _hunk_index(file: FileDiff, line: int, side: str) -> int | None:
    for i, hunk in enumerate(file.hunks):
        for ln in hunk.lines:
            number = ln.old if side == "LEFT" else ln.new
            if number == line and (ln.kind != "+" if side == "LEFT" else ln.kind != "-"):
                return i
    return None


def place_findings(findings: Iterable[Finding], files: Sequence[FileDiff]) -> Placed:
    """Inline when every cited line lies in one hunk on that side; otherwise kept for the summary."""
    by_path = {f.path: f for f in files}
    inline: list[Finding] = []
    outside: list[tuple[Finding, str]] = []
    for finding in findings:
        file = by_path.get(finding.path)
        if file is None:
            outside.append((finding, "file not in the diff" if finding.path else "no file given"))
            continue
        if finding.line is None:
            outside.append((finding, "no line given"))
            continue
        start = _hunk_index(file, finding.line, finding.side)
        if start is None:
            outside.append((finding, f"line {finding.line} is not part of the diff"))
            continue
        end_line = finding.end_line or finding.line
        if end_line < finding.line or _hunk_index(file, end_line, finding.side) != start:
            finding = replace(finding, end_line=finding.line, suggestion=None)
        elif finding.end_line != end_line:
            finding = replace(finding, end_line=end_line)
        if finding.side == "LEFT":
            finding = replace(finding, suggestion=None)
        inline.append(finding)
    return Placed(tuple(inline), tuple(outside))


def fingerprint(finding: Finding) -> str:
    """Stable identity of a finding across runs: path, side, anchor and the gist of the title."""
    gist = re.sub(r"[^a-z0-9]+", " ", finding.title.lower()).strip()[:60]
    return f"{finding.path}:{finding.side}:{finding.line}:{gist}"


def merge_findings(groups: Iterable[Sequence[Finding]]) -> list[Finding]:
    """Union of several calls' findings, de-duplicated, worst first, then by place."""
    seen: set[str] = set()
    out: list[Finding] = []
    for finding in (f for group in groups for f in group):
        key = fingerprint(finding)
        if key not in seen:
            seen.add(key)
            out.append(finding)
    out.sort(key=lambda f: (-f.severity.rank, f.path, f.line or 0))
    return out


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    worst = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return worst


def gate_failed(findings: Iterable[Finding], fail_on: Severity | None) -> bool:
    if fail_on is None:
        return False
    worst = max_severity(findings)
    return worst is not None and worst.rank >= fail_on.rank
