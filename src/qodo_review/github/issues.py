"""Issue endpoints: one issue, the repository's issues newest first (pull requests included, as GitHub lists
them), and an issue's first comments. Read by /similar_issue; pagination and rate limits are the transport's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qodo_review.models import Issue

from .payloads import _obj
from .transport import PER_PAGE, Transport, _decode

# What /similar_issue reads of an issue's body: enough words to rank by (BM25 reads up to 4,000 tokens), while
# 2,000 bodies of GitHub's maximum (65,536 characters) would hold hundreds of MB.
MAX_BODY_CHARS = 20_000
_KEPT = (
    "number",
    "title",
    "state",
    "state_reason",
    "labels",
    "locked",
    "pull_request",
    "created_at",
    "html_url",
    "comments",
)


class IssuesAPI(Transport):
    """Read issues (GitHub's issues API answers for pull requests too, with a `pull_request` key)."""

    def get_issue(self, number: int) -> Issue:
        return issue_from_json(_obj(self._json("GET", f"issues/{number}")))

    def list_issues(self, limit: int) -> list[Issue]:
        """At most ``limit`` issues and pull requests of every state, newest first (creation time)."""
        items = self._paginate("issues?state=all&sort=created&direction=desc", limit=limit, shrink=_shrink)
        return [issue_from_json(i) for i in items if isinstance(i.get("number"), int)]

    def first_comments(self, number: int) -> list[str]:
        """The bodies of an issue's first page of comments (one request, at most 100)."""
        resp = self._request("GET", self._url(f"issues/{number}/comments"), params={"per_page": PER_PAGE})
        data = _decode(resp) if resp.content else []
        return [str(c.get("body") or "") for c in data if isinstance(c, dict)] if isinstance(data, list) else []


def _shrink(d: dict[str, Any]) -> dict[str, Any]:
    """The fields an Issue is made of, the body cut to MAX_BODY_CHARS: kept as each page arrives."""
    kept = {k: d.get(k) for k in _KEPT}
    kept["body"] = str(d.get("body") or "")[:MAX_BODY_CHARS]
    user = d.get("user")
    kept["user"] = {"login": user.get("login")} if isinstance(user, dict) else None
    return kept


def issue_from_json(d: Mapping[str, Any]) -> Issue:
    """Tolerant, as every payload: a deleted author's `user` is null (or the placeholder account ghost)."""
    labels = d.get("labels") if isinstance(d.get("labels"), list) else []
    names = tuple(str(x.get("name") if isinstance(x, dict) else x or "") for x in labels or ())
    user = _obj(d.get("user"))
    return Issue(
        number=int(d.get("number") or 0),
        title=str(d.get("title") or ""),
        body=str(d.get("body") or ""),
        state=str(d.get("state") or "open"),
        state_reason=str(d.get("state_reason") or ""),
        labels=tuple(n for n in names if n),
        author=str(user.get("login") or ""),
        locked=bool(d.get("locked")),
        is_pull=bool(d.get("pull_request")),
        created_at=str(d.get("created_at") or ""),
        html_url=str(d.get("html_url") or ""),
        comments=int(d["comments"]) if isinstance(d.get("comments"), int) else 0,
    )
