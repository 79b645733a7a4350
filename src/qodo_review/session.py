"""One action run's resolved values, handed to the command that runs (review, describe, …).

Built by action.run() after the event, authorization, PR and base-branch config are settled.
Each byte of the PR diff is fetched once per run and shared through ``files()``.
"""

from __future__ import annotations

import contextlib
import importlib
import secrets
import sys
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .clock import SYSTEM_CLOCK, Clock
from .config import ReviewConfig
from .diff import RawFile
from .event import Activity
from .fetch import Fetched, Git, fetch_files
from .github import GitHub
from .inputs import Inputs
from .models import PullRequest
from .outcome import Outcome
from .output import Out
from .providers import REGISTRY, Provider, ProviderSettings
from .redact import Redactor
from .retry import resilient


@dataclass(frozen=True)
class Env:
    """The GitHub environment of a container action, read once in main()."""

    event_name: str
    event_path: str
    repository: str
    api_url: str
    server_url: str
    workspace: str
    runner_temp: str = ""


@dataclass
class Session:
    env: Env
    inputs: Inputs
    out: Out
    redactor: Redactor
    github: GitHub
    activity: Activity
    pr: PullRequest
    config: ReviewConfig
    settings: ProviderSettings
    fallback: ProviderSettings | None = None  # the fallback-model, used when the primary keeps failing
    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    clock: Clock = SYSTEM_CLOCK
    _fetched: Fetched | None = None

    def __post_init__(self) -> None:
        if not self.dry_run and self.activity.command != "help":
            preload_sdk(self.settings)

    @property
    def host(self) -> str:
        """This repository on its web host, ``host/owner/name``: the only place links in posted text may
        point to (sanitize_markdown's ``repo``); another repository on the same host is not."""
        return f"{urlsplit(self.env.server_url).netloc or 'github.com'}/{self.env.repository}"

    @property
    def dry_run(self) -> bool:
        return self.inputs.dry_run

    def files(self) -> list[RawFile]:
        return self.fetched().files

    def fetched(self) -> Fetched:
        """The PR's files and where they came from, fetched on first use (each byte once per run)."""
        if self._fetched is None:
            self._fetched = fetch_files(self.github, self.pr, Git.find(self.env.workspace))
            for line in self._fetched.log:
                self.out.log(f"qodo-review: {line}")
            self.out.log(f"qodo-review: {len(self._fetched.files)} changed files read from {self._fetched.source} "
                         f"in {self._fetched.seconds:.2f} s.")
        return self._fetched

    def record_fetch(self, report: Outcome[Any]) -> None:
        """Add what the fetch knows to a report: its source and time, its notices, files GitHub did not list."""
        if self._fetched is None:
            return
        fetched = self._fetched
        report.source = fetched.source
        report.timings = {"fetch": fetched.seconds, **report.timings}
        report.notices[:0] = fetched.notices
        report.skipped.extend(fetched.unlisted)
        report.files_total += sum(s.files for s in fetched.unlisted)
        report.lines_total += sum(s.lines for s in fetched.unlisted)

    def provider(self) -> Provider | None:
        """None in a dry run: nothing is sent anywhere."""
        return None if self.dry_run else resilient(self.settings, self.fallback, clock=self.clock)


def preload_sdk(settings: ProviderSettings) -> None:
    """Start importing the chosen provider's SDK in the background, and only that one.

    Its import is most of a cold start (about 0.7 s for OpenAI's SDK, 2 s for Anthropic's) and would begin
    only at the first model call; started here, it overlaps the waits on GitHub for the PR's state and
    diff. make_provider's import then finds the module loaded, or waits for this thread to finish it.
    """
    module = REGISTRY.get(settings.kind, ("", ""))[0]
    if module and module not in sys.modules:
        threading.Thread(target=_import_quietly, args=(module,), name="qodo-sdk-import", daemon=True).start()


def _import_quietly(module: str) -> None:
    # A failure is left for make_provider to raise again, where the run reports it.
    with contextlib.suppress(Exception):
        importlib.import_module(module)
