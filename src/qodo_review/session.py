"""One action run's resolved values, handed to the command that runs (review, describe, …).

Built by action.run() after the event, authorization, PR and base-branch config are settled.
Each byte of the PR diff is fetched once per run and shared through ``files()``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .config import ReviewConfig
from .diff import RawFile
from .event import Activity
from .fetch import fetch_files
from .github import GitHub
from .inputs import Inputs
from .models import PullRequest
from .output import Out
from .providers import Provider, ProviderSettings
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
    _files: list[RawFile] | None = None

    @property
    def host(self) -> str:
        """The repository's own web host: the only host links in posted text may point to."""
        return urlsplit(self.env.server_url).netloc or "github.com"

    @property
    def dry_run(self) -> bool:
        return self.inputs.dry_run

    def files(self) -> list[RawFile]:
        if self._files is None:
            self._files = fetch_files(self.github, self.pr, self.env.workspace)
        return self._files

    def provider(self) -> Provider | None:
        """None in a dry run: nothing is sent anywhere."""
        return None if self.dry_run else resilient(self.settings, self.fallback)
