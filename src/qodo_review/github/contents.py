"""Repository contents: a file's text or blob id at a commit, read through the contents API."""

from __future__ import annotations

from urllib.parse import quote

import requests

from qodo_review.errors import GitHubError

from .payloads import _obj
from .transport import Transport, _decode, _is_404

# OpenAPI `repos/get-content`: "Files ... 1 MB or smaller: All features of this endpoint are supported."
# Anything we read (config, instructions) is small; a bigger file is refused rather than fetched.
MAX_CONTENT_BYTES = 1024 * 1024


class ContentsAPI(Transport):
    """Read single files at a ref (small ones only: configuration and instructions)."""

    def _contents(self, path: str, ref: str, accept: str) -> requests.Response | None:
        """GET the contents endpoint of one path at `ref` in a media type; None for a 404 (no file there)."""
        resp = self._request(
            "GET",
            self._url(f"contents/{quote(path, safe='/')}"),
            params={"ref": ref},
            accept=accept,
            passthrough=_is_404,
        )
        return None if resp.status_code == 404 else resp

    def blob_sha(self, path: str, ref: str) -> str | None:
        """The blob id of a file at `ref` (the contents API's `sha`), or None when no file is there.

        The object media type answers files up to 100 MB (content left out past 1 MB)."""
        resp = self._contents(path, ref, "application/vnd.github.object+json")
        if resp is None:
            return None
        data = _obj(_decode(resp))
        return str(data.get("sha") or "") or None if data.get("type") == "file" else None

    def get_text(self, path: str, ref: str) -> str | None:
        """A file's text at `ref`, or None when it does not exist there."""
        resp = self._contents(path, ref, "application/vnd.github.raw+json")
        if resp is None:
            return None
        size = max(int(resp.headers.get("Content-Length") or 0), len(resp.content))
        if size > MAX_CONTENT_BYTES:
            raise GitHubError(
                f"{path} at {ref} is {size} bytes; files over {MAX_CONTENT_BYTES} bytes are not read.",
                resp.status_code,
            )
        if resp.headers.get("Content-Type", "").startswith("application/json") and resp.content[:1] == b"[":
            raise GitHubError(f"{path} at {ref} is a directory, not a file.")
        return resp.content.decode("utf-8", errors="replace")

    def get_tree(self, sha: str) -> tuple[list[tuple[str, int]], bool]:
        """Every file (blob) of the tree at a commit with its size, in one request, and whether GitHub cut the
        listing short (OpenAPI `git/get-tree`: "If truncated is true ... the limit for the tree array is
        100,000 entries with a maximum size of 7 MB")."""
        resp = self._request("GET", self._url(f"git/trees/{quote(sha, safe='')}"), params={"recursive": "1"})
        data = _obj(_decode(resp))
        entries = data.get("tree")
        files = [
            (str(e["path"]), int(e.get("size") or 0))
            for e in (entries if isinstance(entries, list) else [])
            if isinstance(e, dict) and e.get("type") == "blob" and isinstance(e.get("path"), str)
        ]
        return files, bool(data.get("truncated"))
