"""/improve: committable suggestions, checked against the diff and against what earlier runs posted. Its
channels post them as one review (event COMMENT) on the head and keep one summary comment, edited in
place, that holds everything not posted inline (channels/inline.py, channels/comment.py)."""

from __future__ import annotations

from typing import Any

from ..channels import Context
from ..channels.views import ImproveView
from ..errors import GitHubError
from ..github import GitHub
from ..outcome import Outcome
from ..render import coverage_section
from ..run import Run, call_model
from ..sanitize import plain
from ..tasks import improve


def prepare(ctx: Context) -> Outcome[Any]:
    facts, config = ctx.facts, ctx.facts.config
    result = call_model(facts, ctx.github, ctx.out, ctx.redactor, improve.spec(config, facts.nonce))
    posted, unread = posted_fingerprints(facts, ctx.github) if ctx.on("inline") else (set(), "")
    plan = improve.plan(result.answer or (), result.file, cap=config.max_suggestions, posted=posted, scrub=ctx.scrub)
    if "inline" not in config.publish or unread:
        why = unread or "inline publishing is off (publish:)"
        plan.invalid[:0] = [(s, why) for s, _ in plan.inline]
        plan.inline = []
    ctx.view = ImproveView(plan, config.max_suggestions, _extra(result))
    return result


def _extra(report: Outcome[Any]) -> list[str]:
    """What the summary comment adds to the suggestions: problems, and coverage when files were not sent."""
    parts = []
    if report.errors:
        parts.append("### ⚠️ Incomplete\n" + "\n".join(f"- {plain(e, 600)}" for e in report.errors))
    if report.skipped:
        parts.append("### Coverage\n" + coverage_section(report))
    return parts


def posted_fingerprints(facts: Run, github: GitHub) -> tuple[set[str], str]:
    """Fingerprints of suggestions earlier runs posted on this PR, and why they could not be read ("" if
    they could). Unread, nothing is posted inline: a duplicate is worse than a suggestion in the summary."""
    try:
        comments = github.list_review_comments(facts.pr.number)
    except GitHubError as exc:
        return set(), f"earlier suggestions could not be read to avoid duplicates ({exc})"
    me = github.own_login()  # another author's copy of our fingerprint must not suppress a suggestion
    return {
        m.group(1) for c in comments if c.user_login == me for m in improve.FINGERPRINT_RE.finditer(c.body or "")
    }, ""
