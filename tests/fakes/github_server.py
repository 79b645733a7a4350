"""A stateful fake of the GitHub REST API for one repository, on a threaded stdlib HTTP server (stdlib only).

In tests: ``with FakeGitHub() as gh: gh.add_pull(...)``, point GITHUB_API_URL at ``gh.url``, then read
``gh.posted_reviews``, ``gh.issue_comments``, ``gh.check_runs``... It validates like the real API where our
code can get it wrong (review anchors outside the diff, size limits, the bearer token) and answers with
GitHub's error shapes. Standalone: ``python tests/fakes/github_server.py --port 0 [--setup state.json]``
prints ``READY <url>`` once it listens and serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import json
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

# Limits the real API enforces; the same numbers as in qodo_review.github, repeated so the fake stays
# independent of the code it tests.
# Real 422: "Body is too long (maximum is 65536 characters)" (issue comments, review comments, reviews).
MAX_COMMENT_CHARS = 65536
# Real 422: "Invalid request.\n\nOnly 65535 characters are allowed; 68338 were supplied." (check-run output).
MAX_CHECK_OUTPUT_CHARS = 65535
# OpenAPI `checks/create`: "a maximum of 50 [annotations] per API request".
MAX_ANNOTATIONS_PER_REQUEST = 50
# OpenAPI `pulls/list-files`: "per_page ... (max 100, default 30)"; "a maximum of 3000 files".
DEFAULT_PER_PAGE, MAX_PER_PAGE, MAX_PR_FILES = 30, 100, 3000

DOCS = "https://docs.github.com/rest"
REACTIONS = frozenset({"+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"})
ROLES = ("admin", "maintain", "write", "triage", "read", "none")
# The `permission` field of the collaborator API predates roles: maintain reads as write, triage as read.
LEGACY_PERMISSION = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}
# GitHub's own 406 body for a PR too large for the diff media type (seen in the wild, e.g. cpp-linter#249).
DIFF_TOO_LARGE = {
    "message": "Sorry, the diff exceeded the maximum number of files (300). Consider using "
    "'List pull requests files' API or locally cloning the repository instead.",
    "errors": [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
    "documentation_url": f"{DOCS}/pulls/pulls#list-pull-requests-files",
    "status": "406",
}
# Review-thread messages as GitHub words them (parkerbxyz/suggest-changes#64, pr-agent#592); GitHub joins
# several with ", " / " and ". "precede" is our approximation: no real recording of that case was found.
THREAD_PATH_INVALID = "Pull request review thread path is invalid"
THREAD_LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
THREAD_START_OTHER_HUNK = "Pull request review thread start line must be part of the same hunk as the line."
THREAD_START_AFTER_END = "Pull request review thread start line must precede the end line."
THREAD_HUNK_BLANK = "Pull request review thread diff hunk can't be blank"
ONE_PENDING_REVIEW = "User can only have one pending review per pull request"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case, the API prefix is stripped."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes = b""

    @property
    def writes(self) -> bool:
        """Whether the request changes something: any but a GET, save a GraphQL query (a read sent by POST)."""
        if self.method == "GET":
            return False
        query = str(self.json.get("query", "")) if isinstance(self.json, dict) else ""
        return not (self.path.endswith("/graphql") and query.lstrip().startswith("query"))


@dataclass
class Fault:
    method: str
    path_regex: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a route to answer with GitHub's error shape."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status, self.body = status, body


def unprocessable(*errors: Any, message: str = "Unprocessable Entity", doc: str = "") -> ApiError:
    return ApiError(
        422,
        {"message": message, "errors": list(errors), "documentation_url": f"{DOCS}{doc}", "status": "422"},
    )


def not_found() -> ApiError:
    return ApiError(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})


# --- the diff model the fake validates against ----------------------------------------------------------


@dataclass
class DiffFile:
    path: str
    old_path: str
    status: str = "modified"
    hunks: list[tuple[set[int], set[int]]] = field(default_factory=list)  # (LEFT lines, RIGHT lines)
    patch_lines: list[str] = field(default_factory=list)
    additions: int = 0
    deletions: int = 0

    def hunk_of(self, side: str, line: int) -> int | None:
        for index, (left, right) in enumerate(self.hunks):
            if line in (left if side == "LEFT" else right):
                return index
        return None


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


_QUOTED_PAIR = re.compile(r'^"((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$')


def _git_paths(rest: str) -> tuple[str, str]:
    """The a/ and b/ paths of a "diff --git" line; git C-quotes unusual names ("a/\\346\\227\\245.txt")."""
    if m := _QUOTED_PAIR.match(rest):
        old, new = (
            p.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8")
            for p in m.groups()
        )
    else:
        old, _, new = rest.partition(" b/")
        new = "b/" + new
    return old.removeprefix("a/"), new.removeprefix("b/")


def parse_diff(text: str) -> dict[str, DiffFile]:
    """Files → hunks → the line numbers present on each side. Hunk bodies are read by their header counts,
    so diffs inside diffs ("+--- a/x") are not mistaken for headers. Splits on "\\n" only."""
    files: dict[str, DiffFile] = {}
    current: DiffFile | None = None
    old_left = new_left = 0
    old_no = new_no = 0
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if current is not None and (old_left > 0 or new_left > 0):
            left, right = current.hunks[-1]
            current.patch_lines.append(line)
            if line.startswith("\\"):
                continue
            kind = line[:1]
            if kind in (" ", ""):
                left.add(old_no)
                right.add(new_no)
                old_no, new_no, old_left, new_left = old_no + 1, new_no + 1, old_left - 1, new_left - 1
            elif kind == "-":
                left.add(old_no)
                old_no, old_left = old_no + 1, old_left - 1
                current.deletions += 1
            elif kind == "+":
                right.add(new_no)
                new_no, new_left = new_no + 1, new_left - 1
                current.additions += 1
            continue
        if line.startswith("diff --git "):
            old, new = _git_paths(line[len("diff --git ") :])
            current = DiffFile(path=new, old_path=old)
            files[new] = current
        elif current is None:
            continue
        elif line.startswith("new file mode"):
            current.status = "added"
        elif line.startswith("deleted file mode"):
            current.status = "removed"
        elif line.startswith("rename from "):
            current.status, current.old_path = "renamed", line[len("rename from ") :]
        elif line.startswith("\\") and current.patch_lines:
            current.patch_lines.append(line)
        elif m := _HUNK.match(line):
            old_no, new_no = int(m[1]), int(m[3])
            old_left = 1 if m[2] is None else int(m[2])
            new_left = 1 if m[4] is None else int(m[4])
            current.hunks.append((set(), set()))
            current.patch_lines.append(line)
    return files


def files_json(diff: dict[str, DiffFile]) -> list[dict[str, Any]]:
    """The `pulls/{n}/files` rows GitHub would derive from this diff."""
    rows = []
    for f in diff.values():
        row: dict[str, Any] = {
            "sha": hashlib.sha1(f.path.encode(), usedforsecurity=False).hexdigest(),
            "filename": f.path,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
        }
        if f.patch_lines:
            row["patch"] = "\n".join(f.patch_lines)
        if f.status == "renamed":
            row["previous_filename"] = f.old_path
        rows.append(row)
    return rows


def line_texts(diff_text: str) -> dict[tuple[str, str, int], str]:
    """(path, side, line number) -> the line's text, for every line a diff shows."""
    out: dict[tuple[str, str, int], str] = {}
    for f in parse_diff(diff_text).values():
        old_no = new_no = 0
        for line in f.patch_lines:
            if m := _HUNK.match(line):
                old_no, new_no = int(m[1]), int(m[3])
                continue
            kind, text = line[:1], line[1:]
            if kind in (" ", "", "-"):
                out[(f.path, "LEFT", old_no)] = text
                old_no += 1
            if kind in (" ", "", "+"):
                out[(f.path, "RIGHT", new_no)] = text
                new_no += 1
    return out


def anchor_error(diff: dict[str, DiffFile], c: dict[str, Any]) -> str | None:
    """Why GitHub would reject this review comment's anchor, or None when it is inside the diff."""
    f = diff.get(str(c.get("path")))
    if f is None:
        return f"{THREAD_PATH_INVALID} and {THREAD_HUNK_BLANK}"
    if c.get("subject_type") == "file":
        return None
    if c.get("line") is None and c.get("position") is not None:
        # `position` counts the lines below the file's first "@@", later hunk headers included.
        count = len(f.patch_lines) - 1
        return None if isinstance(c["position"], int) and 1 <= c["position"] <= count else THREAD_HUNK_BLANK
    side = str(c.get("side") or "RIGHT").upper()  # GitHub accepts "right" too
    line = c.get("line")
    if not isinstance(line, int):
        return f"{THREAD_LINE_NOT_IN_DIFF} and {THREAD_HUNK_BLANK}"
    hunk = f.hunk_of(side, line)
    if hunk is None:
        return f"{THREAD_LINE_NOT_IN_DIFF} and {THREAD_HUNK_BLANK}"
    if c.get("start_line") is None:
        return None
    start_side = str(c.get("start_side") or side).upper()
    start = c["start_line"]
    if not isinstance(start, int) or f.hunk_of(start_side, start) != hunk:
        return THREAD_START_OTHER_HUNK
    if start_side == side and start >= line:
        return THREAD_START_AFTER_END
    return None


# --- the server -------------------------------------------------------------------------------------------


class FakeGitHub:
    """The REST API of one repository, in memory, recording every request."""

    def __init__(
        self,
        token: str = "ghs_fake-token",
        *,
        port: int = 0,
        repo: str = "owner/repo",
        api_prefix: str = "",
        bot_login: str = "github-actions[bot]",
    ) -> None:
        self.token = token
        self.repo = repo
        self.api_prefix = api_prefix.rstrip("/")  # "/api/v3" looks like GitHub Enterprise Server
        self.bot_login = bot_login  # the author of everything our client creates
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # exceptions inside the fake itself: a test should assert this is empty
        self.graphql_response: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] = {"data": {}}
        self.graphql_calls: list[dict[str, Any]] = []  # every query but the viewer's (viewer_calls counts those)
        self.viewer_calls = 0
        self.body_updates: list[tuple[int, str]] = []
        self._pulls: dict[int, dict[str, Any]] = {}
        self._issues: dict[int, dict[str, Any]] = {}  # plain issues (pull requests are issues too when listed)
        self._files: dict[tuple[str, str], str] = {}
        self._permissions: dict[str, str] = {}
        self._comments: list[dict[str, Any]] = []
        self._reviews: list[dict[str, Any]] = []
        self._review_comments: list[dict[str, Any]] = []
        self._check_runs: list[dict[str, Any]] = []
        self._reactions: list[dict[str, Any]] = []
        self._resolved: dict[int, str] = {}  # review comment id -> who resolved the thread it starts
        self._labels: dict[int, list[str]] = {}
        self._compares: dict[tuple[str, str], tuple[str, str]] = {}  # (base, head) -> (status, diff text)
        self._trees: dict[str, frozenset[str]] = {}  # commit -> every path (files and directories) in its tree
        self._merge_bases: dict[tuple[str, str], str] = {}
        self._faults: list[Fault] = []
        self._next_id = 1000
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._routes = self._route_table()

    # -- lifecycle ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API root to use as GITHUB_API_URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.api_prefix}"

    @property
    def graphql_path(self) -> str:
        return "/api/graphql" if self.api_prefix.endswith("/api/v3") else f"{self.api_prefix}/graphql"

    def start(self) -> FakeGitHub:
        # A short poll interval: shutdown() waits for the next poll, and tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="fake-github", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- arranging state ----------------------------------------------------------------------------------

    def add_pull(
        self,
        number: int,
        title: str,
        body: str | None,
        base_sha: str,
        head_sha: str,
        diff_text: str,
        files: list[dict[str, Any]] | None = None,
        user: str = "alice",
        draft: bool = False,
        head_repo: str | None = None,
        *,
        state: str = "open",
        base_ref: str = "main",
        head_ref: str = "feature",
        diff_too_large: bool = False,
    ) -> None:
        """A PR; head_repo names a fork ("alice/repo"), None means a branch of this repository.
        diff_too_large makes the diff media type answer 406, as GitHub does past 300 files / 20,000 lines."""
        diff = parse_diff(diff_text)
        with self._lock:
            self._pulls[number] = {
                "number": number,
                "title": title,
                "body": body,
                "base_sha": base_sha,
                "head_sha": head_sha,
                "diff_text": diff_text,
                "diff": diff,
                "files": files if files is not None else files_json(diff),
                "user": user,
                "draft": draft,
                "head_repo": head_repo or self.repo,
                "state": state,
                "base_ref": base_ref,
                "head_ref": head_ref,
                "diff_too_large": diff_too_large,
            }

    def add_issue(
        self,
        number: int,
        title: str,
        body: str | None = "",
        *,
        state: str = "open",
        state_reason: str | None = None,
        labels: Iterable[str] = (),
        user: str | None = "alice",
        locked: bool = False,
        created_at: str = "",
    ) -> None:
        """A plain issue. user None is a deleted account (GitHub shows its issues under the ghost user or
        null); created_at defaults to one hour per number after 2020-01-01, so newer numbers are newer."""
        with self._lock:
            self._issues[number] = {
                "number": number,
                "title": title,
                "body": body,
                "state": state,
                "state_reason": state_reason,
                "labels": list(labels),
                "user": user,
                "locked": locked,
                "created_at": created_at or _created(number),
            }

    def set_file(self, path: str, ref: str, text: str) -> None:
        with self._lock:
            self._files[(path, ref)] = text

    def set_tree(self, sha: str, paths: Iterable[str]) -> None:
        """The files of a commit's tree, for GraphQL's `object(expression: "sha:path")` (and their directories)."""
        every = set()
        for path in paths:
            parts = path.split("/")
            every.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        self._trees[sha] = frozenset(every)

    def _head_paths(self, req: RecordedRequest) -> dict[str, Any] | None:
        """GraphQL's answer to the client's HeadPaths query, from set_tree; None when not that query or no tree."""
        body = req.json if isinstance(req.json, dict) else {}
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if not query.startswith("query HeadPaths(") or not isinstance(variables, dict):
            return None
        if f"{variables.get('owner')}/{variables.get('name')}" != self.repo:
            return {"data": {"repository": None}, "errors": [{"type": "NOT_FOUND", "message": "no such repository"}]}
        answers: dict[str, Any] = {}
        for alias, var in re.findall(r"(p\d+): object\(expression: \$(e\d+)\)", query):
            sha, _, path = str(variables.get(var, "")).partition(":")
            if sha not in self._trees:
                return None
            answers[alias] = {"__typename": "Blob"} if path in self._trees[sha] else None
        return {"data": {"repository": answers}}

    def resolve_thread(self, comment_id: int, by: str) -> None:
        """A person (or an app) resolves the review thread that this comment starts."""
        with self._lock:
            self._resolved[comment_id] = by

    def add_reaction(self, comment_id: int, content: str, user: str, *, review_comment: bool = True) -> None:
        """Someone reacts to a comment (a review comment unless review_comment is False)."""
        with self._lock:
            self._reactions.append(
                {
                    "id": self._id(),
                    "subject": "review_comment" if review_comment else "issue_comment",
                    "comment_id": comment_id,
                    "content": content,
                    "user": {"login": user, "type": "Bot" if user.endswith("[bot]") else "User"},
                }
            )

    def _dismissed_threads(self, req: RecordedRequest) -> dict[str, Any] | None:
        """GraphQL's reviewThreads for the client's DismissedThreads query, from this fake's review comments:
        one thread per top-level comment, resolved by whom resolve_thread said (GitHub answers resolvedBy null
        for an app), with the first comment's 👎 reactions; 100 threads a page, as the query asks."""
        body = req.json if isinstance(req.json, dict) else {}
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if not query.startswith("query DismissedThreads(") or not isinstance(variables, dict):
            return None
        number = variables.get("number")
        firsts = [c for c in self._review_comments if c["pull_number"] == number and c["in_reply_to_id"] is None]
        start = int(variables.get("cursor") or 0)
        nodes = []
        for c in firsts[start : start + 100]:
            who = self._resolved.get(c["id"])
            downs = [
                {"user": {"login": r["user"]["login"]}}
                for r in self._reactions
                if r["subject"] == "review_comment" and r["comment_id"] == c["id"] and r["content"] == "-1"
            ]
            nodes.append(
                {
                    "isResolved": who is not None,
                    "resolvedBy": {"login": who} if who and not who.endswith("[bot]") else None,
                    "comments": {"nodes": [{"databaseId": c["id"], "reactions": {"nodes": downs}}]},
                }
            )
        more = start + 100 < len(firsts)
        page = {"hasNextPage": more, "endCursor": str(start + 100) if more else None}
        return {"data": {"repository": {"pullRequest": {"reviewThreads": {"pageInfo": page, "nodes": nodes}}}}}

    def set_compare(self, base: str, head: str, diff_text: str, status: str = "ahead", merge_base: str = "") -> None:
        """What `compare/{base}...{head}` answers: GitHub's status (ahead, behind, diverged, identical),
        the diff from the merge base, and that commit (`merge_base_commit`, base itself unless given).
        An unknown pair is a 404, as for a commit GitHub no longer has."""
        with self._lock:
            self._compares[(base, head)] = (status, diff_text)
            self._merge_bases[(base, head)] = merge_base or base

    def set_head(self, number: int, head_sha: str, diff_text: str) -> None:
        """A push to the PR: a new head and diff. Like GitHub, an inline comment follows its line when the
        code around it only shifted (the same text, found once, on another line), and becomes outdated
        when its line changed or left the diff: `line` turns null, `original_line` keeps the old number."""
        with self._lock:
            pull = self._pulls[number]
            old, new = line_texts(pull["diff_text"]), line_texts(diff_text)
            pull.update(head_sha=head_sha, diff_text=diff_text, diff=parse_diff(diff_text))
            pull["files"] = files_json(pull["diff"])
            for c in self._review_comments:
                if c["pull_number"] != number or c["line"] is None:
                    continue
                anchors = [(c["path"], c["side"], c["line"])]
                if c.get("start_line") is not None:
                    anchors.append((c["path"], c.get("start_side") or c["side"], c["start_line"]))
                if all(a in new and new[a] == old.get(a) for a in anchors):
                    continue
                text = old.get(anchors[0])
                moved = [k[2] for k, v in new.items() if k[:2] == anchors[0][:2] and v == text]
                if len(anchors) == 1 and text is not None and len(moved) == 1:
                    c["line"] = moved[0]
                else:
                    c["line"] = c["position"] = c["start_line"] = None

    def set_permission(self, login: str, perm: str) -> None:
        if perm not in ROLES:
            raise ValueError(f"permission must be one of {ROLES}")
        with self._lock:
            self._permissions[login] = perm

    def add_issue_comment(self, number: int, body: str, user: str = "alice", user_type: str = "User") -> int:
        """An existing conversation comment (for example one left by an earlier run)."""
        with self._lock:
            return int(self._new_issue_comment(number, body, user, user_type)["id"])

    def add_review_comment(
        self,
        number: int,
        path: str,
        line: int,
        body: str,
        side: str = "RIGHT",
        user: str = "alice",
        user_type: str = "User",
        in_reply_to: int | None = None,
    ) -> int:
        """An existing inline comment, in a review of its own, without anchor validation; with
        in_reply_to, a reply in that comment's thread."""
        with self._lock:
            review = self._new_review(number, "", "COMMENTED", self._pulls[number]["head_sha"], user, user_type)
            comment = self._new_review_comment(
                number,
                review["id"],
                {"path": path, "line": line, "side": side, "body": body},
                user,
                user_type,
            )
            comment["in_reply_to_id"] = in_reply_to
            return int(comment["id"])

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Make the next `times` requests matching method (or "*") and path_regex (searched) fail."""
        with self._lock:
            self._faults.append(Fault(method.upper(), re.compile(path_regex), status, times, dict(headers or {}), body))

    # -- reading state ------------------------------------------------------------------------------------

    def find(self, method: str, path_regex: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and re.search(path_regex, r.path)]

    def pull(self, number: int) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({k: v for k, v in self._pulls[number].items() if k != "diff"})

    @property
    def posted_reviews(self) -> list[dict[str, Any]]:
        """Stored reviews (rejected ones never are), each with its inline `comments`."""
        with self._lock:
            return [
                dict(
                    copy.deepcopy(r),
                    comments=[
                        copy.deepcopy(c) for c in self._review_comments if c["pull_request_review_id"] == r["id"]
                    ],
                )
                for r in self._reviews
            ]

    @property
    def review_comments(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._review_comments)

    @property
    def issue_comments(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._comments)

    @property
    def check_runs(self) -> list[dict[str, Any]]:
        """Check runs with their accumulated `annotations` and the raw `updates` (PATCH bodies)."""
        with self._lock:
            return copy.deepcopy(self._check_runs)

    @property
    def reactions(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._reactions)

    @property
    def labels(self) -> dict[int, list[str]]:
        with self._lock:
            return copy.deepcopy(self._labels)

    # -- request handling ---------------------------------------------------------------------------------

    def handle(self, req: RecordedRequest) -> Reply:
        with self._lock:
            self.requests.append(req)
            fault = next(
                (
                    f
                    for f in self._faults
                    if f.times > 0 and f.method in ("*", req.method) and f.path_regex.search(req.path)
                ),
                None,
            )
            if fault is not None:
                fault.times -= 1
                body = fault.body if fault.body is not None else {"message": HTTPStatus(fault.status).phrase}
                text = body if isinstance(body, str) else None
                return Reply(fault.status, None if text is not None else body, text, fault.headers)
            if req.headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
                return Reply(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
            try:
                return self._dispatch(req)
            except ApiError as exc:
                return Reply(exc.status, exc.body)
            except Exception as exc:  # a bug in the fake: answer 500 and remember it for the test
                self.errors.append(f"{req.method} {req.path}: {exc!r}")
                return Reply(500, {"message": f"fake GitHub crashed: {exc!r}"})

    def _dispatch(self, req: RecordedRequest) -> Reply:
        if req.method == "POST" and req.path == self.graphql_path.removeprefix(self.api_prefix):
            query = str(req.json.get("query", "")) if isinstance(req.json, dict) else ""
            if query.startswith("query Viewer"):  # the token's account: what GitHub answers any token with
                self.viewer_calls += 1
                return Reply(200, {"data": {"viewer": {"login": self.bot_login}}})
            self.graphql_calls.append(req.json if isinstance(req.json, dict) else {})
            if (paths := self._head_paths(req)) is not None:
                return Reply(200, paths)
            if (threads := self._dismissed_threads(req)) is not None:
                return Reply(200, threads)
            answer = self.graphql_response
            return Reply(200, answer(req.json) if callable(answer) else answer)
        if req.method == "GET" and req.path == "/user":
            if self.token.startswith("ghs_"):  # installation tokens (the workflow's) cannot read /user
                raise ApiError(403, {"message": "Resource not accessible by integration", "status": "403"})
            return Reply(200, {"login": self.bot_login, "type": "User"})
        prefix = f"/repos/{self.repo}/"
        if not req.path.startswith(prefix):
            raise not_found()
        rest = req.path[len(prefix) :]
        for method, pattern, route in self._routes:
            m = pattern.fullmatch(rest)
            if m and method == req.method:
                return route(req, *m.groups())
        raise not_found()

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply]]]:
        table: list[tuple[str, str, Callable[..., Reply]]] = [
            ("GET", r"pulls/(\d+)", self._get_pull),
            ("PATCH", r"pulls/(\d+)", self._patch_pull),
            ("GET", r"pulls/(\d+)/files", self._list_files),
            ("GET", r"contents/(.+)", self._get_contents),
            ("GET", r"issues", self._list_issues),
            ("GET", r"issues/(\d+)", self._get_issue),
            ("GET", r"git/trees/([^/]+)", self._get_tree),
            ("GET", r"issues/(\d+)/comments", self._list_issue_comments),
            ("POST", r"issues/(\d+)/comments", self._create_issue_comment),
            ("GET", r"issues/comments/(\d+)", self._get_issue_comment),
            ("PATCH", r"issues/comments/(\d+)", self._update_issue_comment),
            ("POST", r"issues/comments/(\d+)/reactions", self._react_issue_comment),
            ("POST", r"pulls/comments/(\d+)/reactions", self._react_review_comment),
            ("GET", r"pulls/(\d+)/reviews", self._list_reviews),
            ("POST", r"pulls/(\d+)/reviews", self._create_review),
            ("DELETE", r"pulls/(\d+)/reviews/(\d+)", self._delete_review),
            ("GET", r"pulls/(\d+)/comments", self._list_review_comments),
            ("POST", r"pulls/(\d+)/comments/(\d+)/replies", self._reply),
            ("POST", r"check-runs", self._create_check_run),
            ("PATCH", r"check-runs/(\d+)", self._update_check_run),
            ("GET", r"collaborators/([^/]+)/permission", self._get_permission),
            ("POST", r"issues/(\d+)/labels", self._add_labels),
            ("GET", r"compare/([^/]+)\.\.\.([^/]+)", self._compare),
        ]
        return [(method, re.compile(pattern), route) for method, pattern, route in table]

    # -- routes: pull requests and contents ---------------------------------------------------------------

    def _pull(self, number: str) -> dict[str, Any]:
        pull = self._pulls.get(int(number))
        if pull is None:
            raise not_found()
        return pull

    def _pull_json(self, p: dict[str, Any]) -> dict[str, Any]:
        owner = self.repo.split("/")[0]
        html = f"https://github.com/{self.repo}/pull/{p['number']}"

        def branch(ref: str, sha: str, repo: str) -> dict[str, Any]:
            return {
                "label": f"{repo.split('/')[0]}:{ref}",
                "ref": ref,
                "sha": sha,
                "repo": {
                    "full_name": repo,
                    "name": repo.split("/")[1],
                    "owner": {"login": repo.split("/")[0]},
                    "fork": repo != self.repo,
                },
            }

        return {
            "url": f"{self.url}/repos/{self.repo}/pulls/{p['number']}",
            "id": p["number"] + 500000,
            "number": p["number"],
            "html_url": html,
            "diff_url": f"{html}.diff",
            "state": p["state"],
            "title": p["title"],
            "body": p["body"],
            "draft": p["draft"],
            "merged": False,
            "user": {"login": p["user"], "type": "User"},
            "base": branch(p["base_ref"], p["base_sha"], self.repo),
            "head": branch(p["head_ref"], p["head_sha"], p["head_repo"]),
            "changed_files": len(p["files"]),
            "additions": sum(int(f.get("additions") or 0) for f in p["files"]),
            "deletions": sum(int(f.get("deletions") or 0) for f in p["files"]),
            "author_association": "OWNER" if p["user"] == owner else "CONTRIBUTOR",
        }

    def _get_pull(self, req: RecordedRequest, number: str) -> Reply:
        pull = self._pull(number)
        if "diff" in req.headers.get("accept", ""):
            if pull["diff_too_large"]:
                return Reply(406, DIFF_TOO_LARGE)
            return Reply(
                200,
                text=pull["diff_text"],
                headers={"Content-Type": "application/vnd.github.diff; charset=utf-8"},
            )
        return Reply(200, self._pull_json(pull))

    def _patch_pull(self, req: RecordedRequest, number: str) -> Reply:
        pull, data = self._pull(number), self._body(req)
        for key in ("title", "body", "state"):
            if key in data:
                pull[key] = data[key]
        if "body" in data:
            self.body_updates.append((pull["number"], str(data["body"])))
        return Reply(200, self._pull_json(pull))

    def _compare(self, req: RecordedRequest, base: str, head: str) -> Reply:
        found = self._compares.get((unquote(base), unquote(head)))
        if found is None:
            raise not_found()
        status, diff_text = found
        if "diff" in req.headers.get("accept", ""):
            return Reply(200, text=diff_text, headers={"Content-Type": "application/vnd.github.diff; charset=utf-8"})
        files = files_json(parse_diff(diff_text))
        ahead = 0 if status in ("identical", "behind") else 1
        behind = 1 if status in ("behind", "diverged") else 0
        merge_base = self._merge_bases.get((unquote(base), unquote(head)), unquote(base))
        return Reply(
            200,
            {
                "status": status,
                "ahead_by": ahead,
                "behind_by": behind,
                "total_commits": ahead,
                "base_commit": {"sha": unquote(base)},
                "merge_base_commit": {"sha": merge_base},
                "commits": [],
                "files": files,
            },
        )

    def _list_files(self, req: RecordedRequest, number: str) -> Reply:
        return self._page(req, self._pull(number)["files"][:MAX_PR_FILES])

    def _get_contents(self, req: RecordedRequest, path: str) -> Reply:
        path, ref = unquote(path), req.query.get("ref", "main")
        text = self._files.get((path, ref))
        if text is None:
            entries = sorted({p for p, r in self._files if r == ref and p.startswith(path.rstrip("/") + "/")})
            if not entries:
                raise not_found()
            return Reply(200, [{"type": "file", "path": p, "name": p.rsplit("/", 1)[-1]} for p in entries])
        if "raw" in req.headers.get("accept", ""):
            return Reply(200, text=text, headers={"Content-Type": "application/vnd.github.raw; charset=utf-8"})
        data = text.encode()
        return Reply(
            200,
            {
                "type": "file",
                "encoding": "base64",
                "size": len(data),
                "sha": hashlib.sha1(b"blob %d\0%s" % (len(data), data), usedforsecurity=False).hexdigest(),
                "path": path,
                "name": path.rsplit("/", 1)[-1],
                "content": base64.b64encode(data).decode(),
            },
        )

    def _get_tree(self, req: RecordedRequest, sha: str) -> Reply:
        """`git/trees/{sha}?recursive=1`: the files set (set_file) at that commit, blobs with their sizes and
        ids, and their directories as tree entries, as GitHub lists them; 404 for a commit with no files."""
        sha = unquote(sha)
        files = {p: t.encode() for (p, ref), t in self._files.items() if ref == sha}
        if not files:
            raise not_found()
        recursive = req.query.get("recursive", "") not in ("", "0", "false")
        entries: list[dict[str, Any]] = []
        dirs = sorted({"/".join(p.split("/")[:i]) for p in files for i in range(1, p.count("/") + 1)})
        for d in dirs:
            if recursive or "/" not in d:
                entries.append({"path": d, "mode": "040000", "type": "tree", "sha": "0" * 40})
        for path, data in sorted(files.items()):
            if recursive or "/" not in path:
                blob = hashlib.sha1(b"blob %d\0%s" % (len(data), data), usedforsecurity=False).hexdigest()
                entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob, "size": len(data)})
        return Reply(
            200,
            {"sha": sha, "url": f"{self.url}/repos/{self.repo}/git/trees/{sha}", "tree": entries, "truncated": False},
        )

    def _get_permission(self, req: RecordedRequest, login: str) -> Reply:
        login = unquote(login)
        role = self._permissions.get(login, "read")
        return Reply(
            200,
            {
                "permission": LEGACY_PERMISSION[role],
                "role_name": role,
                "user": {"login": login, "type": "User"},
            },
        )

    def _add_labels(self, req: RecordedRequest, number: str) -> Reply:
        self._pull(number)
        data = req.json
        names = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(names, list) or not names:
            raise unprocessable(
                {"resource": "Label", "code": "missing_field", "field": "labels"}, message="Validation Failed"
            )
        labels = self._labels.setdefault(int(number), [])
        for name in names:
            name = name.get("name") if isinstance(name, dict) else name
            if name not in labels:
                labels.append(str(name))
        return Reply(200, [{"name": name} for name in labels])

    # -- routes: conversation comments and reactions ------------------------------------------------------

    def _conversation(self, number: str) -> None:
        """Comments live on pull requests and plain issues alike."""
        if int(number) not in self._issues:
            self._pull(number)

    def _issue_json(self, number: int) -> dict[str, Any]:
        """The issues API's shape, for a plain issue or (with a `pull_request` key) a pull request."""
        if number in self._issues:
            i = self._issues[number]
            user = i["user"]
            extra: dict[str, Any] = {}
        else:
            p = self._pulls[number]
            i = {**p, "state_reason": None, "labels": [], "locked": False, "created_at": _created(number)}
            user = p["user"]
            extra = {"pull_request": {"url": f"{self.url}/repos/{self.repo}/pulls/{number}"}}
        kind = "issues" if not extra else "pull"
        return {
            "id": number + 900000,
            "number": number,
            "title": i["title"],
            "body": i["body"],
            "state": i["state"],
            "state_reason": i["state_reason"],
            "labels": [{"name": name, "color": "ededed"} for name in i["labels"]],
            "user": {"login": user, "type": "User"} if user is not None else None,
            "locked": i["locked"],
            "comments": sum(1 for c in self._comments if c["issue_number"] == number),
            "created_at": i["created_at"],
            "html_url": f"https://github.com/{self.repo}/{kind}/{number}",
            **extra,
        }

    def _get_issue(self, req: RecordedRequest, number: str) -> Reply:
        if int(number) not in self._issues and int(number) not in self._pulls:
            raise not_found()
        return Reply(200, self._issue_json(int(number)))

    def _list_issues(self, req: RecordedRequest) -> Reply:
        """GET /issues: state (open, closed, all; default open), sort=created, direction (default desc)."""
        state = req.query.get("state") or "open"
        items = [self._issue_json(n) for n in {*self._issues, *self._pulls}]
        items = [i for i in items if state == "all" or i["state"] == state]
        items.sort(key=lambda i: (i["created_at"], i["number"]), reverse=req.query.get("direction") != "asc")
        return self._page(req, items)

    def _list_issue_comments(self, req: RecordedRequest, number: str) -> Reply:
        self._conversation(number)
        return self._page(req, [c for c in self._comments if c["issue_number"] == int(number)])

    def _create_issue_comment(self, req: RecordedRequest, number: str) -> Reply:
        self._conversation(number)
        body = self._comment_body(req, "issues/comments#create-an-issue-comment")
        return Reply(201, self._new_issue_comment(int(number), body, self.bot_login, "Bot"))

    def _issue_comment(self, comment_id: str) -> dict[str, Any]:
        found = next((c for c in self._comments if c["id"] == int(comment_id)), None)
        if found is None:
            raise not_found()
        return found

    def _get_issue_comment(self, req: RecordedRequest, comment_id: str) -> Reply:
        return Reply(200, self._issue_comment(comment_id))

    def _update_issue_comment(self, req: RecordedRequest, comment_id: str) -> Reply:
        comment = self._issue_comment(comment_id)
        comment["body"] = self._comment_body(req, "issues/comments#update-an-issue-comment")
        comment["updated_at"] = "2024-01-01T00:00:01Z"
        return Reply(200, comment)

    def _react_issue_comment(self, req: RecordedRequest, comment_id: str) -> Reply:
        self._issue_comment(comment_id)
        return self._react(req, "issue_comment", int(comment_id))

    def _react_review_comment(self, req: RecordedRequest, comment_id: str) -> Reply:
        if not any(c["id"] == int(comment_id) for c in self._review_comments):
            raise not_found()
        return self._react(req, "review_comment", int(comment_id))

    def _react(self, req: RecordedRequest, kind: str, comment_id: int) -> Reply:
        content = self._body(req).get("content")
        if content not in REACTIONS:
            raise unprocessable(
                {"resource": "Reaction", "code": "invalid", "field": "content"}, message="Validation Failed"
            )
        for existing in self._reactions:
            if (existing["subject"], existing["comment_id"], existing["content"]) == (
                kind,
                comment_id,
                content,
            ):
                return Reply(200, existing)  # GitHub answers 200 when the reaction already exists
        reaction = {
            "id": self._id(),
            "subject": kind,
            "comment_id": comment_id,
            "content": content,
            "user": {"login": self.bot_login, "type": "Bot"},
        }
        self._reactions.append(reaction)
        return Reply(201, reaction)

    # -- routes: reviews ----------------------------------------------------------------------------------

    def _list_reviews(self, req: RecordedRequest, number: str) -> Reply:
        self._pull(number)
        return self._page(req, [r for r in self._reviews if r["pull_number"] == int(number)])

    def _create_review(self, req: RecordedRequest, number: str) -> Reply:
        pull, data = self._pull(number), self._body(req)
        doc = "pulls/reviews#create-a-review-for-a-pull-request"
        states = {
            "COMMENT": "COMMENTED",
            "APPROVE": "APPROVED",
            "REQUEST_CHANGES": "CHANGES_REQUESTED",
            None: "PENDING",
        }
        event = data.get("event")
        if event not in states:
            raise unprocessable(f"Unknown event {event!r}", doc=doc)
        comments = data.get("comments") or []
        body = str(data.get("body") or "")
        if len(body) > MAX_COMMENT_CHARS or any(len(str(c.get("body") or "")) > MAX_COMMENT_CHARS for c in comments):
            raise unprocessable(f"Body is too long (maximum is {MAX_COMMENT_CHARS} characters)", doc=doc)
        if event is None and any(
            r["pull_number"] == pull["number"] and r["state"] == "PENDING" and r["user"]["login"] == self.bot_login
            for r in self._reviews
        ):
            raise unprocessable(ONE_PENDING_REVIEW, doc=doc)
        commit_id = data.get("commit_id") or pull["head_sha"]
        if commit_id != pull["head_sha"]:
            raise unprocessable("Commit could not be found", doc=doc)  # approximate wording
        # GitHub validates every anchor first and rejects the whole review: nothing is stored.
        reasons = [why for c in comments if (why := anchor_error(pull["diff"], c))]
        if reasons:
            raise unprocessable(", ".join(dict.fromkeys(reasons)), doc=doc)
        review = self._new_review(pull["number"], body, states[event], commit_id, self.bot_login, "Bot")
        for c in comments:
            self._new_review_comment(pull["number"], review["id"], c, self.bot_login, "Bot")
        return Reply(200, review)

    def _delete_review(self, req: RecordedRequest, number: str, review_id: str) -> Reply:
        review = next((r for r in self._reviews if r["id"] == int(review_id) and r["pull_number"] == int(number)), None)
        if review is None:
            raise not_found()
        if review["state"] != "PENDING":
            raise unprocessable(
                "Can not delete a non-pending pull request review",
                doc="pulls/reviews#delete-a-pending-review-for-a-pull-request",
            )
        self._reviews.remove(review)
        self._review_comments[:] = [c for c in self._review_comments if c["pull_request_review_id"] != review["id"]]
        return Reply(200, review)

    def _list_review_comments(self, req: RecordedRequest, number: str) -> Reply:
        self._pull(number)
        return self._page(
            req,
            [
                c
                for c in self._review_comments
                if c["pull_number"] == int(number) and self._review_state(c["pull_request_review_id"]) != "PENDING"
            ],
        )

    def _reply(self, req: RecordedRequest, number: str, comment_id: str) -> Reply:
        self._pull(number)
        parent = next((c for c in self._review_comments if c["id"] == int(comment_id)), None)
        if parent is None:
            raise not_found()
        body = self._comment_body(req, "pulls/comments#create-a-reply-for-a-review-comment")
        review = self._new_review(int(number), "", "COMMENTED", parent["commit_id"], self.bot_login, "Bot")
        anchor = {k: parent[k] for k in ("path", "line", "side", "start_line", "start_side")}
        reply = self._new_review_comment(int(number), review["id"], dict(anchor, body=body), self.bot_login, "Bot")
        reply["in_reply_to_id"] = parent["in_reply_to_id"] or parent["id"]
        return Reply(201, reply)

    # -- routes: check runs -------------------------------------------------------------------------------

    def _create_check_run(self, req: RecordedRequest) -> Reply:
        data = self._body(req)
        for key in ("name", "head_sha"):
            if not data.get(key):
                raise self._invalid(f'"{key}" wasn\'t supplied.', "checks/runs#create-a-check-run")
        self._check_fields(data, "checks/runs#create-a-check-run")
        output = data.get("output") or {}
        run = {
            "id": self._id(),
            "name": data["name"],
            "head_sha": data["head_sha"],
            "status": data.get("status", "queued"),
            "conclusion": data.get("conclusion"),
            "output": {k: output.get(k) for k in ("title", "summary", "text")},
            "annotations": list(output.get("annotations") or []),
            "updates": [],
        }
        self._check_runs.append(run)
        return Reply(201, self._check_json(run))

    def _update_check_run(self, req: RecordedRequest, run_id: str) -> Reply:
        run = next((r for r in self._check_runs if r["id"] == int(run_id)), None)
        if run is None:
            raise not_found()
        data = self._body(req)
        self._check_fields(data, "checks/runs#update-a-check-run")
        run["updates"].append(copy.deepcopy(data))
        for key in ("name", "status", "conclusion"):
            if key in data:
                run[key] = data[key]
        if data.get("conclusion") and "status" not in data:
            run["status"] = "completed"  # GitHub: providing a conclusion sets status to completed
        output = data.get("output") or {}
        run["output"].update({k: output[k] for k in ("title", "summary", "text") if k in output})
        run["annotations"].extend(output.get("annotations") or [])  # PATCH appends annotations
        return Reply(200, self._check_json(run))

    def _check_fields(self, data: dict[str, Any], doc: str) -> None:
        if data.get("status") == "completed" and not data.get("conclusion"):
            # The real 422 (hub4j recording GHCheckRunBuilderTest/createCheckRunErrMissingConclusion).
            raise self._invalid(
                'No subschema in "anyOf" matched.\n"conclusion" wasn\'t supplied.\n'
                'completed is not a member of ["queued", "in_progress"].',
                doc,
            )
        output = data.get("output") or {}
        for key in ("summary", "text"):
            size = len(str(output.get(key) or ""))
            if size > MAX_CHECK_OUTPUT_CHARS:
                raise self._invalid(f"Only {MAX_CHECK_OUTPUT_CHARS} characters are allowed; {size} were supplied.", doc)
        if len(output.get("annotations") or []) > MAX_ANNOTATIONS_PER_REQUEST:  # approximate wording
            raise self._invalid(f"Only {MAX_ANNOTATIONS_PER_REQUEST} annotations are allowed per request.", doc)

    @staticmethod
    def _invalid(detail: str, doc: str) -> ApiError:
        return ApiError(422, {"message": f"Invalid request.\n\n{detail}", "documentation_url": f"{DOCS}/{doc}"})

    def _check_json(self, run: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": run["id"],
            "name": run["name"],
            "head_sha": run["head_sha"],
            "status": run["status"],
            "conclusion": run["conclusion"],
            "html_url": f"https://github.com/{self.repo}/runs/{run['id']}",
            "output": dict(run["output"], annotations_count=len(run["annotations"])),
        }

    # -- helpers ------------------------------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    @staticmethod
    def _body(req: RecordedRequest) -> dict[str, Any]:
        if not isinstance(req.json, dict):
            raise ApiError(400, {"message": "Problems parsing JSON", "documentation_url": DOCS, "status": "400"})
        return req.json

    def _comment_body(self, req: RecordedRequest, doc: str) -> str:
        body = self._body(req).get("body")
        if not isinstance(body, str) or not body:
            raise unprocessable(
                {"resource": "IssueComment", "code": "missing_field", "field": "body"},
                message="Validation Failed",
                doc=f"/{doc}",
            )
        if len(body) > MAX_COMMENT_CHARS:
            raise unprocessable(
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": f"Body is too long (maximum is {MAX_COMMENT_CHARS} characters)",
                },
                message="Validation Failed",
                doc=f"/{doc}",
            )
        return body

    def _new_issue_comment(self, number: int, body: str, user: str, user_type: str) -> dict[str, Any]:
        cid = self._id()
        comment = {
            "id": cid,
            "issue_number": number,
            "body": body,
            "user": {"login": user, "type": user_type},
            "html_url": f"https://github.com/{self.repo}/pull/{number}#issuecomment-{cid}",
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
        self._comments.append(comment)
        return comment

    def _new_review(
        self, number: int, body: str, state: str, commit_id: str, user: str, user_type: str
    ) -> dict[str, Any]:
        rid = self._id()
        review = {
            "id": rid,
            "pull_number": number,
            "body": body,
            "state": state,
            "commit_id": commit_id,
            "user": {"login": user, "type": user_type},
            "html_url": f"https://github.com/{self.repo}/pull/{number}#pullrequestreview-{rid}",
        }
        self._reviews.append(review)
        return review

    def _new_review_comment(
        self, number: int, review_id: int, c: dict[str, Any], user: str, user_type: str
    ) -> dict[str, Any]:
        comment = {
            "id": self._id(),
            "pull_number": number,
            "pull_request_review_id": review_id,
            "body": str(c.get("body") or ""),
            "path": c.get("path"),
            "line": c.get("line"),
            "original_line": c.get("line"),
            "side": str(c["side"]).upper() if c.get("side") else ("RIGHT" if c.get("line") else None),
            "start_line": c.get("start_line"),
            "start_side": str(c["start_side"]).upper() if c.get("start_side") else None,
            "position": c.get("position"),
            "subject_type": c.get("subject_type") or "line",
            "commit_id": self._review_commit(review_id),
            "in_reply_to_id": None,
            "user": {"login": user, "type": user_type},
        }
        comment["html_url"] = f"https://github.com/{self.repo}/pull/{number}#discussion_r{comment['id']}"
        self._review_comments.append(comment)
        return comment

    def _review_commit(self, review_id: int) -> str:
        return str(next(r["commit_id"] for r in self._reviews if r["id"] == review_id))

    def _review_state(self, review_id: int) -> str:
        return str(next((r["state"] for r in self._reviews if r["id"] == review_id), ""))

    def _page(self, req: RecordedRequest, items: list[dict[str, Any]]) -> Reply:
        """One page of a list, with GitHub's Link header (next/last/first/prev)."""
        per_page = max(1, min(int(req.query.get("per_page") or DEFAULT_PER_PAGE), MAX_PER_PAGE))
        page = max(1, int(req.query.get("page") or 1))
        last = max(1, -(-len(items) // per_page))
        chunk = copy.deepcopy(items[(page - 1) * per_page : page * per_page])
        base = f"{self.url}{req.path}"

        def link(n: int, rel: str) -> str:
            return f'<{base}?{urlencode(dict(req.query, per_page=per_page, page=n))}>; rel="{rel}"'

        rels = ([link(page + 1, "next"), link(last, "last")] if page < last else []) + (
            [link(1, "first"), link(page - 1, "prev")] if page > 1 else []
        )
        return Reply(200, chunk, headers={"Link": ", ".join(rels)} if rels else {})


def _created(number: int) -> str:
    """A creation time that grows with the number (one hour each, from 2020-01-01)."""
    return (datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%SZ")


def running(**kwargs: Any) -> Iterator[FakeGitHub]:
    """For a pytest fixture: ``yield from running()`` starts a FakeGitHub and closes it after the test."""
    with FakeGitHub(**kwargs) as server:
        yield server


def _handler_for(fake: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            path, _, query = self.path.partition("?")
            if fake.api_prefix and path.startswith(fake.api_prefix + "/"):
                path = path[len(fake.api_prefix) :]
            request = RecordedRequest(
                self.command,
                path,
                dict(parse_qsl(query)),
                {k.lower(): v for k, v in self.headers.items()},
                payload,
                raw,
            )
            self._send(fake.handle(request))

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

        def _send(self, reply: Reply) -> None:
            if reply.text is not None:
                data = reply.text.encode()
                headers = {"Content-Type": "text/plain; charset=utf-8", **reply.headers}
            else:
                data = json.dumps(reply.json).encode() if reply.json is not None else b""
                headers = {"Content-Type": "application/json; charset=utf-8", **reply.headers}
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            # One request per connection: no keep-alive handler thread outlives a test.
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: end-to-end tests read stdout

    return Handler


def apply_setup(fake: FakeGitHub, setup: dict[str, Any]) -> None:
    """Seed state from JSON: {"pulls": [add_pull kwargs], "files": [[path, ref, text]], "permissions": {}}."""
    for pull in setup.get("pulls", []):
        fake.add_pull(**pull)
    for path, ref, text in setup.get("files", []):
        fake.set_file(path, ref, text)
    for login, perm in setup.get("permissions", {}).items():
        fake.set_permission(login, perm)
    if "graphql_response" in setup:
        fake.graphql_response = setup["graphql_response"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake GitHub REST API for owner/repo on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--token", default="ghs_fake-token", help="the bearer token requests must carry")
    parser.add_argument("--api-prefix", default="", help='e.g. "/api/v3" to look like GitHub Enterprise Server')
    parser.add_argument("--setup", help="JSON file with pulls, files and permissions to start with")
    args = parser.parse_args(argv)
    server = FakeGitHub(args.token, port=args.port, api_prefix=args.api_prefix)
    if args.setup:
        with open(args.setup, encoding="utf-8") as fh:
            apply_setup(server, json.load(fh))

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"READY {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
