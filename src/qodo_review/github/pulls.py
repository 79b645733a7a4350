"""Pull-request endpoints: the PR itself, its files, its diff and comparisons between commits."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import requests

from qodo_review.models import PullRequest

from .payloads import _obj, pull_from_json
from .transport import Transport, _message

log = logging.getLogger(__name__)

# OpenAPI `pulls/list-files`: "Responses include a maximum of 3000 files."
MAX_PR_FILES = 3000


class PullsAPI(Transport):
    """Read a pull request and its diff; write its body."""

    def get_pull(self, number: int) -> PullRequest:
        return pull_from_json(_obj(self._json("GET", f"pulls/{number}")))

    def get_diff(self, number: int) -> str | None:
        """The PR's unified diff, or None when GitHub will not render it (too large): use `list_files`."""
        return self._diff(f"pulls/{number}")

    def list_files(self, number: int) -> list[dict[str, Any]]:
        """The PR's files as GitHub returns them (`filename`, `status`, `patch`...), at most 3000."""
        return self._paginate(f"pulls/{number}/files", limit=MAX_PR_FILES)

    def update_pull_body(self, number: int, body: str) -> None:
        self._json("PATCH", f"pulls/{number}", json={"body": body}, permission="pull-requests: write")

    def compare(self, base: str, head: str) -> dict[str, Any]:
        return _obj(self._json("GET", f"compare/{quote(base, safe='')}...{quote(head, safe='')}"))

    def merge_base(self, base: str, head: str) -> str:
        """The commit GitHub diffs `base...head` from (compare's `merge_base_commit`); "" when not given."""
        return str(_obj(self.compare(base, head).get("merge_base_commit")).get("sha") or "")

    def get_compare_diff(self, base: str, head: str) -> str | None:
        """The unified diff of `base...head` (from their merge base), or None when GitHub will not render it."""
        return self._diff(f"compare/{quote(base, safe='')}...{quote(head, safe='')}")

    def _diff(self, path: str) -> str | None:
        """GET with the diff media type; None when GitHub refuses to render it (406 and its kin)."""
        resp = self._request(
            "GET", self._url(path), accept="application/vnd.github.diff", passthrough=_diff_unavailable
        )
        if _diff_unavailable(resp):
            log.info("GitHub will not render the diff of %s (HTTP %d)", path, resp.status_code)
            return None
        return resp.content.decode("utf-8", errors="replace")


def _diff_unavailable(resp: requests.Response) -> bool:
    """406 for the diff media type, or a 422/5xx whose text says the diff is too large to render."""
    if resp.status_code == 406:
        return True
    if resp.status_code not in (422, 500, 502, 503):
        return False
    text = _message(resp).lower()
    return "too_large" in text or "too large" in text or "too long" in text or "diff exceeded" in text
