"""The Outcome of one run of any command (review, describe, improve, ask): what the model was shown and
answered, the coverage, the usage, what was delivered; and the three endings every entry point shares:
``exit_code()`` (the one mapping), ``findings_document()`` (the one findings-file schema) and
``dry_run_text()`` (the one dry-run printout). Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .coverage import Coverage
from .diff import RawFile, parse_file
from .errors import ExitCode
from .findings import Placed, gate_failed, max_severity
from .models import Effort, FileDiff, Finding, Manifest, Prompt, PullRequest, Severity, Skipped, Usage

T = TypeVar("T")

SCHEMA_VERSION = 1  # of findings_document(); README "The findings file" lists every key


@dataclass
class Outcome(Generic[T]):
    """Everything a channel or the terminal needs to tell what happened; built by engine.run_task, then
    completed by the command's task (findings placed, a tool's answer) and by the channels (delivery)."""

    pr: PullRequest
    command: str = "review"
    answer: T | None = None  # a tool's merged answer (describe, improve, ask); the review's is in findings
    summary: str = ""
    # the review's walkthrough: (path, what changed) per file, and the effort to review (walkthrough.py)
    walkthrough: list[tuple[str, str]] = field(default_factory=list)
    effort: Effort | None = None
    findings: list[Finding] = field(default_factory=list)
    placed: Placed = field(default_factory=lambda: Placed((), ()))
    # findings on paths that do not exist (findings.set_aside_unverifiable): listed, never inline, never gated
    unverifiable: list[tuple[Finding, str]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    manifest: Manifest = field(default_factory=Manifest)
    usage: Usage = field(default_factory=Usage)
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    prompts: list[Prompt] = field(default_factory=list)
    fail_on: Severity | None = None
    dry_run: bool = False
    files_total: int = 0
    lines_total: int = 0
    lines_reviewed: int = 0
    calls_planned: int = 0
    source: str = ""  # where the diff was read from (fetch.py)
    # (path, changed lines) of every part the model answered (prepared, in a dry run); None: not tracked
    reviewed: list[tuple[str, int]] | None = None
    allow_partial: bool = False  # the base config's allow-partial (coverage.py)
    files: Sequence[RawFile] = ()  # the files the run was given (for file())
    payload: dict[str, Any] = field(default_factory=dict)  # the command's own findings-file keys
    delivery: list[str] = field(default_factory=list)  # one line per thing a channel did or could not do
    not_inline: list[tuple[Finding, str]] = field(default_factory=list)  # findings a channel moved to the summary
    cost: float | None = None  # US dollars at list prices (cost.py); None: unknown price, or nothing was called
    _parsed: dict[str, FileDiff] = field(default_factory=dict, repr=False, compare=False)

    @property
    def coverage(self) -> Coverage:
        """The one account of what the model saw; `complete` and the gate's coverage part come from it."""
        done = self.manifest.files if self.reviewed is None else self.reviewed
        return Coverage.of(done, self.skipped, self.errors, self.allow_partial)

    @property
    def complete(self) -> bool:
        return self.coverage.complete

    @property
    def max_severity(self) -> Severity | None:
        return max_severity(self.findings)

    @property
    def verdict(self) -> str:
        """pass / fail; with fail-on set, an incomplete review never passes."""
        if gate_failed(self.findings, self.fail_on):
            return "fail"
        if self.fail_on is not None and not self.dry_run and not self.coverage.gate_ok:
            return "fail"
        return "pass"

    @property
    def verdict_shown(self) -> str:
        """The review's ``verdict`` as the step output and the findings file say it: ``dry-run`` when nothing
        was reviewed (a dry run never shows "pass"), else pass / fail. Tools are not gates: always pass."""
        if not self.is_review:
            return "pass"
        return "dry-run" if self.dry_run else self.verdict

    @property
    def gate_reason(self) -> str:
        """Why a gated review fails on coverage ("" when it does not): shown in every channel."""
        if self.fail_on is None or self.dry_run:
            return ""
        return self.coverage.gate_reason()

    @property
    def is_review(self) -> bool:
        return self.command == "review"

    def file(self, path: str) -> FileDiff | None:
        """The parsed diff of one changed file (parsed once, on demand), or None when it is not in the diff."""
        if path not in self._parsed:
            raw = next((r for r in self.files if r.path == path and not r.binary), None)
            if raw is None:
                return None
            self._parsed[path] = parse_file(raw)
        return self._parsed[path]

    def exit_code(self, *, delivered: bool = True) -> ExitCode:
        """The one mapping of an outcome to an exit code (a usage problem, 2, is raised before there is one):
        3 when a model call failed or, for a tool, nothing reached the PR (never a pass); 1 when the review's
        gate is met; else 0. Tools are not gates: fail-on applies to /review only. A dry run never fails on
        a call (none is made)."""
        if self.dry_run:
            return ExitCode.GATE if self.is_review and self.verdict == "fail" else ExitCode.OK
        if self.errors or not delivered:
            return ExitCode.INCOMPLETE
        if self.is_review and self.verdict == "fail":
            return ExitCode.GATE
        return ExitCode.OK

    def findings_document(self) -> dict[str, Any]:
        """The findings file: one schema for the action and the CLI and every command (README, "The findings
        file"). The command's own keys (``payload``) sit between the common head and the common tail."""
        worst = self.max_severity
        return {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "verdict": self.verdict_shown,
            "max_severity": worst.value if worst else "none",
            "summary": self.summary,
            "findings": [f.to_json() for f in self.findings],
            "not_inline": [
                {"finding": f.to_json(), "reason": why} for f, why in [*self.placed.outside, *self.not_inline]
            ],
            # findings on paths that do not exist: not in "findings", not gated, kept here with why
            "unverifiable": [{"finding": f.to_json(), "reason": why} for f, why in self.unverifiable],
            **(self.review_keys() if self.is_review else {}),
            **self.payload,
            "delivery": list(self.delivery),
            "skipped": self.coverage.rows(),
            "coverage": self.coverage.summary(),
            "errors": list(self.errors),
            "notices": list(self.notices),
            "usage": {
                "calls": self.usage.calls,
                "tokens_in": self.usage.tokens_in,
                "tokens_out": self.usage.tokens_out,
                "tokens_cached": self.usage.tokens_cached,
                "cost": None if self.cost is None else round(self.cost, 6),
            },
        }

    def review_keys(self) -> dict[str, Any]:
        """The review's own findings-file keys: the walkthrough (one line per file) and the effort (1-5)."""
        effort = {"score": self.effort.score, "why": self.effort.why} if self.effort else None
        return {"walkthrough": [{"path": p, "change": c} for p, c in self.walkthrough], "effort": effort}

    def outputs(self, path: str, count: int | None = None) -> dict[str, str]:
        """The step outputs: the same names for every command, so one workflow can read any result."""
        worst = self.max_severity
        return {
            "findings": str(len(self.findings) if count is None else count),
            "max_severity": worst.value if worst else "none",
            "verdict": self.verdict_shown,
            "findings_file": path,
            "tokens_in": str(self.usage.tokens_in),
            "tokens_out": str(self.usage.tokens_out),
            "complete": str(self.complete).lower(),
            "cost": "unknown" if self.cost is None else f"{self.cost:.4f}",
        }

    def dry_run_text(self, *, show_prompts: bool) -> str:
        """The one dry-run printout: how many calls would go where, and (show_prompts) every prompt."""
        tokens = sum(p.tokens_estimate for p in self.prompts)
        text = (
            f"Dry run: nothing was sent. {len(self.prompts)} call(s), about {tokens} prompt tokens, would be "
            f"sent to {self.manifest.provider_host} ({self.manifest.model})."
        )
        text += "".join(f"\n{line}." for line in self.manifest.guidance)  # the team's rules, in every call
        if self.manifest.related_line():
            text += " " + self.manifest.related_line()
        if show_prompts:
            text += "".join(
                f"\n----- call {i}: system -----\n{p.system}\n----- call {i}: user -----\n{p.user}"
                for i, p in enumerate(self.prompts, 1)
            )
        return text


def document_prompts(prompts: Sequence[Prompt]) -> list[dict[str, Any]]:
    """The prompts of a dry run, for the CLI's JSON."""
    return [{"system": p.system, "user": p.user, "tokens_estimate": p.tokens_estimate} for p in prompts]
