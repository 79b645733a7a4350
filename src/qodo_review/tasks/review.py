"""/review as a Task: the review's schema and prompt (prompt.py), its answer (findings.parse_answer) merged
over the parts, and its after-processing: the secret scan's findings joined, findings on paths that do not
exist set aside, the rest placed on the diff's lines. Pure but for ``known``'s lookup, passed in."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import ReviewConfig
from ..diff import RawFile, hunk_headers
from ..engine import Task
from ..findings import KnownFiles, merge_findings, parse_answer, place_findings, set_aside_unverifiable
from ..models import Answer, Prompt, PullRequest
from ..outcome import Outcome
from ..prompt import build_review_prompt, overhead_tokens
from ..redact import Redactor
from ..rows import RenderedFile
from ..walkthrough import merge_effort, merge_files, scoped


def task(config: ReviewConfig) -> Task[Answer]:
    """As many calls as max-calls allows; every changed file scanned for secrets."""

    def prompt(
        pr: PullRequest,
        files: Sequence[RenderedFile],
        *,
        redactor: Redactor,
        nonce: str,
        output_tokens: int,
        context: str,
        part: tuple[int, int],
        related: str = "",
    ) -> Prompt:
        return build_review_prompt(
            pr, files, config, redactor=redactor, nonce=nonce, output_tokens=output_tokens, part=part, related=related
        )

    def overhead(pr: PullRequest, redactor: Redactor, context: str) -> int:
        return overhead_tokens(pr, config)

    return Task("review", prompt, overhead, parse_answer, merge_answers, scan_secrets=True, scope=scoped, related=True)


def merge_answers(answers: Sequence[Answer]) -> Answer:
    """The parts' findings de-duplicated, worst first; one paragraph per part, each said once (parts of a
    quiet PR often answer the same sentence)."""
    summary = "\n\n".join(dict.fromkeys(a.summary.strip() for a in answers if a.summary.strip()))
    return Answer(
        summary=summary,
        findings=tuple(merge_findings(a.findings for a in answers)),
        files=merge_files(answers),
        effort=merge_effort(a.effort for a in answers),
    )


def settle(outcome: Outcome[Answer], raw_files: Sequence[RawFile], known: KnownFiles | None = None) -> None:
    """The review's after-processing: secrets and the model's findings as one list, findings on paths that
    do not exist set aside (``known``: default, these files, no tree lookup), the rest placed."""
    answer = outcome.answer or Answer(summary="", findings=())
    outcome.findings = merge_findings([outcome.findings, answer.findings])
    outcome.summary = answer.summary
    outcome.walkthrough, outcome.effort = list(answer.files), answer.effort
    outcome.findings, outcome.unverifiable = set_aside_unverifiable(outcome.findings, known or KnownFiles.of(raw_files))
    cited = {f.path for f in outcome.findings}
    outcome.placed = place_findings(
        outcome.findings, [hunk_headers(r) for r in raw_files if r.path in cited and not r.binary]
    )
