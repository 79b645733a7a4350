"""The model's answer as findings: tolerant parsing, placement against the diff, merging, the verdict.

The answer is untrusted: it is parsed defensively, every finding is checked against the diff,
and a finding that cannot be placed inline is kept for the summary, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .errors import AnswerError
from .models import CATEGORIES, Answer, Finding, Severity
from .walkthrough import parse_effort, parse_files

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
    raise AnswerError(
        "The model's answer held no JSON object."
        if not keys
        else f"The model's answer held no JSON object with {' or '.join(repr(k) for k in keys)}."
    )


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
        path=path,
        line=line,
        end_line=end_line,
        side=side,
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
    return Answer(
        summary=_str(data.get("summary"), 20_000).strip(),
        findings=tuple(findings),
        files=parse_files(data.get("files")),
        effort=parse_effort(data.get("effort")),
    )


@dataclass(frozen=True)
class Placed:
    inline: tuple[Finding, ...]
    outside: tuple[tuple[Finding, str], ...]  # (finding, why it is not inline)


class _HunkRange(Protocol):  # models.Hunk and diff.Region: a hunk's header numbers
    @property
    def old_start(self) -> int: ...
    @property
    def old_len(self) -> int: ...
    @property
    def new_start(self) -> int: ...
    @property
    def new_len(self) -> int: ...


class _FileHunks(Protocol):  # models.FileDiff and diff.HunkHeaders
    @property
    def path(self) -> str: ...
    @property
    def hunks(self) -> Sequence[_HunkRange]: ...


def _hunk_index(file: _FileHunks, line: int, side: str) -> int | None:
    """The hunk that holds this line on this side: a hunk's lines on one side are numbered consecutively
    from its header's start (parse_file checks the header's counts), so the header says it."""
    for i, hunk in enumerate(file.hunks):
        start, length = (hunk.old_start, hunk.old_len) if side == "LEFT" else (hunk.new_start, hunk.new_len)
        if start <= line < start + length:
            return i
    return None


def place_findings(findings: Iterable[Finding], files: Sequence[_FileHunks]) -> Placed:
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


# The path placeholders of the answer templates (prompt.py and tasks/*): echoed back, they name no file.
# tests/test_findings.py checks that every template's placeholder is listed here.
PATH_PLACEHOLDERS = frozenset({"<file path as shown>", "<path as shown>"})
_TEMPLATE_LIKE = re.compile(r"<[^<>]*>|\.\.\.|…")  # a whole path like "<path>" or "...": a template, not a file
MAX_PATHS_CHECKED = 100  # distinct paths outside the PR looked up at the head commit, at most, per run

PathLookup = Callable[[Sequence[str]], Mapping[str, bool]]
"""Which of these paths exist in the repository at the head commit: True / False for the paths it could
check; a path it leaves out (or an empty mapping: no tree known) is unknown."""


@dataclass(frozen=True)
class KnownFiles:
    """What a finding's path is checked against: the files of this PR, and (when there is a way to ask)
    the repository's tree at the head commit."""

    pr: frozenset[str]
    lookup: PathLookup | None = None

    @staticmethod
    def of(files: Iterable[_Named], lookup: PathLookup | None = None) -> KnownFiles:
        """The PR's files by their new and old names (a finding may cite a renamed file by either)."""
        return KnownFiles(frozenset(p for f in files for p in (f.path, f.old_path) if p), lookup)


class _Named(Protocol):  # diff.RawFile and models.FileDiff
    @property
    def path(self) -> str: ...
    @property
    def old_path(self) -> str | None: ...


def unverifiable_reason(path: str) -> str | None:
    """Why a path cannot name a file of any repository, or None when it could."""
    if path.strip().lower() in PATH_PLACEHOLDERS or _TEMPLATE_LIKE.fullmatch(path.strip()):
        return "the answer template's placeholder, not a file"
    segments = path.split("/")
    if "\0" in path or any(s in ("", ".", "..") or s.lower() == ".git" for s in segments):
        return "not a path a git repository can hold"
    return None


def set_aside_unverifiable(
    findings: Sequence[Finding], known: KnownFiles
) -> tuple[list[Finding], list[tuple[Finding, str]]]:
    """(findings kept, findings on paths that do not exist, each with why), both in the given order.

    A finding with no path, or on a file of the PR, is kept. A placeholder or a path git cannot hold is set
    aside without asking anything. Any other path is looked up at the head commit, all in one request and
    only when there is one such path; a path the lookup does not answer is kept (as a finding outside the
    diff, as when no tree is known): only a "does not exist" answer sets a finding aside.
    """
    reasons: dict[str, str] = {}
    to_check: list[str] = []
    for finding in findings:
        path = finding.path
        if not path or path in known.pr or path in reasons or path in to_check:
            continue
        reason = unverifiable_reason(path)
        if reason is not None:
            reasons[path] = reason
        elif len(to_check) < MAX_PATHS_CHECKED:
            to_check.append(path)
    if to_check and known.lookup is not None:
        answers = known.lookup(to_check)
        for path in to_check:
            if answers.get(path) is False:
                reasons[path] = "no such file in this pull request or in the repository at the head commit"
    kept = [f for f in findings if f.path not in reasons]
    aside = [(f, reasons[f.path]) for f in findings if f.path in reasons]
    return kept, aside


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
