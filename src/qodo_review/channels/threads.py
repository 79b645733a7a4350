"""Earlier findings the author addressed: our inline threads whose lines changed, resolved through GraphQL.

GitHub itself tracks whether a comment's lines changed: the REST API then gives the comment `line: null`
("outdated"). Such a thread is resolved when the new review did not report the same issue again and no one
else replied in it; when resolving is not permitted, the summary lists it as addressed instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import GitHubError
from ..github import GitHub, ReviewComment
from ..models import Finding
from ..sanitize import HIDDEN_MARKER_PREFIX

FP_RE = re.compile(r"<!-- qodo-review:fp=([0-9a-f]{16}) -->")
ISSUE_RE = re.compile(r"<!-- qodo-review:issue=([0-9a-f]{16}) -->")
# Our own guard: 10 pages of 100 threads; a PR with more is not one a person reviews by hand either.
MAX_THREAD_PAGES = 10

THREADS_QUERY = """\
query($owner: String!, $name: String!, $number: Int!, $cursor: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $cursor) {
        pageInfo { hasNextPage endCursor }
        nodes { id isResolved comments(first: 1) { nodes { databaseId body } } }
      }
    }
  }
}"""
RESOLVE_MUTATION = """\
mutation($id: ID!) {
  resolveReviewThread(input: {threadId: $id}) { thread { id isResolved } }
}"""


def issue_key(finding: Finding) -> str:
    """The finding's identity without its line: the same issue on moved lines is still the same issue."""
    gist = re.sub(r"[^a-z0-9]+", " ", finding.title.lower()).strip()[:60]
    return hashlib.sha256(f"{finding.path}\0{gist}".encode("utf-8", "replace")).hexdigest()[:16]


def issue_marker(finding: Finding) -> str:
    return f"{HIDDEN_MARKER_PREFIX}:issue={issue_key(finding)} -->"


def is_ours(comment: ReviewComment, me: str) -> bool:
    """Written by our own account (`GitHub.own_login`, never another bot's) and carrying our fingerprint."""
    return comment.user_login == me and comment.in_reply_to_id is None and bool(FP_RE.search(comment.body))


@dataclass(frozen=True)
class Addressed:
    """An earlier finding whose code changed; `resolved` tells whether its thread was resolved now."""

    comment: ReviewComment
    resolved: bool

    @property
    def headline(self) -> str:
        """The first line of our own comment (severity and title), as we wrote it."""
        return self.comment.body.strip().splitlines()[0] if self.comment.body.strip() else ""


def find_addressed(comments: Sequence[ReviewComment], findings: Sequence[Finding], me: str) -> list[ReviewComment]:
    """Our outdated top-level comments whose issue was not reported again, in threads without replies by others."""
    by_id = {c.id: c for c in comments}
    replied = {
        c.in_reply_to_id
        for c in comments
        if c.in_reply_to_id is not None and c.user_login != getattr(by_id.get(c.in_reply_to_id), "user_login", None)
    }
    again = {issue_key(f) for f in findings}
    out = []
    for c in comments:
        issue = ISSUE_RE.search(c.body)
        if is_ours(c, me) and c.line is None and c.id not in replied and not (issue and issue.group(1) in again):
            out.append(c)
    return out


def resolve_addressed(github: GitHub, number: int, addressed: Sequence[ReviewComment]) -> tuple[list[Addressed], str]:
    """Resolve each addressed comment's thread; returns the outcome per comment and why resolving stopped.

    Threads already resolved are left out. Any GraphQL failure stops the resolving (it is a permission
    question, the same for every thread): the rest are reported as addressed but unresolved.
    """
    try:
        threads = _thread_ids(github, number)
    except GitHubError as exc:
        return [Addressed(c, False) for c in addressed], str(exc)
    out: list[Addressed] = []
    problem = ""
    for comment in addressed:
        thread_id, resolved = threads.get(comment.id, (None, False))
        if resolved:
            continue
        if thread_id is not None and not problem:
            try:
                github.graphql(RESOLVE_MUTATION, {"id": thread_id})
                out.append(Addressed(comment, True))
                continue
            except GitHubError as exc:
                problem = str(exc)
        out.append(Addressed(comment, False))
    return out, problem


def _thread_ids(github: GitHub, number: int) -> dict[int, tuple[str, bool]]:
    """First comment's REST id -> (thread node id, already resolved), for threads that start with our marker."""
    owner, name = github.repo.split("/", 1)
    found: dict[int, tuple[str, bool]] = {}
    cursor: str | None = None
    for _ in range(MAX_THREAD_PAGES):
        data = github.graphql(THREADS_QUERY, {"owner": owner, "name": name, "number": number, "cursor": cursor})
        threads = _get(data, "repository", "pullRequest", "reviewThreads")
        nodes = threads.get("nodes")
        for node in nodes if isinstance(nodes, list) else []:
            firsts = _get(node, "comments").get("nodes")
            first = firsts[0] if isinstance(firsts, list) and firsts and isinstance(firsts[0], dict) else {}
            comment_id, thread_id = first.get("databaseId"), node.get("id") if isinstance(node, dict) else None
            ours = FP_RE.search(str(first.get("body") or "")) is not None
            if isinstance(comment_id, int) and isinstance(thread_id, str) and thread_id and ours:
                found[comment_id] = (thread_id, node.get("isResolved") is True)
        page = _get(threads, "pageInfo")
        if page.get("hasNextPage") is not True or not isinstance(page.get("endCursor"), str):
            break
        cursor = page["endCursor"]
    return found


def _get(data: Any, *keys: str) -> dict[str, Any]:
    """data[k1][k2]… where each is a JSON object, else {} (GraphQL answers null for what it cannot see)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}
