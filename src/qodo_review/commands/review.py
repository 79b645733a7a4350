"""/review (and the default run on pull_request): review the diff, publish on every channel, gate.

Re-runs are incremental: the summary comment's hidden state names the last head reviewed completely,
and only what changed since then is reviewed, unless history was rewritten, the gate was failing, or
`/review full` (or a manual dispatch) asks for everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..channels import Context
from ..channels.check import CheckRun
from ..channels.comment import find_summary
from ..channels.threads import Addressed, find_addressed, resolve_addressed
from ..channels.views import ReviewView
from ..diff import RawFile, hunk_headers, split_diff
from ..errors import GitHubError, QodoError
from ..findings import KnownFiles, place_findings
from ..github import GitHub
from ..outcome import Outcome
from ..output import Out
from ..render import scope_line
from ..review import review_diff
from ..run import Run, fetch, record_fetch, related_reader
from ..state import (
    STATE_OPEN,
    Entry,
    Scope,
    State,
    choose_scope,
    confirm_scope,
    entry_time,
    parse_state,
    record,
    state_key,
)


def prepare(ctx: Context, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> Outcome[Any]:
    """The review's task on the pull request: its scope (incremental from the signed state), the files,
    the findings placed on the PR's diff and the threads of addressed findings settled; the check run
    started before and ended if this dies."""
    facts, github, out, redactor, config = ctx.facts, ctx.github, ctx.out, ctx.redactor, ctx.facts.config
    if ctx.on("check"):
        out.log(f"check: {CheckRun.start(ctx)}")
    try:
        state = read_state(facts, github, out)
        scope = choose_scope(
            state, full=facts.activity.full or facts.activity.action == "dispatch", fail_on=config.fail_on
        )
        # The PR's files, fetched once here; not at all when the head was reviewed already.
        fetched = None if scope.since == facts.pr.head_sha else fetch(facts, github, out)
        pr_files = fetched.files if fetched is not None else []
        scope, raw_files = choose_files(facts, github, out, scope, pr_files)
        out.log(f"qodo-review: {scope_line(scope.since, scope.reason, len(raw_files))}")
        report = review_diff(
            facts.pr,
            raw_files,
            config,
            provider=facts.provider(),
            redactor=redactor,
            nonce=facts.nonce,
            provider_host=facts.settings.host,
            model=facts.settings.model,
            known=KnownFiles.of(pr_files if raw_files else [], head_tree(facts, github, out)),
            family=facts.settings.family,
            token_hosts=facts.settings.cloud.token_hosts,
            related=related_reader(facts, github, out) if raw_files else None,
        )
        record_fetch(report, fetched)
        if scope.incremental:
            place_on_pull_request(report, pr_files)
        addressed = settle_threads(facts, github, out, report) if ctx.on("inline") else []
    except QodoError as exc:
        CheckRun.abort(ctx, str(exc), gate=config.fail_on is not None)
        raise
    if facts.dry_run:
        out.log(report.dry_run_text(show_prompts=True))
    entry = Entry(
        facts.pr.head_sha,
        entry_time(now()),
        facts.settings.model,
        report.verdict,
        report.complete,
        "incremental" if scope.incremental else "full",
    )
    ctx.view = ReviewView(
        scope_line(scope.since, scope.reason, len(raw_files)),
        [(a.headline, a.comment.path, a.resolved) for a in addressed],
        record(state, entry, report.max_severity),
        signing_key(facts),
    )
    return report


def signing_key(facts: Run) -> bytes | None:
    """The key of this PR's hidden state, derived from the provider key (none in a key-less dry run)."""
    return state_key(facts.inputs.api_key, facts.env.repository, facts.pr.number)


def read_state(facts: Run, github: GitHub, out: Out) -> State:
    """The hidden state of our summary comment, when its signature verifies; none without the comment
    channel (nothing would keep it) or without a key to verify it with."""
    key = signing_key(facts)
    if "comment" not in facts.config.publish or key is None:
        return State()
    found = find_summary(github, facts.pr.number)
    if found is None:
        return State()
    state = parse_state(key, found.body)
    if state == State() and STATE_OPEN in found.body:
        out.log(
            "qodo-review: the summary comment's state does not verify (edited, or signed with "
            "another api-key); reviewing the whole pull request."
        )
    return state


def choose_files(
    facts: Run, github: GitHub, out: Out, scope: Scope, pr_files: list[RawFile]
) -> tuple[Scope, list[RawFile]]:
    """The files of this review: the PR's diff, or only what changed since the last review."""
    if scope.since == facts.pr.head_sha:
        return scope, []
    if scope.since is not None:
        scope, text = changes_since(facts, github, out, scope)
        if text is not None:
            # Only the PR's own files: merging the base branch in brings changes that are not the PR's.
            in_pull = {f.path for f in pr_files}
            return scope, [f for f in split_diff(text) if f.path in in_pull]
    return scope, pr_files


def changes_since(facts: Run, github: GitHub, out: Out, scope: Scope) -> tuple[Scope, str | None]:
    """The diff since the last reviewed head, if that head is an ancestor of the new one; else a full scope."""
    head = facts.pr.head_sha
    assert scope.since is not None
    try:
        scope = confirm_scope(scope, str(github.compare(scope.since, head).get("status") or ""))
        text = github.get_compare_diff(scope.since, head) if scope.since is not None else None
    except GitHubError as exc:  # e.g. 404: the old head is gone after a force-push
        out.log(f"Comparing with the last reviewed head failed: {exc}")
        return confirm_scope(scope, None), None
    return (scope, text) if text is not None or scope.since is None else (confirm_scope(scope, None), None)


def place_on_pull_request(report: Outcome[Any], pr_files: Sequence[RawFile]) -> None:
    """Inline comments anchor in the PR's diff, not the incremental one: place the findings there."""
    cited = {f.path for f in report.findings}
    report.placed = place_findings(
        report.findings, [hunk_headers(r) for r in pr_files if r.path in cited and not r.binary]
    )


def head_tree(facts: Run, github: GitHub, out: Out) -> Callable[[Sequence[str]], dict[str, bool]]:
    """Whether paths a finding cites outside the PR exist at the head commit: asked of GitHub's API (one
    query, only when a finding names such a path). Not of the workspace checkout: it is usually the merge
    commit, not the head, and it is not a source of truth (an earlier step can change it). A failed query
    leaves the paths unknown, so their findings stay as findings outside the diff (and still count)."""

    def lookup(paths: Sequence[str]) -> dict[str, bool]:
        try:
            return github.paths_exist(facts.pr.head_sha, paths)
        except GitHubError as exc:
            out.log(f"Could not check whether {len(paths)} path(s) cited by findings exist: {exc}")
            return {}

    return lookup


def settle_threads(facts: Run, github: GitHub, out: Out, report: Outcome[Any]) -> list[Addressed]:
    """Resolve the threads of earlier findings whose code changed; say so in the log when that is refused."""
    number = facts.pr.number
    addressed = find_addressed(github.list_review_comments(number), report.findings, github.own_login())
    if not addressed:
        return []
    outcome, problem = resolve_addressed(github, number, addressed)
    if problem:
        out.log(f"Could not resolve review threads (they are marked addressed in the summary): {problem}")
    return outcome
