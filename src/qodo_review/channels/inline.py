"""Inline comments: one pull-request review (event COMMENT) holding every inline comment of a run (the
review's findings, /improve's suggestions); never approves or blocks.

A finding already posted (same fingerprint, in a comment of ours whose lines have not changed since) is
not posted again; nor is one below inline-min-severity, or one a person dismissed earlier (noise.py); at
most max-findings are posted, plus every finding that fails the gate. The thread of each finding on the PR
is kept (``Context.threads``) so the summary and the check run link to it.

GitHub rejects a whole review when one comment's anchor is invalid (422). We then find the bad comments
by bisection with pending reviews (invisible to others, deleted straight away), post the rest in one review,
and move the rejected ones to the summary.

GitHub keeps one pending review per user and PR: a probe left by a crashed run (marked PROBE_MARKER)
is deleted and the request repeated; a person's own draft is never touched. A head that moved during
the review (the commit is no longer the PR's) is not bisected: the findings go to the summary.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from ..errors import GitHubError
from ..github import GitHub, Review, ReviewComment
from ..layout import thread_url
from ..models import Finding, PullRequest
from ..outcome import Outcome
from ..render import finding_comment, fingerprint_digest
from ..tasks import improve
from . import CREATE_ATTEMPTS, SKIP, Context, Delivery, maybe_done, noise
from .threads import FP_RE, ISSUE_RE, is_ours, issue_key, issue_marker
from .views import ImproveView

# The body of our pending probe reviews, so a crashed run's leftover is recognised as ours (GitHub shows
# a pending review only to its author, who may also be a person using a PAT with a draft of their own).
PROBE_MARKER = "<!-- qodo-review:probe -->"
T = TypeVar("T")
# 422 "User can only have one pending review per pull request" (REST and GraphQL alike).
ONE_PENDING = "one pending review"
# 422 texts for a commit_id that is no longer part of the pull request (pushed away or force-pushed).
MOVED_HEAD = ("commit could not be found", "commit_id is not part of the pull request", "no commit found")


class NotPosted(GitHubError):
    """GitHub refused the whole review for a reason no comment's position explains (no bisection helps)."""

    def __init__(self, message: str, status: int, reason: str) -> None:
        super().__init__(message, status)
        self.reason = reason  # shown beside each finding moved to the summary


def comment_payload(finding: Finding, body: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "path": finding.path,
        "body": body,
        "side": finding.side,
        "line": finding.end_line or finding.line,
    }
    if finding.end_line and finding.line and finding.end_line != finding.line:
        payload["start_line"] = finding.line
        payload["start_side"] = finding.side
    return payload


class InlineReview:
    """The review's findings on changed lines; the rest, and what GitHub rejects, go to the summary."""

    name = "inline"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        if not ctx.on("inline"):
            return SKIP
        return Delivery((f"{self.name}: {self.post(outcome, ctx)}",))

    def post(self, report: Outcome[Any], ctx: Context) -> str:
        github, number, config = ctx.github, report.pr.number, ctx.facts.config
        # An outdated comment (line null) sits on code that changed: a finding still there is posted anew.
        comments = github.list_review_comments(number)
        me = github.own_login()
        ours = [c for c in comments if is_ours(c, me)]
        mine = [c for c in ours if c.line is not None]
        posted = {m.group(1): c for c in mine for m in FP_RE.finditer(c.body)}
        # GitHub moves a comment along when code above it shifts: the same issue where it sits now is posted.
        placed = {(m.group(1), c.line): c for c in mine for m in ISSUE_RE.finditer(c.body)}
        fresh: list[Finding] = []
        repeats = 0
        for finding in report.placed.inline:
            digest = fingerprint_digest(finding)
            earlier = posted.get(digest) or placed.get((issue_key(finding), finding.end_line or finding.line))
            if earlier is not None:
                repeats += 1
                self.link(ctx, report, finding, earlier)
            elif not noise.inline_worthy(finding, config):
                ctx.summary_only.append((finding, noise.below_reason(config)))
            else:
                fresh.append(finding)
        fresh, dropped = self.undismissed(ctx, report, fresh, ours)
        gate = [f for f in fresh if noise.gating(f, config)]
        room = max(0, ctx.max_inline - len(gate))  # a finding that fails the gate is always inline
        rest = [f for f in fresh if not noise.gating(f, config)]
        for finding in rest[room:]:
            ctx.moved_to_summary.append((finding, f"over the inline limit ({ctx.max_inline})"))
        fresh = [f for f in fresh if noise.gating(f, config) or f in rest[:room]]
        quiet = (f", {len(ctx.summary_only)} below inline-min-severity" if ctx.summary_only else "") + (
            f", {dropped} dismissed earlier" if dropped else ""
        )
        if not fresh:
            return (f"nothing new to post ({repeats} already posted)" if repeats else "no inline findings") + quiet
        items = [
            (f, comment_payload(f, ctx.scrub(f"{finding_comment(f, ctx.host)}\n{issue_marker(f)}"))) for f in fresh
        ]
        body = ctx.scrub(f"qodo-review found {len(items)} issues on changed lines; the summary comment has the rest.")
        try:
            good, bad = post_review(github, report.pr, body, items, FP_RE)
        except NotPosted as exc:
            ctx.moved_to_summary.extend((f, exc.reason) for f in fresh)
            return f"not posted: {exc}"
        for finding, _ in bad:
            ctx.moved_to_summary.append((finding, "GitHub rejected the comment's position"))
        self.link_posted(ctx, report, [f for f, _ in good])
        return (
            f"posted {len(good)} comments"
            + (f", {len(bad)} moved to the summary" if bad else "")
            + (f", {repeats} already posted" if repeats else "")
            + quiet
        )

    @staticmethod
    def link(ctx: Context, report: Outcome[Any], finding: Finding, comment: ReviewComment) -> None:
        url = thread_url(comment.html_url, report.pr.html_url, comment.id)
        if url:
            ctx.threads[fingerprint_digest(finding)] = url

    @staticmethod
    def undismissed(
        ctx: Context, report: Outcome[Any], fresh: list[Finding], ours: list[ReviewComment]
    ) -> tuple[list[Finding], int]:
        """The findings no person dismissed earlier, and how many were; asked of GitHub only when a finding
        matches an earlier comment of ours (by fingerprint or issue)."""
        keys = {fingerprint_digest(f) for f in fresh} | {issue_key(f) for f in fresh}
        candidates = noise.earlier(ours, keys)
        if not candidates:
            return fresh, 0
        try:
            why = noise.dismissed_comments(
                ctx.github, report.pr.number, ctx.github.own_login(), [c.id for c in candidates]
            )
        except GitHubError as exc:
            ctx.out.log(f"Could not read who resolved or reacted to earlier comments (posting anyway): {exc}")
            return fresh, 0
        by_key = {key: c for c in candidates if c.id in why for key in noise.markers(c)}
        kept: list[Finding] = []
        for finding in fresh:
            comment = by_key.get(fingerprint_digest(finding)) or by_key.get(issue_key(finding))
            if comment is None:
                kept.append(finding)
            else:
                ctx.dismissed.append((finding, why[comment.id]))
                InlineReview.link(ctx, report, finding, comment)
        return kept, len(fresh) - len(kept)

    @staticmethod
    def link_posted(ctx: Context, report: Outcome[Any], posted: list[Finding]) -> None:
        """The threads of the comments just posted: GitHub's answer to the review holds no comment ids, so our
        comments are listed once more and found by their fingerprints."""
        if not posted:
            return
        try:
            listed = ctx.github.list_review_comments(report.pr.number)
        except GitHubError as exc:
            ctx.out.log(f"Could not read the new comments' links for the summary: {exc}")
            return
        me = ctx.github.own_login()
        by_digest = {m.group(1): c for c in listed if is_ours(c, me) for m in FP_RE.finditer(c.body)}
        for finding in posted:
            comment = by_digest.get(fingerprint_digest(finding))
            if comment is not None:
                InlineReview.link(ctx, report, finding, comment)


class Suggestions:
    """/improve's suggestions, one review for all; positions GitHub rejects move to the summary, never lost."""

    name = "suggestions"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        view = ctx.shown()
        assert isinstance(view, ImproveView)
        plan = view.plan
        if not ctx.on("inline") or not plan.inline:
            return SKIP
        items = [(s, improve.comment_payload(s, ctx.scrub(improve.comment_body(s, fp)))) for s, fp in plan.inline]
        body = ctx.scrub(f"qodo-review suggests {len(items)} changes; the summary comment lists all.")
        try:
            good, bad = post_review(ctx.github, outcome.pr, body, items, improve.FINGERPRINT_RE)
        except GitHubError as exc:
            plan.invalid[:0] = [(s, "the review could not be posted") for s, _ in plan.inline]
            plan.inline = []
            return Delivery((f"suggestions: not posted ({exc})",), ok=False)
        rejected = {id(s) for s, _ in bad}
        plan.invalid[:0] = [(s, "GitHub rejected the comment's position") for s, _ in bad]
        plan.inline = [(s, fp) for s, fp in plan.inline if id(s) not in rejected]
        return Delivery((f"suggestions: posted {len(good)} in one review" + (f", {len(bad)} rejected" if bad else ""),))


Item = tuple[T, dict[str, Any]]


def post_review(
    github: GitHub, pr: PullRequest, body: str, items: list[Item[T]], fp_re: re.Pattern[str]
) -> tuple[list[Item[T]], list[Item[T]]]:
    """Post one COMMENT review with these comments; on a 422 for a position, find the rejected ones by
    bisection and post the rest. Returns (posted, rejected). fp_re finds the comments' fingerprints, to
    confirm after a 5xx whether GitHub posted them before answering."""
    try:
        _post_once(github, pr, body, [p for _, p in items], fp_re)
        return items, []
    except NotPosted:
        raise
    except GitHubError as exc:
        if exc.status != 422:
            raise
    good, bad = _bisect(github, pr, items)
    if good:
        _post_once(github, pr, body, [p for _, p in good], fp_re)
    return good, bad


def _bisect(github: GitHub, pr: PullRequest, items: list[Item[T]]) -> tuple[list[Item[T]], list[Item[T]]]:
    """Split the comments until each rejected one is isolated, testing halves as pending reviews."""
    if not items:
        return [], []
    if _accepted(github, pr, items):
        return items, []
    if len(items) == 1:
        return [], items
    mid = len(items) // 2
    g1, b1 = _bisect(github, pr, items[:mid])
    g2, b2 = _bisect(github, pr, items[mid:])
    return g1 + g2, b1 + b2


def _accepted(github: GitHub, pr: PullRequest, items: list[Item[T]]) -> bool:
    try:
        review_id = _create(github, pr, PROBE_MARKER, [p for _, p in items], None)
    except NotPosted:
        raise
    except GitHubError as exc:
        if exc.status == 422:
            return False
        raise
    github.delete_pending_review(pr.number, review_id)
    return True


def _post_once(
    github: GitHub, pr: PullRequest, body: str, comments: list[dict[str, Any]], fp_re: re.Pattern[str]
) -> None:
    """Post the review; after a 5xx, look for its comments before posting again (GitHub may have acted)."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            _create(github, pr, body, comments, "COMMENT")
            return
        except GitHubError as exc:
            if not maybe_done(exc) or attempt == CREATE_ATTEMPTS:
                raise
        wanted = {m.group(1) for c in comments for m in fp_re.finditer(c["body"])}
        listed = github.list_review_comments(pr.number)
        me = github.own_login()
        posted = {
            m.group(1)
            for c in listed
            if c.user_login == me and c.in_reply_to_id is None
            for m in fp_re.finditer(c.body)
        }
        if wanted <= posted:
            return


def _create(github: GitHub, pr: PullRequest, body: str, comments: list[dict[str, Any]], event: str | None) -> int:
    """create_review, with the two 422s that are not about a comment's position told apart."""
    for attempt in (1, 2):
        try:
            return github.create_review(pr.number, pr.head_sha, body, comments, event=event)
        except GitHubError as exc:
            text = str(exc).lower()
            if exc.status != 422:
                raise
            if any(m in text for m in MOVED_HEAD):
                raise NotPosted(
                    f"the pull request's head moved during the review (commit {pr.head_sha[:12]} "
                    "is no longer its head); the next run reviews the new head",
                    exc.status,
                    "the pull request's head moved during the review",
                ) from None
            if ONE_PENDING not in text:
                raise
            if attempt == 2 or not _delete_stale_probes(github, pr.number):
                raise NotPosted(
                    "the token's user has a pending (draft) review on this pull request, and GitHub allows one "
                    "per user: submit or discard that draft, or use the default github-token",
                    exc.status,
                    "a pending draft review of the token's user blocks new reviews",
                ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _delete_stale_probes(github: GitHub, number: int) -> bool:
    """Delete pending reviews a crashed run of ours left (marked PROBE_MARKER); True if one was found."""
    reviews = github.list_reviews(number)
    stale: list[Review] = [
        r for r in reviews if r.state == "PENDING" and PROBE_MARKER in r.body and r.user_login == github.own_login()
    ]
    for review in stale:
        github.delete_pending_review(number, review.id)
    return bool(stale)
