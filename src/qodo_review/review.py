"""The review of a diff, shared by the action and the CLI: the one engine (engine.run_task) running the
review's task (tasks/review.py), then the review's after-processing (secrets joined, findings placed).

``review_diff`` takes values and a provider and returns an Outcome; it does no GitHub I/O and reads no
environment. The action and the CLI wrap it with their own inputs and outputs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import ReviewConfig
from .diff import RawFile
from .engine import run_task
from .findings import KnownFiles
from .models import Answer, PullRequest
from .outcome import Outcome
from .parts import UNVERIFIED_REASON
from .progress import Progress
from .providers import Provider
from .redact import Redactor
from .retry import Resilient
from .tasks import review as review_task

if TYPE_CHECKING:
    from .context import Reader

__all__ = ["UNVERIFIED_REASON", "review_diff"]


def review_diff(
    pr: PullRequest,
    raw_files: Sequence[RawFile],
    config: ReviewConfig,
    *,
    provider: Provider | Resilient | None,
    redactor: Redactor,
    nonce: str,
    provider_host: str = "",
    model: str = "",
    known: KnownFiles | None = None,
    family: str = "",
    token_hosts: Sequence[str] = (),
    progress: Progress | None = None,
    related: Reader | None = None,
) -> Outcome[Answer]:
    """Review the files; provider None means dry run (build and record the prompts, call nothing).

    ``known``: the files a finding's path is checked against (default: these files, no tree lookup)."""
    outcome = run_task(
        review_task.task(config),
        pr,
        raw_files,
        config,
        caller=provider,
        redactor=redactor,
        nonce=nonce,
        model=model,
        host=provider_host,
        family=family,
        token_hosts=token_hosts,
        progress=progress,
        related=related,
    )
    start = time.perf_counter()
    review_task.settle(outcome, raw_files, known)
    outcome.timings["findings"] = time.perf_counter() - start
    return outcome
