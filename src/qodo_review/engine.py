"""The one chunk runner every command uses: select -> budget -> render/prompt -> model (through the retry
policy) -> parse -> merge, with the coverage account of what the model was shown and answered.

``run_task`` takes values and a provider and returns an Outcome; it does no GitHub I/O and reads no
environment. What differs between commands (schema, system prompt, the prompt's data part, parse, merge)
is the Task, built by the command's module in ``tasks/``. A call that overflows the context or whose
answer is cut off is asked again in halves; other failures are counted, and their lines not reviewed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .budget import BudgetPlan, Chunk, call_budget, plan_budget
from .config import ReviewConfig
from .cost import Meter
from .diff import RawFile, new_side_texts, parse_file
from .errors import (
    AnswerError,
    AnswerTruncated,
    ContextTooLong,
    ProviderAuthError,
    ProviderError,
    QodoError,
    UsageError,
)
from .guidance import guided, manifest_lines, rule_notices
from .models import Completion, Finding, Manifest, Prompt, PullRequest, Skipped
from .outcome import Outcome
from .parts import (
    Result,
    failed_parts,
    halve,
    over_cost,
    planned_lines,
    resolve,
    scan_diffs,
    scan_quick,
    unverified,
)
from .progress import Progress
from .providers import Provider
from .redact import Redactor, secret_findings, withheld_reason
from .retry import Resilient, record_routes, wrap
from .rows import RenderedFile, render_chunk
from .select import select_files

if TYPE_CHECKING:  # context/ (and tree-sitter after it) is imported only by a run that sends related code
    from .context import Reader
    from .context.found import Found

T = TypeVar("T")

MAX_SPLIT_DEPTH = 4  # a context-length or truncation error halves a chunk at most this many times
RELATED_OVERHEAD_TOKENS = 150  # the related-code section's heading and the label line of each block
MAX_NOT_SHOWN = 200  # names of files not shown, listed for the model (describe); the rest are counted
NOT_SHOWN_REASON = "did not fit in the one model call this tool makes (max-input-tokens)"


class PromptBuilder(Protocol):
    def __call__(
        self,
        pr: PullRequest,
        files: Sequence[RenderedFile],
        *,
        redactor: Redactor,
        nonce: str,
        output_tokens: int,
        context: str,
        part: tuple[int, int],
        related: str = "",
    ) -> Prompt: ...


@dataclass(frozen=True)
class Task(Generic[T]):
    """What one command sends and how its answer is read (built per run by the command's module in tasks/)."""

    name: str  # the command; also the schema name (Anthropic's tool name, OpenAI's json_schema name)
    prompt: PromptBuilder  # the system prompt and the data part of one call
    overhead: Callable[[PullRequest, Redactor, str], int]  # tokens of a call but its diff (pr, redactor, context)
    parse: Callable[[str], T]  # raises AnswerError for an unusable answer
    merge: Callable[[Sequence[T]], T]  # the answers of several calls (parts, split parts) as one
    context: str = ""  # more untrusted text (a question, a review thread), redacted and fenced with the diff
    max_calls: int | None = None  # None: the config's max-calls
    focus: str = ""  # a path sent first, so it fits the budget (the file of a review thread)
    list_not_shown: bool = False  # name the files that are not shown, so the model knows they changed
    scan_secrets: bool = False  # the secret scan of every changed file (the review)
    # What a part's answer may say about its own files only (the review's walkthrough lines): (answer, paths)
    scope: Callable[[T, frozenset[str]], T] | None = None
    always_call: bool = False  # one call even without a diff: the data is the context (/similar_issue's re-rank)
    related: bool = False  # send related code (context/) beside the diff, within each call's budget


def run_task(
    task: Task[T],
    pr: PullRequest,
    raw_files: Sequence[RawFile],
    config: ReviewConfig,
    *,
    caller: Provider | Resilient | None,
    redactor: Redactor,
    nonce: str,
    model: str = "",
    host: str = "",
    family: str = "",
    token_hosts: Sequence[str] = (),
    progress: Progress | None = None,
    related: Reader | None = None,
) -> Outcome[T]:
    """Run one task over the files; caller None means dry run (build and record the prompts, call nothing).
    ``progress`` is told the plan and each part as it ends (the CLI's status line). ``related``: where
    related code is read (the head commit), None for none.

    The Outcome's ``findings`` hold the secret scan's findings (when the task asks for it), its ``answer``
    the merged answer of every call, or None when no call answered."""
    outcome: Outcome[T] = Outcome(
        pr=pr,
        command=task.name,
        fail_on=config.fail_on,
        dry_run=caller is None,
        allow_partial=config.allow_partial,
        files=raw_files,
    )
    outcome.manifest = Manifest(provider_host=host, model=model, token_hosts=list(token_hosts))
    watch = _Stopwatch(outcome.timings)
    outcome.files_total = len(raw_files)
    outcome.lines_total = sum(r.added + r.removed for r in raw_files)
    selection = select_files(raw_files, config.ignore)
    outcome.skipped.extend(selection.skipped)
    # The team's rules (instructions, path-instructions, the base branch's rule files) in every call.
    sent_paths = [r.path for r in selection.reviewable]
    task = guided(task, config, sent_paths)
    outcome.manifest.guidance = manifest_lines(config, sent_paths)
    outcome.notices.extend(rule_notices(config.rule_files))
    reviewable = (
        sorted(selection.reviewable, key=lambda r: r.path != task.focus) if task.focus else selection.reviewable
    )
    watch.lap("select")
    # The list of files not shown: at most MAX_NOT_SHOWN rows of path, line count and reason.
    names = sum(len(r.path) + 90 for r in raw_files[:MAX_NOT_SHOWN]) // 3 if task.list_not_shown else 0
    call_tokens, output_tokens, limits, notices = call_budget(
        family or model,  # family: the model behind an Azure deployment's name (input model-family)
        config.max_input_tokens,
        task.overhead(pr, redactor, task.context) + names,
    )
    max_calls = config.max_calls if task.max_calls is None else task.max_calls
    plan = plan_budget(
        reviewable,
        call_tokens=call_tokens,
        output_tokens=output_tokens,
        limits=limits,
        max_calls=max_calls,
        notices=notices,
    )
    if task.always_call and not plan.chunks:
        plan = replace(plan, chunks=(Chunk(()),))
    outcome.notices.extend(plan.notices)
    not_shown = [replace(s, reason=NOT_SHOWN_REASON) if task.max_calls == 1 else s for s in plan.not_reviewed]
    outcome.skipped.extend(not_shown)
    outcome.calls_planned = len(plan.chunks)
    if progress is not None:
        progress.planned(len(plan.chunks))
    context = task.context
    if task.list_not_shown:
        context = _not_shown_block([*selection.skipped, *not_shown]) + context
    watch.lap("budget")
    found_context = None
    if task.related and related is not None and config.related_code_lines > 0 and plan.chunks:
        from .context.found import gather_context

        found_context = gather_context(related, plan, reviewable, config.ignore)
        outcome.manifest.related_source = found_context.source
        watch.lap("context")
    scanned: set[str] = set()
    found: dict[int, list[Finding]] = {}  # the secret scan's findings of each file not sent whole, by index
    quick: list[tuple[int, list[str]]] = []  # files read by the redactor alone, while the calls are in flight
    if task.scan_secrets:
        # The secret scan reads every changed file, whatever its class (ignored, exempt, withheld, binary, left
        # out of the plan): a secret added in vendor/ or a lock file is a finding too. The files the plan sends
        # whole are scanned as their parts are built (_Runner.run), the rest here, one file at a time: a file
        # that must be parsed (withheld, a private key, hunks not plainly well-formed, so a malformed file stops
        # the run before any call) now, the others on their new side's raw text (_scan_quick), during the calls.
        in_plan = planned_lines(plan)
        for index, raw in enumerate(raw_files):
            if in_plan.get(raw.path, 0) < raw.added + raw.removed or raw.path not in in_plan:
                scanned.add(raw.path)
                pem_or_withheld = withheld_reason(raw.path) is not None or "PRIVATE KEY" in raw.text
                texts = None if pem_or_withheld else new_side_texts(raw)
                if texts is None:
                    found[index] = secret_findings([parse_file(raw)], redactor)
                elif texts:
                    quick.append((index, texts))
        if caller is None:  # a dry run: no calls to overlap, and the same placeholder numbers every time
            found.update(scan_quick(quick, raw_files, redactor))
            quick = []
    resilient = wrap(caller, model, host)
    meter = Meter([model], None, config.prices)  # a dry run: the price alone
    if resilient is not None:
        fallback = [resilient.fallback.model] if resilient.fallback is not None else []
        meter = Meter([resilient.primary.model or model, *fallback], config.max_cost, config.prices)
    runner = _Runner(task, pr, plan, resilient, redactor, nonce, context, scanned if task.scan_secrets else None)
    runner.meter = meter

    def run_part(chunk: Chunk, index: int) -> Result[T]:
        result = runner.run(chunk, index)
        if progress is not None:
            progress.part_done(result.usage)
        return result

    runner.related, runner.related_lines = found_context, config.related_code_lines
    # A dry run calls nothing, so its parts have no wait to overlap: one worker (threads on the CPU-bound
    # rendering only take turns at the GIL: 2.96 s one worker, 3.22 s four, 33 MB on one core; bench/README)
    # also numbers the placeholders in the parts' order every time.
    workers = max(1, config.parallel_calls) if resilient is not None else 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(run_part, plan.chunks, range(len(plan.chunks)))  # every part submitted at once
        found.update(scan_quick(quick, raw_files, redactor))  # while the workers wait for the model
        results = list(parts)
    secrets = [finding for index in sorted(found) for finding in found[index]]
    if resilient is not None:
        outcome.notices.extend(resilient.notes())
    watch.lap("model")
    outcome.timings["prompts"] = sum(r.prompt_seconds for r in results)  # inside "model", across threads
    unverified_paths = {r.path for r in selection.reviewable if r.unverified}
    outcome.reviewed = [entry for r in results for entry in r.files_reviewed if entry[0] not in unverified_paths]
    outcome.skipped.extend(failed_parts(results))
    outcome.skipped.extend(over_cost(results, meter.spend))
    outcome.skipped.extend(unverified(results, unverified_paths))
    answers: list[T] = []
    for result in results:
        outcome.usage.absorb(result.usage)
        outcome.errors.extend(result.errors)
        outcome.prompts.extend(result.prompts)
        outcome.manifest.files.extend(result.files_sent)
        outcome.manifest.related.extend(result.related_sent)
        outcome.lines_reviewed += sum(lines for path, lines in result.files_reviewed if path not in unverified_paths)
        answers.extend(result.answers)
        secrets.extend(result.secrets)
    outcome.findings = secrets
    outcome.answer = task.merge(answers) if answers else None
    outcome.manifest.redactions = redactor.counts()
    outcome.cost = meter.total()
    if meter.spend is not None and meter.spend.refused:
        outcome.notices.append(meter.spend.notice())
    record_routes(outcome.manifest, resilient, outcome.usage.calls)
    return outcome


class _Stopwatch:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def _not_shown_block(skipped: Sequence[Skipped]) -> str:
    """Names of changed files the model does not see (never withheld ones: their names stay home too)."""
    rows = [f"- {s.path} ({s.lines} changed lines; {s.reason})" for s in skipped if s.kind != "withheld"]
    if not rows:
        return ""
    more = [f"- …and {len(rows) - MAX_NOT_SHOWN} more files"] if len(rows) > MAX_NOT_SHOWN else []
    return "Also changed, not shown here:\n" + "\n".join(rows[:MAX_NOT_SHOWN] + more) + "\n\n"


class _Runner(Generic[T]):
    """One part of the plan: its prompt, its call, and its halves when the call overflows or is cut off."""

    def __init__(
        self,
        task: Task[T],
        pr: PullRequest,
        plan: BudgetPlan,
        provider: Resilient | None,
        redactor: Redactor,
        nonce: str,
        context: str,
        scanned: set[str] | None,
    ) -> None:
        self.task, self.pr, self.plan, self.provider = task, pr, plan, provider
        self.redactor, self.nonce, self.context = redactor, nonce, context
        self.total = len(plan.chunks)
        self.scanned = scanned  # files the secret scan read whole already; None: no secret scan
        self.meter = Meter([], None, {})  # the run's cost and its max-cost account
        self.related: Found | None = None  # related code for the parts (context/), None: none
        self.related_lines = 0

    def run(self, chunk: Chunk, index: int) -> Result[T]:
        result: Result[T] = Result()
        self._run(chunk, index, result, depth=0)
        if self.scanned is not None:
            # The secret scan of this part's lines; nothing is kept for later, so a huge review holds the lines
            # of the parts in flight only (placement reads the cited files' hunk headers).
            # Rendering redacted every line of the part already, and every secret but a PEM block lies within
            # one line: a hunk whose lines came out unchanged and that names no private key holds none, and is
            # not scanned again (one redactor pass over what is sent, not two). Withheld files are read whole.
            result.secrets = secret_findings(scan_diffs(chunk, result.redacted, self.scanned), self.redactor)
        return result

    def _prompt(self, chunk: Chunk, index: int, result: Result[T], depth: int = 0) -> Prompt:
        start = time.perf_counter()
        files = render_chunk(chunk, self.redactor)
        related = ""
        if self.related is not None and depth == 0:  # a part split for overflowing goes without: the diff wins
            from .context import section

            room = (self.plan.call_tokens - chunk.tokens) * 9 // 10 - RELATED_OVERHEAD_TOKENS
            related, blocks = section(
                self.related.related,
                {p.raw.path for p in chunk.pieces},
                self.redactor,
                max_lines=self.related_lines,
                max_tokens=room,
            )
            result.related_sent.extend((b.path, b.lines) for b in blocks)
        result.files_sent.extend((f.path, f.lines_sent) for f in files)
        if result.redacted is None:  # the whole part's first rendering (halves re-render the same lines)
            result.redacted = [f.redacted for f in files]
        prompt = self.task.prompt(
            self.pr,
            files,
            redactor=self.redactor,
            nonce=self.nonce,
            output_tokens=self.plan.output_tokens,
            context=self.context,
            part=(index + 1, self.total),
            related=related,
        )
        result.prompt_seconds += time.perf_counter() - start
        return prompt

    def _run(self, chunk: Chunk, index: int, result: Result[T], depth: int) -> None:
        mark, related_mark = len(result.files_sent), len(result.related_sent)
        prompt = self._prompt(chunk, index, result, depth)
        if self.provider is None:
            result.prompts.append(prompt)
            result.files_reviewed.extend(result.files_sent[mark:])  # a dry run prepares what it would review
            return
        spend = self.meter.spend
        reserved = spend.admit(prompt) if spend is not None else 0.0
        if reserved is None:  # the call could pass max-cost: not made, its lines not reviewed
            result.over_cost.extend(result.files_sent[mark:])
            del result.files_sent[mark:]
            return
        try:
            answer = self.provider.answer(prompt, self._parse, self._spender(result))
        except (ProviderAuthError, UsageError):
            raise
        except (ContextTooLong, AnswerTruncated) as exc:
            halves = halve(resolve(chunk))
            if halves is None or depth >= MAX_SPLIT_DEPTH:
                result.errors.append(f"Part {index + 1}: {exc} It could not be split further.")
                return
            del result.files_sent[mark:]
            del result.related_sent[related_mark:]
            for half in halves:
                self._run(half, index, result, depth + 1)
            return
        except (ProviderError, AnswerError) as exc:
            result.errors.append(f"Part {index + 1}: {exc}")
            return
        except QodoError as exc:  # pragma: no cover - every QodoError subclass is handled above
            result.errors.append(str(exc))
            return
        finally:
            if spend is not None:
                spend.release(reserved)
        if self.task.scope is not None:
            answer = self.task.scope(answer, frozenset(p.raw.path for p in chunk.pieces))
        result.answers.append(answer)
        result.files_reviewed.extend(result.files_sent[mark:])

    def _spender(self, result: Result[T]) -> Callable[[Completion], None]:
        """What each completion (answers and re-asks alike) adds to the part's usage and the run's cost."""

        def add(completion: Completion) -> None:
            result.usage.add(completion)
            self.meter.record(completion)

        return add

    def _parse(self, completion: Completion) -> T:
        """A cut-off answer is split and asked again by the caller, never half-read."""
        if completion.finish_reason == "length":
            raise AnswerTruncated("The answer was cut off at the output limit.")
        return self.task.parse(completion.text)
