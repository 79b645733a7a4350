"""The GitHub transport: one authenticated requests session, retries and rate limits, the error mapping.

Every request to GitHub goes through `Transport._request`: it retries 5xx and network errors with backoff and
honours Retry-After and the rate-limit headers within the run's time budget (sleep and clock are injected),
follows same-host redirects only, counts each request in `requests_made`, and maps failures to our errors
with the token scrubbed. The typed endpoints (`pulls`, `contents`, `comments`, ...) build on it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from qodo_review.errors import GitHubError, PermissionDenied

log = logging.getLogger(__name__)

# https://docs.github.com/rest/about-the-rest-api/api-versions: pin the version we were written against.
API_VERSION = "2022-11-28"
# OpenAPI `pulls/list-files`: "per_page ... (max 100)"; the same maximum holds for every list endpoint.
PER_PAGE = 100
# Our own guard against a pagination loop that never ends (100 pages of 100 items).
MAX_PAGES = 100
# GitHub answers 301/302/307 for renamed or transferred repositories; a chain longer than this is a loop.
MAX_REDIRECTS = 5
# Transient failures (5xx, network) are tried at most this many times in all, within the time budget.
MAX_ATTEMPTS = 5
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# docs.github.com "Rate limits for the REST API": on a secondary rate limit without retry-after or
# x-ratelimit-reset, "wait for at least one minute before retrying".
SECONDARY_RATE_LIMIT_WAIT = 60.0
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class Transport:
    """Authenticated, retried, counted requests to one repository's API; the base of the endpoint classes."""

    def __init__(
        self,
        token: str,
        api_url: str,
        repo: str,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        time_budget: float = 300.0,
        timeout: float = 30.0,
        trust_env: bool = False,
    ) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.repo = repo
        self._origin = _origin(self.api_url)
        self._own_session = session is None
        self._session = session or requests.Session()
        if self._own_session:
            # HTTP(S)_PROXY, REQUESTS_CA_BUNDLE and ~/.netrc only when the workflow says so (use-proxy-env): an
            # earlier step can set them, and a proxy with a CA of its own would read the token and the code.
            self._session.trust_env = trust_env
        self._sleep, self._clock = sleep, clock
        self._deadline = clock() + time_budget
        self._timeout = timeout
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self.requests_made = 0

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def _url(self, path: str) -> str:
        return f"{self.api_url}/repos/{self.repo}/{path}"

    def _json(
        self, method: str, path: str, *, json: Any = None, permission: str | None = None, resend: bool = True
    ) -> Any:
        resp = self._request(method, self._url(path), json=json, permission=permission, resend=resend)
        return _decode(resp) if resp.content else {}

    def _paginate(
        self,
        path: str,
        *,
        limit: int = MAX_PAGES * PER_PAGE,
        shrink: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a list endpoint: follows the Link header (GitHub may switch URL forms mid-way).
        ``shrink`` keeps what the caller needs of each item as its page arrives (2,000 issues are not held whole)."""
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            assert url is not None
            resp = self._request("GET", url, params=params)
            batch = _decode(resp)
            if not isinstance(batch, list):
                raise GitHubError(f"GitHub returned {type(batch).__name__} for the list {path}", resp.status_code)
            items.extend((shrink or _same)(b) for b in batch if isinstance(b, dict))
            if len(items) >= limit:
                return items[:limit]
            url, params = resp.links.get("next", {}).get("url"), None
            if url is None and "Link" not in resp.headers and len(batch) == PER_PAGE:
                # No Link header at all (a proxy stripped it?): a full page may have a successor.
                url, params = self._url(path), {"per_page": PER_PAGE, "page": page + 1}
            if url is None:
                return items
            if _origin(url) != self._origin:
                raise GitHubError(f"GitHub's Link header points to another host ({_origin(url)}); not followed.")
        return items

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        accept: str = "application/vnd.github+json",
        permission: str | None = None,
        passthrough: Callable[[requests.Response], bool] | None = None,
        resend: bool = True,
    ) -> requests.Response:
        """Send with retries (5xx, network errors, rate limits) inside the time budget; map failures.

        resend=False is for a POST that creates something: after a 5xx GitHub may have created it anyway
        (its gateway gave up, the API did not), so the caller checks before sending it again.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                resp = self._send(method, url, params=params, json=json, accept=accept)
            except (requests.ConnectionError, requests.Timeout) as exc:
                error = GitHubError(self._scrub(f"Could not reach GitHub at {self._origin}: {exc}"))
                if method == "POST" and isinstance(exc, requests.ReadTimeout):
                    raise error from None  # GitHub may have acted on it: re-sending could post twice
                wait, why = self._backoff(attempt), "network error"
            except requests.RequestException as exc:
                raise GitHubError(self._scrub(f"GitHub request failed: {exc}")) from None
            else:
                if resp.ok or (passthrough is not None and passthrough(resp)):
                    return resp
                rate_wait = self._rate_limit_wait(resp)
                if rate_wait is not None:
                    # Up to a second of jitter so jobs sharing the token do not all return at once.
                    wait, why = rate_wait + self._random.uniform(0, 1), "rate limit"
                    error = self._rate_limit_error(resp, rate_wait)
                elif resp.status_code >= 500:
                    wait, why = self._backoff(attempt), f"HTTP {resp.status_code}"
                    error = self._error(resp, method, permission)
                    if not resend:
                        raise error
                else:
                    raise self._error(resp, method, permission)
            if attempt == MAX_ATTEMPTS or self._clock() + wait > self._deadline:
                raise error
            log.warning("GitHub %s %s: %s; retrying in %.1f s", method, urlsplit(url).path, why, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, method: str, url: str, *, params: Mapping[str, Any] | None, json: Any, accept: str
    ) -> requests.Response:
        """One logical request, following same-host redirects only, so the token never goes elsewhere."""
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": accept,
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "qodo-review",
        }
        for _ in range(MAX_REDIRECTS + 1):
            self.requests_made += 1
            resp = self._session.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            )
            if resp.status_code not in _REDIRECT_STATUSES or "Location" not in resp.headers:
                return resp
            target = urljoin(url, resp.headers["Location"])
            resp.close()
            if _origin(target) != self._origin:
                raise GitHubError(
                    f"GitHub redirected {urlsplit(url).path} to another host ({_origin(target)}); the "
                    "redirect was not followed so that the token is not sent there. Check GITHUB_API_URL.",
                    resp.status_code,
                )
            # GitHub's guidance for 301/302/307 is to repeat the same request at the new URL (its query
            # string, when the Location has one, replaces ours).
            url = target
            params = None if urlsplit(target).query else params
        raise GitHubError(f"GitHub redirected {urlsplit(url).path} more than {MAX_REDIRECTS} times.")

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff, half of it random jitter so parallel jobs do not retry in lockstep."""
        ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def _rate_limit_wait(self, resp: requests.Response) -> float | None:
        """Seconds GitHub asks us to wait, or None when this response is not a rate limit."""
        status, headers = resp.status_code, resp.headers
        if status not in (403, 429):
            return None
        retry_after = _float(headers.get("Retry-After"))
        if retry_after is not None:
            return max(retry_after, 0.0)
        reset = _float(headers.get("X-RateLimit-Reset"))
        if headers.get("X-RateLimit-Remaining") == "0" and reset is not None:
            # Measured against the server's clock (Date header) so a skewed runner clock does not matter.
            now = _http_date(headers.get("Date")) or time.time()
            return max(reset - now, 0.0)
        if status == 429 or "secondary rate limit" in _message(resp).lower():
            return SECONDARY_RATE_LIMIT_WAIT
        return None

    def _rate_limit_error(self, resp: requests.Response, wait: float) -> GitHubError:
        left = max(0.0, self._deadline - self._clock())
        return GitHubError(
            self._scrub(
                f"GitHub's rate limit was hit (HTTP {resp.status_code}: {_message(resp)}); it asks us to "
                f"wait {wait:.0f} s and {left:.0f} s are left of this run's time budget. Re-run the job "
                "later: other workflows using the same token share the limit."
            ),
            resp.status_code,
        )

    def _error(self, resp: requests.Response, method: str, permission: str | None) -> GitHubError:
        status, detail = resp.status_code, _message(resp)
        what = f"{method} {urlsplit(resp.url or '').path}"
        if status == 401:
            return GitHubError(
                self._scrub(
                    f"GitHub rejected the token (HTTP 401: {detail}). The github-token input is invalid or "
                    "expired: leave it at its default (${{ github.token }}) or pass a valid token."
                ),
                status,
            )
        if status in (403, 404) and permission is not None:
            return PermissionDenied(
                self._scrub(
                    f"GitHub refused {what} (HTTP {status}: {detail}). The workflow token needs "
                    f"`{permission}`. Add to the workflow or job:\n\n"
                    f"permissions:\n  contents: read\n  {permission}\n\n"
                    "On pull requests from forks GitHub makes the token read-only whatever the workflow says."
                ),
                status,
            )
        return GitHubError(self._scrub(f"GitHub {what} failed (HTTP {status}): {detail}"), status)

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _message(resp: requests.Response) -> str:
    """GitHub's `message` (and `errors`, as on 422); never an HTML error page."""
    try:
        data = resp.json()
    except ValueError:
        return resp.reason or "no details"
    if not isinstance(data, dict):
        return resp.reason or "no details"
    text = str(data.get("message") or resp.reason or "no details")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        text += " (" + "; ".join(_error_item(e) for e in errors) + ")"
    return text


def _error_item(item: object) -> str:
    if not isinstance(item, dict):
        return str(item)
    if item.get("message"):
        return str(item["message"])
    return " ".join(str(item[k]) for k in ("resource", "field", "code") if item.get(k))


def _same(item: dict[str, Any]) -> dict[str, Any]:
    return item


def _is_404(resp: requests.Response) -> bool:
    return resp.status_code == 404


def _decode(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise GitHubError(f"GitHub returned non-JSON for {urlsplit(resp.url or '').path}", resp.status_code) from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _http_date(value: str | None) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() if value else None
    except (TypeError, ValueError):
        return None
