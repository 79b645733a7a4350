"""The project's own value types: every stage takes and returns these, never raw dicts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Severity(enum.Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info=0 ... critical=4."""
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: object) -> Severity:
        """Lenient: unknown or missing severities become MEDIUM (never dropped)."""
        text = str(value or "").strip().lower()
        aliases = {
            "blocker": "critical",
            "major": "high",
            "minor": "low",
            "warning": "medium",
            "error": "high",
            "nit": "low",
            "note": "info",
            "suggestion": "low",
        }
        text = aliases.get(text, text)
        try:
            return cls(text)
        except ValueError:
            return cls.MEDIUM


_SEVERITY_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}

CATEGORIES = ("bug", "security", "performance", "reliability", "maintainability", "tests", "docs", "style")


class FileStatus(enum.Enum):
    ADDED = "added"
    MODIFIED = "modified"
    DELETED = "deleted"
    RENAMED = "renamed"
    COPIED = "copied"
    BINARY = "binary"


class Line(NamedTuple):
    """One diff line. kind is '+', '-' or ' '; old/new are None on the side the line is absent.

    A named tuple, not a frozen dataclass: a huge PR parses a million of them, and a tuple is built about
    three times faster (bench/bench_pipeline.py). Immutable all the same."""

    kind: str
    old: int | None
    new: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str
    lines: tuple[Line, ...]

    @property
    def added(self) -> int:
        return sum(1 for ln in self.lines if ln.kind == "+")

    @property
    def removed(self) -> int:
        return sum(1 for ln in self.lines if ln.kind == "-")


@dataclass(frozen=True, slots=True)
class FileDiff:
    """One file of a diff. hunks is empty for binary, mode-only and pure-rename changes."""

    path: str
    old_path: str | None
    status: FileStatus
    hunks: tuple[Hunk, ...] = ()
    added: int = 0
    removed: int = 0
    patch_missing: bool = False  # GitHub omitted the patch (too large)

    @property
    def changed(self) -> int:
        return self.added + self.removed


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    title: str
    body: str
    base_sha: str
    head_sha: str
    base_ref: str = ""
    head_ref: str = ""
    author: str = ""
    draft: bool = False
    state: str = "open"
    is_fork: bool = False
    html_url: str = ""
    # GitHub's totals for the whole PR (None when not reported): a local git diff is checked against them.
    changed_files: int | None = None
    additions: int | None = None
    deletions: int | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One review finding; the field names are the public findings_file schema."""

    path: str
    line: int | None
    end_line: int | None
    side: str
    severity: Severity
    category: str
    title: str
    body: str
    suggestion: str | None = None
    source: str = "model"  # "model" or "secret-scan"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "side": self.side,
            "severity": self.severity.value,
            "category": self.category,
            "title": self.title,
            "body": self.body,
            "source": self.source,
        }
        if self.suggestion is not None:
            out["suggestion"] = self.suggestion
        return out


@dataclass(frozen=True, slots=True)
class Prompt:
    """What one model call sends: system and user text, the answer schema, and the output cap."""

    system: str
    user: str
    schema: dict[str, Any]
    max_output_tokens: int
    tokens_estimate: int = 0
    schema_name: str = "review"
    # The start of ``user`` that every call of the run shares (the data fence's opening and the PR's title and
    # description): with the system prompt and the schema before it, the prefix a provider can cache.
    shared: str = ""


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = "stop"  # "stop" or "length"
    model: str = ""
    # Of tokens_in (every input token): read from the provider's prompt cache, and written to it (cost.py).
    tokens_cached: int = 0
    tokens_cache_write: int = 0


@dataclass(frozen=True, slots=True)
class Effort:
    """How hard a part of the diff is to review, 1 (trivial) to 5 (hard), and the model's one line why."""

    score: int
    why: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The parsed model answer for a review."""

    summary: str
    findings: tuple[Finding, ...]
    # (path, one line: what changed there) for the files of the call, and the call's effort (walkthrough.py)
    files: tuple[tuple[str, str], ...] = ()
    effort: Effort | None = None


@dataclass(slots=True)
class Usage:
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0  # of tokens_in: read from the prompt cache
    tokens_cache_write: int = 0  # of tokens_in: written to the prompt cache

    def add(self, completion: Completion) -> None:
        self.calls += 1
        self.tokens_in += completion.tokens_in
        self.tokens_out += completion.tokens_out
        self.tokens_cached += completion.tokens_cached
        self.tokens_cache_write += completion.tokens_cache_write

    def absorb(self, other: Usage) -> None:
        self.calls += other.calls
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.tokens_cached += other.tokens_cached
        self.tokens_cache_write += other.tokens_cache_write


# Kinds of Skipped, and what each does to a gated review (coverage.py is the one place that reads them):
#   "ignored"       cost-saving built-in ignores of assets that hold no code (lock files, images, binary
#                   assets, source maps...) and files without content changes: listed, never counted;
#   "exempt"        ignored by the base branch's `ignore` list: listed, never counted;
#   "withheld"      a file that is a secret by nature (.env, keys): never sent, flagged by the secret scan;
#   "not-reviewed"  counted: a gated review with one fails, unless `content` is set and the base config
#                   says allow-partial: true.
SKIPPED_KINDS = ("ignored", "exempt", "withheld", "not-reviewed")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file (or part of one) that was not reviewed, and why (ignored, withheld, binary, over budget...)."""

    path: str
    reason: str
    lines: int = 0
    kind: str = "ignored"  # one of SKIPPED_KINDS
    files: int = 1  # more than one for files GitHub did not even name (past its 3,000-file list)
    # A content reason the PR controls (binary source, generated marker, long lines, built-in ignore of code,
    # unverified): `allow-partial: true` in the base config accepts it. Never set for a provider failure,
    # max-calls or a cost cap.
    content: bool = False
    shown: bool = False  # the model was shown these lines, yet they do not count as reviewed (unverified)


@dataclass(slots=True)
class Manifest:
    """Exactly what was sent to the provider: the privacy manifest in the job summary."""

    provider_host: str = ""
    model: str = ""
    files: list[tuple[str, int]] = field(default_factory=list)  # (path, lines sent)
    redactions: dict[str, int] = field(default_factory=dict)
    sent: bool = False
    guidance: list[str] = field(default_factory=list)  # the team's rules sent with the calls (guidance.py)
    # Hosts asked for an access token (a cloud provider's token endpoints): credentials went there, never code.
    token_hosts: list[str] = field(default_factory=list)
    related: list[tuple[str, int]] = field(default_factory=list)  # (path, lines) of each related-code block sent
    related_source: str = ""  # where related code was read from, and what that source could not do

    def related_line(self) -> str:
        """The manifest line, "Related code: 14 snippets from 6 files, 612 lines (…)"; "" when none was read."""
        if not self.related and not self.related_source:
            return ""
        files = len({path for path, _ in self.related})
        lines = sum(n for _, n in self.related)
        where = f" ({self.related_source})" if self.related_source else ""
        return f"Related code: {len(self.related)} snippets from {files} files, {lines} lines{where}."


@dataclass(frozen=True, slots=True)
class Issue:
    """An issue (or a pull request, seen through the issues API) as /similar_issue reads it."""

    number: int
    title: str
    body: str
    state: str = "open"  # open | closed
    state_reason: str = ""  # completed | not_planned | duplicate | reopened | "" (GitHub's state_reason)
    labels: tuple[str, ...] = ()
    author: str = ""  # "" or "ghost": the account was deleted
    locked: bool = False
    is_pull: bool = False
    created_at: str = ""  # ISO 8601, as GitHub writes it
    html_url: str = ""
    comments: int = 0  # how many comments GitHub counts (reading them costs a request)
