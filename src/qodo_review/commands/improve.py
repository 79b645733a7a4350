"""/improve: committable suggestions as one review (event COMMENT) on the head, and one summary comment,
edited in place, that holds everything not posted inline."""

from __future__ import annotations

from typing import Any

from ..errors import ExitCode, GitHubError
from ..github import GitHub
from ..limits import COMMENT_BODY_MAX
from ..outcome import Outcome
from ..output import Out
from ..publish.comment import upsert_marked
from ..publish.inline import post_review
from ..redact import Redactor
from ..render import cap, coverage_section
from ..run import Run
from ..sanitize import plain
from ..tasks import improve
from ..tasks.improve import Plan, Suggestion
from .finish import call_model, finish

Item = tuple[Suggestion, dict[str, Any]]


def run(facts: Run, github: GitHub, out: Out, redactor: Redactor) -> ExitCode:
    config, scrub = facts.config, redactor.redact
    result = call_model(facts, github, out, redactor, improve.spec(config, facts.nonce))
    channels = frozenset() if facts.dry_run else config.publish
    posted, unread = posted_fingerprints(facts, github) if "inline" in channels else (set(), "")
    plan = improve.plan(result.answer or (), result.file, cap=config.max_suggestions, posted=posted, scrub=scrub)
    if "inline" not in config.publish or unread:
        why = unread or "inline publishing is off (publish:)"
        plan.invalid[:0] = [(s, why) for s, _ in plan.inline]
        plan.inline = []
    delivery: list[str] = []
    delivered = True
    if "inline" in channels and plan.inline:
        delivered &= post_inline(facts, github, out, redactor, plan, delivery)
    extra = _extra(result)
    if "comment" in channels:
        text = f"{improve.SUMMARY_MARKER}\n" + improve.summary_markdown(plan, cap=config.max_suggestions, extra=extra)
        try:
            delivery.append(upsert_summary(facts, github, scrub(cap(text, COMMENT_BODY_MAX))))
        except GitHubError as exc:
            delivery.append(f"summary comment: failed ({exc})")
            delivered = False
    body = improve.summary_markdown(plan, cap=config.max_suggestions, dry_run=facts.dry_run)
    payload = {"suggestions": document(plan)}
    count = len(plan.inline) + len(plan.repeats) + len(plan.invalid) + len(plan.over_cap)
    return finish(facts, out, redactor, result, payload, body, delivery=delivery, count=count, delivered=delivered)


def _extra(report: Outcome[Any]) -> list[str]:
    """What the summary comment adds to the suggestions: problems, and coverage when files were not sent."""
    parts = []
    if report.errors:
        parts.append("### ⚠️ Incomplete\n" + "\n".join(f"- {plain(e, 600)}" for e in report.errors))
    if report.skipped:
        parts.append("### Coverage\n" + coverage_section(report))
    return parts


def document(plan: Plan) -> list[dict[str, Any]]:
    """Every suggestion of the run with what happened to it: the findings file's ``suggestions``."""
    rows = [{**s.to_json(), "status": "posted", "fingerprint": fp} for s, fp in plan.inline]
    rows += [{**s.to_json(), "status": "already-posted", "fingerprint": fp} for s, fp in plan.repeats]
    rows += [{**s.to_json(), "status": "not-inline", "why": why} for s, why in plan.invalid]
    rows += [{**s.to_json(), "status": "over-cap"} for s in plan.over_cap]
    return rows


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


def post_inline(facts: Run, github: GitHub, out: Out, redactor: Redactor, plan: Plan, delivery: list[str]) -> bool:
    """One review for all suggestions; positions GitHub rejects move to the summary, never lost."""
    scrub = redactor.redact
    items = [(s, improve.comment_payload(s, scrub(improve.comment_body(s, fp)))) for s, fp in plan.inline]
    try:
        good, bad = _post(facts, github, redactor, items)
    except GitHubError as exc:
        delivery.append(f"suggestions: not posted ({exc})")
        plan.invalid[:0] = [(s, "the review could not be posted") for s, _ in plan.inline]
        plan.inline = []
        return False
    rejected = {id(s) for s, _ in bad}
    plan.invalid[:0] = [(s, "GitHub rejected the comment's position") for s, _ in bad]
    plan.inline = [(s, fp) for s, fp in plan.inline if id(s) not in rejected]
    delivery.append(f"suggestions: posted {len(good)} in one review" + (f", {len(bad)} rejected" if bad else ""))
    return True


def _post(facts: Run, github: GitHub, redactor: Redactor, items: list[Item]) -> tuple[list[Item], list[Item]]:
    body = redactor.redact(f"qodo-review suggests {len(items)} changes; the summary comment lists all.")
    return post_review(github, facts.pr, body, items, improve.FINGERPRINT_RE)


def upsert_summary(facts: Run, github: GitHub, text: str) -> str:
    return "summary comment: " + upsert_marked(github, facts.pr.number, improve.SUMMARY_MARKER, text)
