"""/review (and the default run on pull_request): review the diff, publish on every channel, gate.

Re-runs are incremental: the summary comment's hidden state names the last head reviewed completely,
and only what changed since then is reviewed, unless history was rewritten, the gate was failing, or
`/review full` (or a manual dispatch) asks for everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ..diff import RawFile, parse_file, split_diff
from ..errors import ExitCode, GitHubError, QodoError
from ..findings import KnownFiles, place_findings
from ..github import GitHub
from ..limits import COMMENT_BODY_MAX
from ..outcome import Outcome
from ..output import Out, write_json
from ..publish import Context, Publisher, publish_all
from ..publish.annotate import report_without_check
from ..publish.check import CheckRun
from ..publish.comment import SummaryComment, find_summary
from ..publish.inline import InlineReview
from ..publish.threads import Addressed, find_addressed, resolve_addressed
from ..redact import Redactor
from ..render import addressed_section, cap, history_section, outside_section, scope_line, summary_markdown
from ..review import review_diff
from ..run import Run, fetch, record_fetch
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
    render_state,
    state_key,
)


def run(
    facts: Run, github: GitHub, out: Out, redactor: Redactor, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> ExitCode:
    config = facts.config
    channels = frozenset() if facts.dry_run else config.publish
    ctx = Context(github, Outcome(pr=facts.pr), facts.host, redactor, max_inline=config.max_findings or 30)
    check = CheckRun()
    if "check" in channels:
        out.log(f"check: {check.start(ctx)}")
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
        )
        record_fetch(report, fetched)
        if scope.incremental:
            place_on_pull_request(report, pr_files)
        ctx.report = report
        addressed = settle_threads(facts, github, out, report) if "inline" in channels else []
    except QodoError as exc:
        check.abort(ctx, str(exc), gate=config.fail_on is not None)
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
    new_state = record(state, entry, report.max_severity)
    texts = SummaryTexts(scope, len(raw_files), addressed, new_state, signing_key(facts))
    publish_all(publishers(channels, check, texts), ctx, out.log)
    finish(facts, out, redactor, report, ctx, texts)
    if check.denied is not None:
        report_without_check(out, report.findings, check.denied.status, facts.inputs.findings_file)
    return report.exit_code()


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
        report.findings, [parse_file(r) for r in pr_files if r.path in cited and not r.binary]
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


class SummaryTexts:
    """What the summary comment adds to the report: the scope, addressed findings, history and hidden state."""

    def __init__(
        self, scope: Scope, files: int, addressed: Sequence[Addressed], state: State, key: bytes | None
    ) -> None:
        self.scope = scope_line(scope.since, scope.reason, files)
        self.addressed = [(a.headline, a.comment.path, a.resolved) for a in addressed]
        self.state = state
        self.key = key

    def comment(self, ctx: Context) -> str:
        marker = render_state(self.key, self.state) if self.key is not None else ""
        extra = [*moved(ctx), addressed_section(self.addressed, ctx.host)]
        text = summary_markdown(
            ctx.report, ctx.host, extra=extra, scope=self.scope, history=history_section(self.state.history)
        )
        # Redacted before it is cut to size: a placeholder can be longer than what it replaces (a 422).
        return cap(ctx.scrub(text), COMMENT_BODY_MAX - len(marker) - 2) + "\n\n" + marker


def publishers(channels: frozenset[str], check: CheckRun, texts: SummaryTexts) -> list[Publisher]:
    out: list[Publisher] = []
    if "inline" in channels:
        out.append(InlineReview())
    if "comment" in channels:
        out.append(SummaryComment(texts.comment))
    if "check" in channels:
        out.append(check)
    return out


def moved(ctx: Context) -> list[str]:
    """Findings a publisher could not place inline (rejected anchor, over the cap) go to the summary."""
    if not ctx.moved_to_summary:
        return []
    return [
        outside_section(ctx.moved_to_summary, ctx.host).replace(
            "### Findings outside the diff", "### Findings not posted inline"
        )
    ]


def finish(facts: Run, out: Out, redactor: Redactor, report: Outcome[Any], ctx: Context, texts: SummaryTexts) -> None:
    """The job summary, errors, outputs and findings file."""
    report.not_inline, report.delivery = list(ctx.moved_to_summary), list(ctx.delivery)
    path = write_json(facts.env.workspace, facts.inputs.findings_file, report.findings_document(), redactor)
    delivery = ["### Delivery\n" + "\n".join(f"- {line}" for line in ctx.delivery)] if ctx.delivery else []
    if "summary" in facts.config.publish or facts.dry_run:
        out.summary(summary_markdown(report, ctx.host, job=True, extra=[*moved(ctx), *delivery], scope=texts.scope))
    for error in report.errors:
        out.error(error)
    if report.gate_reason:
        out.error(report.gate_reason)
    out.outputs(report.outputs(path))
    out.log(
        f"qodo-review: {report.verdict}; {len(report.findings)} findings; "
        f"{'complete' if report.complete else 'INCOMPLETE'}."
    )
