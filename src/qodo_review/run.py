"""One action run's frozen facts, handed to the command that runs (review, describe, …), and the few
explicit steps every command shares: fetching the PR's files (once, by the command that needs them),
running a tool's task over them, recording the fetch on the Outcome, the provider of the run, and the SDK
preload.

Built by action.run() after the event, authorization, PR and base-branch config are settled. The GitHub
client, the output and the redactor are not facts: commands take them as parameters.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from .clock import SYSTEM_CLOCK, Clock
from .config import ReviewConfig
from .engine import Task, run_task
from .event import Activity
from .fetch import Fetched, Git, GitUnusable, fetch_files
from .github import GitHub
from .inputs import Inputs
from .models import PullRequest
from .outcome import Outcome
from .output import Out
from .providers import REGISTRY, Provider, ProviderSettings
from .providers.cloud import CloudCredentials
from .redact import Redactor
from .retry import resilient

if TYPE_CHECKING:
    from .context import Reader

T = TypeVar("T")


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
    # What aws-actions/configure-aws-credentials, google-github-actions/auth or the credential inputs left.
    credentials: CloudCredentials = field(default_factory=CloudCredentials, repr=False)
    sha: str = ""  # GITHUB_SHA: the commit the workflow runs from (the default branch's, for issue_comment)


@dataclass(frozen=True)
class Run:
    """What is settled before a command runs: nothing here does I/O."""

    env: Env
    inputs: Inputs
    activity: Activity
    pr: PullRequest
    config: ReviewConfig
    settings: ProviderSettings
    fallback: ProviderSettings | None  # the fallback-model, used when the primary keeps failing
    nonce: str
    clock: Clock = SYSTEM_CLOCK

    @property
    def host(self) -> str:
        """This repository on its web host, ``host/owner/name``: the only place links in posted text may
        point to (sanitize_markdown's ``repo``); another repository on the same host is not."""
        return f"{urlsplit(self.env.server_url).netloc or 'github.com'}/{self.env.repository}"

    @property
    def dry_run(self) -> bool:
        return self.inputs.dry_run

    @property
    def findings_file(self) -> str:
        return self.inputs.findings_file

    @property
    def files_url(self) -> str:
        """The PR's Files tab, the target of every line link (on the repository's own host)."""
        return f"{self.env.server_url}/{self.env.repository}/pull/{self.pr.number}/files"

    def provider(self) -> Provider | None:
        """None in a dry run: nothing is sent anywhere."""
        return None if self.dry_run else resilient(self.settings, self.fallback, clock=self.clock)


def fetch(run: Run, github: GitHub, out: Out) -> Fetched:
    """The PR's files and where they came from: called once per run by the command that needs them."""
    fetched = fetch_files(github, run.pr, Git.find(run.env.workspace))
    for line in fetched.log:
        out.log(f"qodo-review: {line}")
    out.log(f"qodo-review: {len(fetched.files)} changed files read from {fetched.source} in {fetched.seconds:.2f} s.")
    return fetched


def call_model(facts: Run, github: GitHub, out: Out, redactor: Redactor, spec: Task[T]) -> Outcome[T]:
    """A tool's model calls over the PR's diff; in a dry run, the prompts printed instead."""
    result = run_task(
        spec,
        facts.pr,
        fetch(facts, github, out).files,
        facts.config,
        caller=facts.provider(),
        redactor=redactor,
        nonce=facts.nonce,
        host=facts.settings.host,
        model=facts.settings.model,
        family=facts.settings.family,
        token_hosts=facts.settings.cloud.token_hosts,
        related=related_reader(facts, github, out) if spec.related else None,
    )
    if facts.dry_run:
        out.log(result.dry_run_text(show_prompts=True))
    return result


def related_reader(facts: Run, github: GitHub, out: Out) -> Reader | None:
    """Where related code is read at the head commit: the workspace's checkout when it holds that commit and
    passes gitread's checks, else GitHub's API (bounded). None when related-code-lines is 0. Nothing is read
    here but the checkout's soundness: the engine reads what it needs."""
    if facts.config.related_code_lines <= 0:
        return None
    from .context.source import ApiReader, GitReader

    git = Git.find(facts.env.workspace)
    if git is not None:
        try:
            git.check(facts.pr.head_sha)
            return GitReader(git, facts.pr.head_sha)
        except GitUnusable as exc:
            out.log(f"qodo-review: related code is read through GitHub's API; the checkout was not used ({exc}).")
    return ApiReader(github, facts.pr.head_sha)


def record_fetch(outcome: Outcome[Any], fetched: Fetched | None) -> None:
    """Add what the fetch knows to an outcome: its source and time, its notices, files GitHub did not list."""
    if fetched is None:
        return
    outcome.source = fetched.source
    outcome.timings = {"fetch": fetched.seconds, **outcome.timings}
    outcome.notices[:0] = fetched.notices
    outcome.skipped.extend(fetched.unlisted)
    outcome.files_total += sum(s.files for s in fetched.unlisted)
    outcome.lines_total += sum(s.lines for s in fetched.unlisted)


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
