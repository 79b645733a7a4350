"""Conversation comments, reactions, labels, reviews and inline review comments on a pull request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .identity import IdentityAPI
from .payloads import Comment, Review, ReviewComment, _comment, _login, _review_comment

# Undocumented but enforced: "Body is too long (maximum is 65536 characters)" on issue and review comments.
MAX_COMMENT_CHARS = 65536


class CommentsAPI(IdentityAPI):
    """Read and write what people see on the pull request; creating a comment teaches us our own login."""

    def list_issue_comments(self, number: int) -> list[Comment]:
        return [_comment(c) for c in self._paginate(f"issues/{number}/comments")]

    def create_issue_comment(self, number: int, body: str, *, permission: str = "pull-requests: write") -> Comment:
        """``permission`` names what the token lacks on a 403 (``issues: write`` on a plain issue)."""
        comment = _comment(
            self._json(
                "POST",
                f"issues/{number}/comments",
                json={"body": body},
                permission=permission,
                resend=False,
            )
        )
        self._learn_login(comment.user_login)
        return comment

    def update_issue_comment(self, comment_id: int, body: str, *, permission: str = "pull-requests: write") -> Comment:
        return _comment(
            self._json(
                "PATCH",
                f"issues/comments/{comment_id}",
                json={"body": body},
                permission=permission,
            )
        )

    def add_reaction(self, comment_id: int, content: str = "eyes", *, review_comment: bool = False) -> None:
        kind = "pulls" if review_comment else "issues"
        self._json(
            "POST",
            f"{kind}/comments/{comment_id}/reactions",
            json={"content": content},
            permission="pull-requests: write",
        )

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self._json(
            "POST",
            f"issues/{number}/labels",
            json={"labels": list(labels)},
            permission="pull-requests: write",
        )

    def create_review(
        self, number: int, commit_id: str, body: str, comments: list[dict[str, Any]], event: str | None = "COMMENT"
    ) -> int:
        """Post a review with inline comments in one request; GitHub accepts or rejects it as a whole.

        event None leaves the review PENDING (invisible to others): used to test which comments GitHub
        accepts before posting the real one.
        """
        if event not in ("COMMENT", None):  # a bot must never approve or block a merge
            raise ValueError(f"reviews are only posted as COMMENT, not {event}")
        payload: dict[str, Any] = {"commit_id": commit_id, "body": body, "comments": comments}
        if event is not None:
            payload["event"] = event
        return int(
            self._json(
                "POST", f"pulls/{number}/reviews", json=payload, permission="pull-requests: write", resend=False
            )["id"]
        )

    def list_reviews(self, number: int) -> list[Review]:
        return [
            Review(
                id=int(r["id"]), state=str(r.get("state") or ""), user_login=_login(r), body=str(r.get("body") or "")
            )
            for r in self._paginate(f"pulls/{number}/reviews")
        ]

    def delete_pending_review(self, number: int, review_id: int) -> None:
        self._json("DELETE", f"pulls/{number}/reviews/{review_id}", permission="pull-requests: write")

    def list_review_comments(self, number: int) -> list[ReviewComment]:
        return [_review_comment(c) for c in self._paginate(f"pulls/{number}/comments")]

    def reply_to_review_comment(self, number: int, comment_id: int, body: str) -> ReviewComment:
        return _review_comment(
            self._json(
                "POST",
                f"pulls/{number}/comments/{comment_id}/replies",
                json={"body": body},
                permission="pull-requests: write",
            )
        )
