"""One pull-request review (event COMMENT) holding every inline comment; never approves or blocks.

A finding already posted (same fingerprint, in a comment of ours whose lines have not changed since) is
not posted again. GitHub rejects a whole review when one comment's anchor is invalid (422). We then find
the bad comments by bisection with pending reviews (invisible to others, deleted straight away), post
the rest in one review, and move the rejected ones to the summary.
"""

from __future__ import annotations

from typing import Any

from ..errors import GitHubError
from ..models import Finding
from ..render import finding_comment, fingerprint_marker
from . import Context
from .threads import FP_RE, is_ours, issue_marker


def comment_payload(finding: Finding, body: str) -> dict[str, Any]:
    payload: dict[str, Any] = {"path": finding.path, "body": body, "side": finding.side, "line": finding.end_line
                               or finding.line}
    if finding.end_line and finding.line and finding.end_line != finding.line:
        payload["start_line"] = finding.line
        payload["start_side"] = finding.side
    return payload


class InlineReview:
    name = "inline"

    def publish(self, ctx: Context) -> str:
        report = ctx.report
        # An outdated comment (line null) sits on code that changed: a finding still there is posted anew.
        posted = {m.group(1) for c in ctx.github.list_review_comments(report.pr.number)
                  if is_ours(c) and c.line is not None for m in FP_RE.finditer(c.body)}
        fresh: list[Finding] = []
        repeats = 0
        for finding in report.placed.inline:
            if FP_RE.search(fingerprint_marker(finding)).group(1) in posted:  # type: ignore[union-attr]
                repeats += 1
            else:
                fresh.append(finding)
        for finding in fresh[ctx.max_inline:]:
            ctx.moved_to_summary.append((finding, f"over the inline limit ({ctx.max_inline})"))
        fresh = fresh[: ctx.max_inline]
        if not fresh:
            return f"nothing new to post ({repeats} already posted)" if repeats else "no inline findings"
        items = [(f, comment_payload(f, ctx.scrub(f"{finding_comment(f, ctx.host)}\n{issue_marker(f)}")))
                 for f in fresh]
        good, bad = self._post(ctx, items)
        for finding, _ in bad:
            ctx.moved_to_summary.append((finding, "GitHub rejected the comment's position"))
        return f"posted {len(good)} comments" + (f", {len(bad)} moved to the summary" if bad else "") + (
            f", {repeats} already posted" if repeats else "")

    def _post(self, ctx: Context, items: list[tuple[Finding, dict[str, Any]]]
              ) -> tuple[list[tuple[Finding, dict[str, Any]]], list[tuple[Finding, dict[str, Any]]]]:
        pr = ctx.report.pr
        body = ctx.scrub(f"qodo-review found {len(items)} issues on changed lines; the summary comment has the rest.")
        try:
            ctx.github.create_review(pr.number, pr.head_sha, body, [p for _, p in items])
            return items, []
        except GitHubError as exc:
            if exc.status != 422:
                raise
        good, bad = self._bisect(ctx, items)
        if good:
            ctx.github.create_review(pr.number, pr.head_sha, body, [p for _, p in good])
        return good, bad

    def _bisect(self, ctx: Context, items: list[tuple[Finding, dict[str, Any]]]
                ) -> tuple[list[tuple[Finding, dict[str, Any]]], list[tuple[Finding, dict[str, Any]]]]:
        """Split the comments until each rejected one is isolated, testing halves as pending reviews."""
        if not items:
            return [], []
        if self._accepted(ctx, items):
            return items, []
        if len(items) == 1:
            return [], items
        mid = len(items) // 2
        g1, b1 = self._bisect(ctx, items[:mid])
        g2, b2 = self._bisect(ctx, items[mid:])
        return g1 + g2, b1 + b2

    def _accepted(self, ctx: Context, items: list[tuple[Finding, dict[str, Any]]]) -> bool:
        pr = ctx.report.pr
        try:
            review_id = ctx.github.create_review(pr.number, pr.head_sha, "", [p for _, p in items], event=None)
        except GitHubError as exc:
            if exc.status == 422:
                return False
            raise
        ctx.github.delete_pending_review(pr.number, review_id)
        return True
