"""The GitHub REST edge: the only code that talks to GitHub.

GitHub JSON becomes our own types here; retries live in one place (`GitHub._request`); the token never
leaves the Authorization header of a request to the configured API host and is scrubbed from every error.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests

from qodo_review.errors import GitHubError, PermissionDenied
from qodo_review.models import PullRequest

log = logging.getLogger(__name__)

# https://docs.github.com/rest/about-the-rest-api/api-versions: pin the version we were written against.
API_VERSION = "2022-11-28"
# OpenAPI `pulls/list-files`: "per_page ... (max 100)"; the same maximum holds for every list endpoint.
PER_PAGE = 100
# OpenAPI `pulls/list-files`: "Responses include a maximum of 3000 files."
MAX_PR_FILES = 3000
# Our own guard against a pagination loop that never ends (100 pages of 100 items).
MAX_PAGES = 100
# OpenAPI `repos/get-content`: "Files ... 1 MB or smaller: All features of this endpoint are supported."
# Anything we read (config, instructions) is small; a bigger file is refused rather than fetched.
MAX_CONTENT_BYTES = 1024 * 1024
# Undocumented but enforced: "Body is too long (maximum is 65536 characters)" on issue and review comments.
MAX_COMMENT_CHARS = 65536
# OpenAPI `checks/create`: output.summary / output.text "Maximum length: 65535 characters"; GitHub answers
# "Invalid request.\n\nOnly 65535 characters are allowed; 68338 were supplied."
MAX_CHECK_OUTPUT_CHARS = 65535
# OpenAPI `checks/create`: "The Checks API limits the number of annotations to a maximum of 50 per API
# request. To create more than 50 annotations, you have to make multiple requests to the Update a check run".
MAX_ANNOTATIONS_PER_REQUEST = 50
# GitHub answers 301/302/307 for renamed or transferred repositories; a chain longer than this is a loop.
MAX_REDIRECTS = 5
# Transient failures (5xx, network) are tried at most this many times in all, within the time budget.
MAX_ATTEMPTS = 5
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# docs.github.com "Rate limits for the REST API": on a secondary rate limit without retry-after or
# x-ratelimit-reset, "wait for at least one minute before retrying".
SECONDARY_RATE_LIMIT_WAIT = 60.0
# The account that writes with the workflow's token (GITHUB_TOKEN).
WORKFLOW_BOT = "github-actions[bot]"
# Installation tokens (the workflow's, a GitHub App's) start with this; GET /user refuses them.
INSTALLATION_TOKEN_PREFIX = "ghs_"  # noqa: S105 - a prefix, not a secret
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_PERMISSIONS = frozenset({"admin", "maintain", "write", "triage", "read", "none"})


@dataclass(frozen=True, slots=True)
class Comment:
    """An issue (conversation) comment on a pull request."""

    id: int
    body: str
    user_login: str
    user_type: str  # "User" or "Bot"


@dataclass(frozen=True, slots=True)
class Review:
    id: int
    state: str  # PENDING, COMMENTED, APPROVED, CHANGES_REQUESTED, DISMISSED
    user_login: str
    body: str = ""


@dataclass(frozen=True, slots=True)
class ReviewComment:
    """An inline comment in a review thread."""

    id: int
    body: str
    path: str
    line: int | None
    side: str | None
    user_login: str
    in_reply_to_id: int | None
    pull_request_review_id: int | None


@dataclass(frozen=True, slots=True)
class CheckRun:
    id: int


def pull_from_json(d: Mapping[str, Any]) -> PullRequest:
    """Convert a REST or webhook `pull_request` object; tolerant, since real payloads vary by age."""
    base, head = _obj(d.get("base")), _obj(d.get("head"))
    base_repo = _obj(base.get("repo")).get("full_name")
    head_repo = _obj(head.get("repo")).get("full_name")
    return PullRequest(
        number=int(d.get("number") or 0),
        title=str(d.get("title") or ""),
        body=str(d.get("body") or ""),
        base_sha=str(base.get("sha") or ""),
        head_sha=str(head.get("sha") or ""),
        base_ref=str(base.get("ref") or ""),
        head_ref=str(head.get("ref") or ""),
        author=str(_obj(d.get("user")).get("login") or ""),
        draft=bool(d.get("draft")),
        state=str(d.get("state") or "open"),
        # A deleted fork has head.repo == null. `head.repo.fork` is no signal: a same-repo PR inside a fork
        # has it too. Unknown counts as a fork, the safe side (read-only token, no secrets).
        is_fork=head_repo is None or head_repo != base_repo,
        html_url=str(d.get("html_url") or ""),
        changed_files=_int_or_none(d.get("changed_files")),
        additions=_int_or_none(d.get("additions")),
        deletions=_int_or_none(d.get("deletions")),
    )


def graphql_url(api_url: str) -> str:
    """https://api.github.com -> .../graphql; GHES https://host/api/v3 -> https://host/api/graphql."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


class GitHub:
    """A small GitHub REST client for one repository. Every request is counted in `requests_made`."""

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
    ) -> None:
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.repo = repo
        self._origin = _origin(self.api_url)
        self._own_session = session is None
        self._session = session or requests.Session()
        self._sleep, self._clock = sleep, clock
        self._deadline = clock() + time_budget
        self._timeout = timeout
        self._random = random.Random()  # noqa: S311 - jitter, not cryptography
        self.requests_made = 0
        self._login: str | None = None

    def __repr__(self) -> str:
        return f"GitHub(api_url={self.api_url!r}, repo={self.repo!r})"

    def close(self) -> None:
        if self._own_session:
            self._session.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pull requests ---------------------------------------------------------------------------------

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

    def blob_sha(self, path: str, ref: str) -> str | None:
        """The blob id of a file at `ref` (the contents API's `sha`), or None when no file is there.

        The object media type answers files up to 100 MB (content left out past 1 MB)."""
        resp = self._request("GET", self._url(f"contents/{quote(path, safe='/')}"), params={"ref": ref},
                             accept="application/vnd.github.object+json", passthrough=_is_404)
        if resp.status_code == 404:
            return None
        data = _obj(_decode(resp))
        return str(data.get("sha") or "") or None if data.get("type") == "file" else None

    def get_compare_diff(self, base: str, head: str) -> str | None:
        """The unified diff of `base...head` (from their merge base), or None when GitHub will not render it."""
        return self._diff(f"compare/{quote(base, safe='')}...{quote(head, safe='')}")

    def _diff(self, path: str) -> str | None:
        """GET with the diff media type; None when GitHub refuses to render it (406 and its kin)."""
        resp = self._request("GET", self._url(path), accept="application/vnd.github.diff",
                             passthrough=_diff_unavailable)
        if _diff_unavailable(resp):
            log.info("GitHub will not render the diff of %s (HTTP %d)", path, resp.status_code)
            return None
        return resp.content.decode("utf-8", errors="replace")

    def get_text(self, path: str, ref: str) -> str | None:
        """A file's text at `ref`, or None when it does not exist there."""
        resp = self._request(
            "GET",
            self._url(f"contents/{quote(path, safe='/')}"),
            params={"ref": ref},
            accept="application/vnd.github.raw+json",
            passthrough=_is_404,
        )
        if resp.status_code == 404:
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

    # -- who we are ------------------------------------------------------------------------------------

    def own_login(self) -> str:
        """The account our comments are written by, asked once: the only author whose comments we edit.

        An installation token (`ghs_`: the workflow's token, a GitHub App's) cannot call GET /user; the
        workflow's writes as github-actions[bot]. A user token (a PAT) writes as its user, from GET /user.
        A comment this client creates names its author, which then overrides the guess (an App's bot)."""
        if self._login is None:
            self._login = WORKFLOW_BOT
            if not self._token.startswith(INSTALLATION_TOKEN_PREFIX):
                try:
                    login = _obj(_decode(self._request("GET", f"{self.api_url}/user"))).get("login")
                except GitHubError as exc:
                    log.info("GET /user failed (%s); our comments are those of %s", exc, WORKFLOW_BOT)
                else:
                    self._login = str(login) if isinstance(login, str) and login else WORKFLOW_BOT
        return self._login

    def _learn_login(self, login: str) -> None:
        if login:
            self._login = login

    # -- conversation comments -------------------------------------------------------------------------

    def list_issue_comments(self, number: int) -> list[Comment]:
        return [_comment(c) for c in self._paginate(f"issues/{number}/comments")]

    def create_issue_comment(self, number: int, body: str) -> Comment:
        comment = _comment(
            self._json(
                "POST",
                f"issues/{number}/comments",
                json={"body": body},
                permission="pull-requests: write",
                resend=False,
            )
        )
        self._learn_login(comment.user_login)
        return comment

    def update_issue_comment(self, comment_id: int, body: str) -> Comment:
        return _comment(
            self._json(
                "PATCH",
                f"issues/comments/{comment_id}",
                json={"body": body},
                permission="pull-requests: write",
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

    # -- reviews -----------------------------------------------------------------------------------------

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

    # -- checks, permissions, GraphQL ----------------------------------------------------------------------

    def create_check_run(
        self,
        head_sha: str,
        name: str,
        *,
        status: str,
        output: dict[str, Any] | None = None,
        conclusion: str | None = None,
    ) -> int:
        payload: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": status}
        if output is not None:
            payload["output"] = output
        if conclusion is not None:
            payload["conclusion"] = conclusion
        return int(self._json("POST", "check-runs", json=payload, permission="checks: write")["id"])

    def update_check_run(self, check_run_id: int, **fields: Any) -> CheckRun:
        """PATCH a check run; annotations in `output` are appended by GitHub, 50 per request at most."""
        data = self._json("PATCH", f"check-runs/{check_run_id}", json=fields, permission="checks: write")
        return CheckRun(id=int(data.get("id") or check_run_id))

    def get_permission(self, login: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        resp = self._request(
            "GET", self._url(f"collaborators/{quote(login, safe='')}/permission"), passthrough=_is_404
        )
        if resp.status_code == 404:  # not a user GitHub knows: no permission at all
            return "none"
        data = _obj(_decode(resp))
        # `permission` folds maintain into write and triage into read; `role_name` is exact (when present).
        role = str(data.get("role_name") or data.get("permission") or "none")
        return role if role in _PERMISSIONS else "none"

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL query and return its `data`; GraphQL `errors` (sent with HTTP 200) raise."""
        resp = self._request(
            "POST", graphql_url(self.api_url), json={"query": query, "variables": dict(variables or {})}
        )
        body = _obj(_decode(resp))
        if body.get("errors"):
            messages = "; ".join(str(_obj(e).get("message") or e) for e in body["errors"])
            raise GitHubError(self._scrub(f"GitHub GraphQL query failed: {messages}"), resp.status_code)
        return _obj(body.get("data"))

    def paths_exist(self, sha: str, paths: Sequence[str]) -> dict[str, bool]:
        """Which of ``paths`` exist in the repository at commit ``sha``: one GraphQL query whatever their number,
        a few bytes of answer per path (a recursive tree listing would read the whole tree). A path the
        answer does not cover is left out (unknown)."""
        if not paths:
            return {}
        owner, _, name = self.repo.partition("/")
        params = "".join(f", $e{i}: String!" for i in range(len(paths)))
        fields = " ".join(f"p{i}: object(expression: $e{i}) {{ __typename }}" for i in range(len(paths)))
        query = (f"query HeadPaths($owner: String!, $name: String!{params}) "
                 f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}")
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"e{i}": f"{sha}:{path}" for i, path in enumerate(paths)})
        found = self.graphql(query, variables).get("repository")
        if not isinstance(found, dict):
            return {}
        return {path: found[f"p{i}"] is not None for i, path in enumerate(paths) if f"p{i}" in found}

    # -- transport -----------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.api_url}/repos/{self.repo}/{path}"

    def _json(
        self, method: str, path: str, *, json: Any = None, permission: str | None = None, resend: bool = True
    ) -> Any:
        resp = self._request(method, self._url(path), json=json, permission=permission, resend=resend)
        return _decode(resp) if resp.content else {}

    def _paginate(self, path: str, *, limit: int = MAX_PAGES * PER_PAGE) -> list[dict[str, Any]]:
        """Every item of a list endpoint: follows the Link header (GitHub may switch URL forms mid-way)."""
        url: str | None = self._url(path)
        params: dict[str, Any] | None = {"per_page": PER_PAGE}
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            assert url is not None
            resp = self._request("GET", url, params=params)
            batch = _decode(resp)
            if not isinstance(batch, list):
                raise GitHubError(
                    f"GitHub returned {type(batch).__name__} for the list {path}", resp.status_code
                )
            items.extend(b for b in batch if isinstance(b, dict))
            if len(items) >= limit:
                return items[:limit]
            url, params = resp.links.get("next", {}).get("url"), None
            if url is None and "Link" not in resp.headers and len(batch) == PER_PAGE:
                # No Link header at all (a proxy stripped it?): a full page may have a successor.
                url, params = self._url(path), {"per_page": PER_PAGE, "page": page + 1}
            if url is None:
                return items
            if _origin(url) != self._origin:
                raise GitHubError(
                    f"GitHub's Link header points to another host ({_origin(url)}); not followed."
                )
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


def _diff_unavailable(resp: requests.Response) -> bool:
    """406 for the diff media type, or a 422/5xx whose text says the diff is too large to render."""
    if resp.status_code == 406:
        return True
    if resp.status_code not in (422, 500, 502, 503):
        return False
    text = _message(resp).lower()
    return "too_large" in text or "too large" in text or "too long" in text or "diff exceeded" in text


def _is_404(resp: requests.Response) -> bool:
    return resp.status_code == 404


def _decode(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise GitHubError(
            f"GitHub returned non-JSON for {urlsplit(resp.url or '').path}", resp.status_code
        ) from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _obj(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _login(d: Mapping[str, Any]) -> str:
    return str(_obj(d.get("user")).get("login") or "")


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


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


def _comment(d: Mapping[str, Any]) -> Comment:
    user = _obj(d.get("user"))
    return Comment(
        id=int(d["id"]),
        body=str(d.get("body") or ""),
        user_login=str(user.get("login") or ""),
        user_type=str(user.get("type") or ""),
    )


def _review_comment(d: Mapping[str, Any]) -> ReviewComment:
    return ReviewComment(
        id=int(d["id"]),
        body=str(d.get("body") or ""),
        path=str(d.get("path") or ""),
        line=_int_or_none(d.get("line")),
        side=str(d["side"]) if d.get("side") else None,
        user_login=_login(d),
        in_reply_to_id=_int_or_none(d.get("in_reply_to_id")),
        pull_request_review_id=_int_or_none(d.get("pull_request_review_id")),
    )
