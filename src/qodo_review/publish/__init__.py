"""Publishers, one per channel, run by one composite: a channel that fails is reported, the rest still run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import GitHubError, PermissionDenied
from ..github import GitHub
from ..models import Finding
from ..outcome import Outcome
from ..redact import Redactor


@dataclass
class Context:
    """What every publisher may use. `scrub` is the redactor's last pass over every outgoing text."""

    github: GitHub
    report: Outcome[Any]
    host: str
    redactor: Redactor
    max_inline: int = 30
    check_run_id: int | None = None
    moved_to_summary: list[tuple[Finding, str]] = field(default_factory=list)
    delivery: list[str] = field(default_factory=list)

    def scrub(self, text: str) -> str:
        return self.redactor.redact(text)


# A create that failed with a 5xx or a lost connection is looked for, then sent again, this many times in all.
CREATE_ATTEMPTS = 3


def maybe_done(exc: GitHubError) -> bool:
    """A 5xx or a lost connection on a POST: GitHub may have acted before failing, so look before resending."""
    return exc.status >= 500 or exc.status == 0


class Publisher(Protocol):
    name: str

    def publish(self, ctx: Context) -> str: ...


def publish_all(publishers: Sequence[Publisher], ctx: Context, log: Callable[[str], None]) -> list[str]:
    """Run each channel; return the channels that failed. Each outcome is logged and kept in ctx.delivery."""
    failed = []
    for publisher in publishers:
        try:
            outcome = publisher.publish(ctx)
        except PermissionDenied as exc:
            outcome = f"not published: {exc}"
            failed.append(publisher.name)
        except GitHubError as exc:
            outcome = f"failed: {exc}"
            failed.append(publisher.name)
        ctx.delivery.append(f"{publisher.name}: {outcome}")
        log(f"{publisher.name}: {outcome}")
    return failed
