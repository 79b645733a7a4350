"""The pipeline's core, shared by the action and the CLI: select -> budget -> prompt -> model -> findings.

``review_diff`` takes values and a provider and returns a Report; it does no GitHub I/O and
reads no environment. The action and the CLI wrap it with their own inputs and outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from .budget import BudgetPlan, Chunk, Piece, call_budget, plan_budget
from .config import ReviewConfig
from .coverage import Coverage
from .diff import RawFile, parse_file
from .errors import (
    AnswerError,
    AnswerTruncated,
    ContextTooLong,
    ProviderAuthError,
    ProviderError,
    QodoError,
    UsageError,
)
from .findings import (
    KnownFiles,
    Placed,
    gate_failed,
    max_severity,
    merge_findings,
    parse_answer,
    place_findings,
    set_aside_unverifiable,
)
from .models import Answer, Completion, FileDiff, Finding, Manifest, Prompt, PullRequest, Severity, Skipped, Usage
from .prompt import build_review_prompt, overhead_tokens, render_chunk
from .providers import Provider
from .redact import Redactor, secret_findings
from .retry import Resilient, record_routes, wrap
from .select import select_files

MAX_SPLIT_DEPTH = 4  # a context-length or truncation error halves a chunk at most this many times


@dataclass
class Report:
    """Everything a publisher or the terminal needs to tell what happened."""

    pr: PullRequest
    command: str = "review"
    summary: str = ""
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
    def gate_reason(self) -> str:
        """Why a gated review fails on coverage ("" when it does not): shown in every channel."""
        if self.fail_on is None or self.dry_run:
            return ""
        return self.coverage.gate_reason()


class _Stopwatch:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def review_diff(pr: PullRequest, raw_files: Sequence[RawFile], config: ReviewConfig, *,
                provider: Provider | None, redactor: Redactor, nonce: str, provider_host: str = "",
                model: str = "", command: str = "review", known: KnownFiles | None = None) -> Report:
    """Review the files; provider None means dry run (build and record the prompts, call nothing).

    ``known``: the files a finding's path is checked against (default: these files, no tree lookup)."""
    report = Report(pr=pr, command=command, fail_on=config.fail_on, dry_run=provider is None,
                    allow_partial=config.allow_partial)
    report.manifest = Manifest(provider_host=provider_host, model=model)
    watch = _Stopwatch(report.timings)
    report.files_total = len(raw_files)
    report.lines_total = sum(r.added + r.removed for r in raw_files)
    selection = select_files(raw_files, config.ignore)
    report.skipped.extend(selection.skipped)
    watch.lap("select")
    call_tokens, output_tokens, limits, notices = call_budget(
        model, config.max_input_tokens, overhead_tokens(pr, config))
    plan = plan_budget(selection.reviewable, call_tokens=call_tokens, output_tokens=output_tokens,
                       limits=limits, max_calls=config.max_calls, notices=notices)
    report.notices.extend(plan.notices)
    report.skipped.extend(plan.not_reviewed)
    report.calls_planned = len(plan.chunks)
    watch.lap("budget")
    parsed = _ParseCache()
    # The secret scan reads every changed file, whatever its class (ignored, exempt, withheld, binary, left
    # out of the plan): a secret added in vendor/ or a lock file is a finding too. The files the plan sends
    # whole are scanned as their parts are built (below), the rest here, one file at a time.
    in_plan = _planned_lines(plan)
    scan_here = [r for r in raw_files if in_plan.get(r.path, 0) < r.added + r.removed or r.path not in in_plan]
    secrets = secret_findings((parse_file(r) for r in scan_here), redactor)
    caller = wrap(provider, model, provider_host)
    runner = _ChunkRunner(pr, config, plan, caller, redactor, nonce, scanned={r.path for r in scan_here})
    with ThreadPoolExecutor(max_workers=max(1, config.parallel_calls)) as pool:
        results = list(pool.map(runner.run, plan.chunks, range(len(plan.chunks))))
    if caller is not None:
        report.notices.extend(caller.notes())
    watch.lap("model")
    report.timings["prompts"] = sum(r.prompt_seconds for r in results)  # inside "model", across threads
    unverified = {r.path for r in selection.reviewable if r.unverified}
    report.reviewed = [entry for r in results for entry in r.files_reviewed if entry[0] not in unverified]
    report.skipped.extend(_failed_parts(results))
    report.skipped.extend(_unverified(results, unverified))
    for result in results:
        report.usage.absorb(result.usage)
        report.errors.extend(result.errors)
        report.prompts.extend(result.prompts)
        report.manifest.files.extend(result.files_sent)
        report.lines_reviewed += sum(lines for path, lines in result.files_reviewed if path not in unverified)
    secrets += [finding for result in results for finding in result.secrets]
    report.findings = merge_findings([secrets, *(r.findings for r in results)])
    # One paragraph per part, each said once (parts of a quiet PR often answer the same sentence).
    report.summary = "\n\n".join(dict.fromkeys(r.summary for r in results if r.summary))
    report.findings, report.unverifiable = set_aside_unverifiable(report.findings, known or KnownFiles.of(raw_files))
    cited = {f.path for f in report.findings}
    report.placed = place_findings(report.findings, [parsed.get(r) for r in raw_files if r.path in cited
                                                     and not r.binary])
    report.manifest.redactions = redactor.counts()
    record_routes(report.manifest, caller, report.usage.calls)
    watch.lap("findings")
    return report




class _ParseCache:
    """Each file is parsed at most once per run, and only when something needs its lines."""

    def __init__(self) -> None:
        self._files: dict[int, FileDiff] = {}

    def get(self, raw: RawFile) -> FileDiff:
        key = id(raw)
        if key not in self._files:
            self._files[key] = parse_file(raw)
        return self._files[key]


@dataclass
class _ChunkResult:
    findings: list[Finding] = field(default_factory=list)
    summary: str = ""
    usage: Usage = field(default_factory=Usage)
    errors: list[str] = field(default_factory=list)
    prompts: list[Prompt] = field(default_factory=list)
    files_sent: list[tuple[str, int]] = field(default_factory=list)
    files_reviewed: list[tuple[str, int]] = field(default_factory=list)  # the parts the model answered
    secrets: list[Finding] = field(default_factory=list)  # found by the secret scan in what this part sends
    prompt_seconds: float = 0.0


def _failed_parts(results: Sequence[_ChunkResult]) -> list[Skipped]:
    """Lines sent whose call failed: not reviewed, each file with the count of its lines left out."""
    missing: dict[str, int] = {}
    for result in results:
        for path, lines in result.files_sent:
            missing[path] = missing.get(path, 0) + lines
        for path, lines in result.files_reviewed:
            missing[path] -= lines
    return [Skipped(path, "its model call failed (see the problems above)", lines, "not-reviewed")
            for path, lines in missing.items() if lines > 0]


UNVERIFIED_REASON = ("unverified: read from git past GitHub's file list, not checked against GitHub's blob ids "
                     "(shown to the model)")


def _unverified(results: Sequence[_ChunkResult], paths: set[str]) -> list[Skipped]:
    """Lines of unverified files that the model answered: shown, but counted not reviewed (a content reason)."""
    shown: dict[str, int] = {}
    for result in results:
        for path, lines in result.files_reviewed:
            if path in paths:
                shown[path] = shown.get(path, 0) + lines
    return [Skipped(path, UNVERIFIED_REASON, lines, "not-reviewed", content=True, shown=True)
            for path, lines in shown.items()]


def _planned_lines(plan: BudgetPlan) -> dict[str, int]:
    """Changed lines of each file that the plan sends."""
    lines: dict[str, int] = {}
    for chunk in plan.chunks:
        for piece in chunk.pieces:
            lines[piece.raw.path] = lines.get(piece.raw.path, 0) + piece.lines
    return lines


class _ChunkRunner:
    def __init__(self, pr: PullRequest, config: ReviewConfig, plan: BudgetPlan, provider: Resilient | None,
                 redactor: Redactor, nonce: str, scanned: set[str] | frozenset[str] = frozenset()) -> None:
        self.pr, self.config, self.plan, self.provider = pr, config, plan, provider
        self.redactor, self.nonce = redactor, nonce
        self.total = len(plan.chunks)
        self.scanned = scanned  # files the secret scan read whole already

    def run(self, chunk: Chunk, index: int) -> _ChunkResult:
        result = _ChunkResult()
        chunk = self._resolve(chunk)
        # The secret scan reads this part's lines while they are parsed; nothing is kept for later, so a
        # huge review holds the lines of the parts in flight only (placement re-parses the few cited files).
        result.secrets = secret_findings([_piece_diff(p) for p in chunk.pieces if p.raw.path not in self.scanned],
                                         self.redactor)
        self._run(chunk, index, result, depth=0)
        return result

    def _resolve(self, chunk: Chunk) -> Chunk:
        """Parse whole-file pieces; split ones were parsed by the budget."""
        return Chunk(tuple(p if p.hunks is not None else replace(p, hunks=parse_file(p.raw).hunks)
                           for p in chunk.pieces))

    def _prompt(self, chunk: Chunk, index: int, result: _ChunkResult) -> Prompt:
        start = time.perf_counter()
        files = render_chunk(chunk, self.redactor)
        result.files_sent.extend((f.path, f.lines_sent) for f in files)
        prompt = build_review_prompt(self.pr, files, self.config, redactor=self.redactor, nonce=self.nonce,
                                     output_tokens=self.plan.output_tokens, part=(index + 1, self.total))
        result.prompt_seconds += time.perf_counter() - start
        return prompt

    def _run(self, chunk: Chunk, index: int, result: _ChunkResult, depth: int) -> None:
        chunk = self._resolve(chunk)
        mark = len(result.files_sent)
        prompt = self._prompt(chunk, index, result)
        if self.provider is None:
            result.prompts.append(prompt)
            result.files_reviewed.extend(result.files_sent[mark:])  # a dry run prepares what it would review
            return
        try:
            answer = self._call(prompt, result)
        except (ProviderAuthError, UsageError):
            raise
        except (ContextTooLong, AnswerTruncated) as exc:
            halves = halve(chunk)
            if halves is None or depth >= MAX_SPLIT_DEPTH:
                result.errors.append(f"Part {index + 1}: {exc} It could not be split further.")
                return
            del result.files_sent[mark:]
            for half in halves:
                self._run(half, index, result, depth + 1)
            return
        except (ProviderError, AnswerError) as exc:
            result.errors.append(f"Part {index + 1}: {exc}")
            return
        except QodoError as exc:  # pragma: no cover - every QodoError subclass is handled above
            result.errors.append(str(exc))
            return
        result.findings.extend(answer.findings)
        result.files_reviewed.extend(result.files_sent[mark:])
        if answer.summary:
            result.summary = (result.summary + "\n\n" + answer.summary).strip()

    def _call(self, prompt: Prompt, result: _ChunkResult) -> Answer:
        """One model call under the run's retry policy: retries, one re-ask, the fallback (retry.py)."""
        assert self.provider is not None
        return self.provider.answer(prompt, _parse, result.usage.add)


def _parse(completion: Completion) -> Answer:
    """The review's answer; a cut-off one is split and asked again by the caller, never half-read."""
    if completion.finish_reason == "length":
        raise AnswerTruncated("The answer was cut off at the output limit.")
    return parse_answer(completion.text)


def _piece_diff(piece: Piece) -> FileDiff:
    raw = piece.raw
    return FileDiff(path=raw.path, old_path=raw.old_path, status=raw.status, hunks=piece.hunks or ())


def halve(chunk: Chunk) -> tuple[Chunk, Chunk] | None:
    pieces = list(chunk.pieces)
    if len(pieces) > 1:
        mid = len(pieces) // 2
        return Chunk(tuple(pieces[:mid])), Chunk(tuple(pieces[mid:]))
    piece = pieces[0]
    hunks = list(piece.hunks or ())
    if len(hunks) < 2:
        return None
    mid = len(hunks) // 2
    first = Piece(piece.raw, piece.tokens // 2, tuple(hunks[:mid]), piece.part, piece.parts)
    second = Piece(piece.raw, piece.tokens - piece.tokens // 2, tuple(hunks[mid:]), piece.part, piece.parts)
    return Chunk((first,)), Chunk((second,))


Progress = Callable[[str], None]
