"""Noise control for the inline review: which findings earn an inline comment.

- Below ``inline-min-severity`` a finding goes to the summary only, unless it meets ``fail-on`` (a finding
  that fails the gate is always inline, even past ``max-findings``).
- A finding whose earlier comment of ours a person dismissed (resolved its thread, or reacted 👎 to it) is
  not posted again. It stays a finding: listed in the summary, in the findings file, and counted by the gate
  (a PR's author can resolve threads on their own PR, so a dismissal must never open a gate).

Who resolved a thread and who reacted is read with the review-threads GraphQL query that threads.py uses,
once per run and only when a new finding matches an earlier comment of ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..config import ReviewConfig
from ..github import GitHub, ReviewComment
from ..models import Finding
from .threads import FP_RE, ISSUE_RE, MAX_THREAD_PAGES, _get

DISMISSED_QUERY = """\
query DismissedThreads($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes {
          isResolved
          resolvedBy { login }
          comments(first: 1) {
            nodes { databaseId reactions(content: THUMBS_DOWN, first: 20) { nodes { user { login } } } }
          }
        }
      }
    }
  }
}"""
RESOLVED = "a person resolved its thread earlier: not posted again"
THUMBS_DOWN = "a person reacted 👎 to it earlier: not posted again"


def inline_worthy(finding: Finding, config: ReviewConfig) -> bool:
    """At or above inline-min-severity, or at or above fail-on (a gating finding is always inline)."""
    gate = config.fail_on
    return finding.severity.rank >= config.inline_min_severity.rank or (
        gate is not None and finding.severity.rank >= gate.rank
    )


def gating(finding: Finding, config: ReviewConfig) -> bool:
    return config.fail_on is not None and finding.severity.rank >= config.fail_on.rank


def below_reason(config: ReviewConfig) -> str:
    return f"below inline-min-severity ({config.inline_min_severity.value}): in the summary only"


def is_person(login: str, me: str) -> bool:
    """Someone other than our own account and not a bot (GitHub Apps' logins end in "[bot]")."""
    return bool(login) and login != me and not login.endswith("[bot]")


def markers(comment: ReviewComment) -> set[str]:
    """The fingerprint and issue key our comment carries."""
    return {m.group(1) for m in FP_RE.finditer(comment.body)} | {m.group(1) for m in ISSUE_RE.finditer(comment.body)}


def dismissed_comments(github: GitHub, number: int, me: str, wanted: Iterable[int]) -> dict[int, str]:
    """Of these comments (ours, first in their threads), those a person dismissed, each with why. A failed
    query dismisses nothing (the finding is posted, as before this existed): the caller logs it."""
    ids = set(wanted)
    owner, name = github.repo.split("/", 1)
    found: dict[int, str] = {}
    cursor: str | None = None
    for _ in range(MAX_THREAD_PAGES):
        data = github.graphql(DISMISSED_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor})
        threads = _get(data, "repository", "pullRequest", "reviewThreads")
        nodes = threads.get("nodes")
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict):
                continue
            firsts = _get(node, "comments").get("nodes")
            first = firsts[0] if isinstance(firsts, list) and firsts and isinstance(firsts[0], dict) else {}
            comment_id = first.get("databaseId")
            if not isinstance(comment_id, int) or comment_id not in ids:
                continue
            resolver = str(_get(node, "resolvedBy").get("login") or "")
            reactions = _get(first, "reactions").get("nodes")
            voters = [
                str(_get(r, "user").get("login") or "") for r in (reactions if isinstance(reactions, list) else [])
            ]
            if node.get("isResolved") is True and is_person(resolver, me):
                found[comment_id] = RESOLVED
            elif any(is_person(v, me) for v in voters):
                found[comment_id] = THUMBS_DOWN
        page = _get(threads, "pageInfo")
        if page.get("hasNextPage") is not True or not isinstance(page.get("endCursor"), str):
            break
        cursor = page["endCursor"]
    return found


def earlier(ours: Sequence[ReviewComment], keys: set[str]) -> list[ReviewComment]:
    """Our earlier comments carrying one of these fingerprints or issue keys."""
    return [c for c in ours if markers(c) & keys]
