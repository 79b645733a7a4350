"""Where a result goes: one ``Channel`` protocol and one module per place.

A channel takes the run's Outcome and a context and returns a ``Delivery``: the lines for the findings
file's (and the job summary's) "Delivery" list, and whether it carried the result. ``deliver_all`` runs a
command's channels in order; a channel whose GitHub call fails becomes a delivery line and a log line,
and the others still run.

The places: ``inline`` (one pull-request review: the review's findings, /improve's suggestions),
``comment`` (the summary comments we keep one of), ``body`` (/describe's PR body and labels), ``reply``
(/ask's answer, /help, the refusal of a command), ``check`` (the check run, or annotations without one),
``summary`` (the job summary), ``outputs`` (the findings file and the step outputs), ``sarif`` (the
review for code scanning), and ``terminal`` (the CLI's text, JSON or SARIF). ``views`` holds what each
command hands its channels; ``threads`` the markers of our inline comments and the settling of their threads;
``noise`` which findings earn an inline comment (inline-min-severity, findings a person dismissed earlier).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..errors import GitHubError, PermissionDenied
from ..models import Finding
from ..outcome import Outcome

if TYPE_CHECKING:  # the CLI's terminal channel imports this package: it needs no GitHub client
    from ..github import GitHub
    from ..output import Out
    from ..redact import Redactor
    from ..run import Run

C = TypeVar("C", contravariant=True)


@dataclass(frozen=True)
class Delivery:
    """What one channel did: its lines for the "Delivery" list (none: nothing to say), and ``ok`` False
    when it was to carry the result and could not (a tool that delivered nothing is incomplete)."""

    lines: tuple[str, ...] = ()
    ok: bool = True


SKIP = Delivery()


class Channel(Protocol[C]):
    """One place a result can go. ``name`` prefixes the line of a failure ``deliver_all`` catches."""

    name: str

    def deliver(self, outcome: Outcome[Any], ctx: C) -> Delivery: ...


class View(Protocol):
    """What a command hands the channels every command shares (views.py has one per command)."""

    def markdown(self, outcome: Outcome[Any], ctx: Context) -> str:
        """The job summary."""
        ...

    def payload(self) -> dict[str, Any]:
        """The command's own keys of the findings file."""
        ...

    def count(self) -> int | None:
        """The ``findings`` step output (None: the number of findings)."""
        ...


@dataclass
class Context:
    """What every channel of the action may use. ``scrub`` is the redactor's last pass over every outgoing
    text; ``view`` is set by the command once its task ran; the rest is what the channels leave each other."""

    facts: Run
    github: GitHub
    out: Out
    redactor: Redactor
    view: View | None = None
    max_inline: int = 10
    check_run_id: int | None = None
    check_denied: PermissionDenied | None = None  # the token may not write checks: annotations instead
    moved_to_summary: list[tuple[Finding, str]] = field(default_factory=list)
    # noise control (noise.py): findings below inline-min-severity, and those a person dismissed earlier
    summary_only: list[tuple[Finding, str]] = field(default_factory=list)
    dismissed: list[tuple[Finding, str]] = field(default_factory=list)
    threads: dict[str, str] = field(default_factory=dict)  # finding's fingerprint digest -> its thread's URL
    delivery: list[str] = field(default_factory=list)
    delivered: bool = True  # every channel that was to carry the result did
    findings_path: str = ""  # the findings file, once written (the step output)
    sarif_path: str = ""  # the SARIF file, once written (the step output sarif_file)

    @property
    def host(self) -> str:
        return self.facts.host

    def scrub(self, text: str) -> str:
        return self.redactor.redact(text)

    def on(self, switch: str) -> bool:
        """Whether a channel that writes on the pull request runs: never in a dry run, else per ``publish:``."""
        return not self.facts.dry_run and switch in self.facts.config.publish

    def shown(self) -> View:
        assert self.view is not None, "the command sets its view before its channels run"
        return self.view


def deliver_all(channels: Sequence[Channel[Context]], outcome: Outcome[Any], ctx: Context) -> None:
    """Run each channel in order; each line is logged and kept in ctx.delivery. A GitHub failure is one
    channel's line, never the end of the others."""
    for channel in channels:
        try:
            done = channel.deliver(outcome, ctx)
        except PermissionDenied as exc:
            done = Delivery((f"{channel.name}: not published: {exc}",), ok=False)
        except GitHubError as exc:
            done = Delivery((f"{channel.name}: failed: {exc}",), ok=False)
        for line in done.lines:
            ctx.delivery.append(line)
            ctx.out.log(line)
        ctx.delivered &= done.ok


# A create that failed with a 5xx or a lost connection is looked for, then sent again, this many times in all.
CREATE_ATTEMPTS = 3


def maybe_done(exc: GitHubError) -> bool:
    """A 5xx or a lost connection on a POST: GitHub may have acted before failing, so look before resending."""
    return exc.status >= 500 or exc.status == 0
