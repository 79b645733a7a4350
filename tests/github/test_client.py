"""The GitHub client at the HTTP level (`responses` fakes the transport; none of our functions is patched)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from qodo_review.errors import GitHubError, PermissionDenied
from qodo_review.github import (
    MAX_ATTEMPTS,
    MAX_CONTENT_BYTES,
    MAX_PR_FILES,
    SECONDARY_RATE_LIMIT_WAIT,
    Comment,
    GitHub,
    ReviewComment,
    graphql_url,
    pull_from_json,
)

TOKEN = "ghs_s3cr3tT0kenValue1234567890abcdefABCD"
API = "https://api.github.com"
REPO_URL = f"{API}/repos/owner/repo"
REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
# GitHub's 406 for a diff over 300 files, as users have posted it (cpp-linter/cpp-linter-action#249).
DIFF_TOO_LARGE = {
    "message": "Sorry, the diff exceeded the maximum number of files (300). Consider using "
    "'List pull requests files' API or locally cloning the repository instead.",
    "errors": [{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
    "documentation_url": "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files",
    "status": "406",
}
# The secondary-rate-limit body in hub4j's AbuseLimitHandlerTest/testHandler_Wait_Secondary_Limits.
SECONDARY_LIMIT = {
    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again"
}


class Clock:
    """A monotonic clock that only moves when the client sleeps: retries are instant and recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def gh(clock: Clock) -> Iterator[GitHub]:
    with GitHub(TOKEN, API, "owner/repo", sleep=clock.sleep, clock=clock) as client:
        yield client


def pull_json(number: int = 7, **extra: Any) -> dict[str, Any]:
    repo = {"full_name": "owner/repo"}
    return {
        "number": number,
        "title": "Add thing",
        "body": None,
        "state": "open",
        "draft": False,
        "merged": False,
        "user": {"login": "alice"},
        "html_url": f"https://github.com/owner/repo/pull/{number}",
        "base": {"ref": "main", "sha": "b" * 40, "repo": repo},
        "head": {"ref": "feature", "sha": "h" * 40, "repo": repo},
        **extra,
    }


# --- requests, headers, URLs --------------------------------------------------------------------------


def test_sends_github_headers_and_converts_the_pull(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    pr = gh.get_pull(7)

    headers = rsps.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["User-Agent"] == "qodo-review"
    assert (pr.number, pr.title, pr.body, pr.author, pr.is_fork) == (7, "Add thing", "", "alice", False)
    assert (pr.base_sha, pr.head_sha, pr.base_ref, pr.head_ref) == ("b" * 40, "h" * 40, "main", "feature")
    assert gh.requests_made == 1


def test_enterprise_server_api_url_is_used_as_given(rsps: responses.RequestsMock, clock: Clock) -> None:
    rsps.get("https://ghe.example.com/api/v3/repos/owner/repo/pulls/1", json=pull_json(1))
    with GitHub(TOKEN, "https://ghe.example.com/api/v3/", "owner/repo", sleep=clock.sleep, clock=clock) as client:
        assert client.get_pull(1).number == 1


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://api.github.com/", "https://api.github.com/graphql"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com/api/graphql"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/graphql"),
        ("https://api.octo.ghe.com", "https://api.octo.ghe.com/graphql"),
    ],
)
def test_graphql_url_is_derived_from_the_rest_url(api_url: str, expected: str) -> None:
    assert graphql_url(api_url) == expected


def test_graphql_posts_to_the_derived_endpoint_and_returns_data(rsps: responses.RequestsMock, clock: Clock) -> None:
    rsps.post(
        "https://ghe.example.com/api/graphql",
        json={"data": {"viewer": {"login": "bot"}}},
        match=[matchers.json_params_matcher({"query": "{ viewer { login } }", "variables": {"a": 1}})],
    )
    with GitHub(TOKEN, "https://ghe.example.com/api/v3", "o/r", sleep=clock.sleep, clock=clock) as client:
        assert client.graphql("{ viewer { login } }", {"a": 1}) == {"viewer": {"login": "bot"}}


def test_graphql_errors_raise(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.post(f"{API}/graphql", json={"data": None, "errors": [{"message": "Field 'nope' doesn't exist"}]})
    with pytest.raises(GitHubError, match="Field 'nope' doesn't exist"):
        gh.graphql("{ nope }", {})


def test_repr_hides_the_token(gh: GitHub) -> None:
    assert TOKEN not in repr(gh)


# --- pagination -----------------------------------------------------------------------------------------


def test_list_files_follows_link_headers_even_when_the_url_form_changes(
    rsps: responses.RequestsMock, gh: GitHub
) -> None:
    # Like octokit/fixtures paginate-issues: the next URLs switch to /repositories/<id>/...
    page2 = f"{API}/repositories/1000/pulls/7/files?per_page=100&page=2"
    page3 = f"{API}/repositories/1000/pulls/7/files?per_page=100&page=3"
    rsps.get(
        f"{REPO_URL}/pulls/7/files",
        json=[{"filename": f"a{i}"} for i in range(100)],
        headers={"Link": f'<{page2}>; rel="next", <{page3}>; rel="last"'},
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )
    rsps.get(
        page2,
        json=[{"filename": f"b{i}"} for i in range(100)],
        headers={"Link": f'<{page3}>; rel="next", <{page3}>; rel="last"'},
        match=[matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    rsps.get(
        page3,
        json=[{"filename": "c0"}],
        headers={"Link": f'<{page2}>; rel="prev"'},
        match=[matchers.query_param_matcher({"per_page": "100", "page": "3"})],
    )

    files = gh.list_files(7)

    assert len(files) == 201
    assert files[-1] == {"filename": "c0"}
    assert gh.requests_made == 3


def test_list_files_stops_at_githubs_3000_file_cap(rsps: responses.RequestsMock, gh: GitHub) -> None:
    def endless(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        nxt = f"{REPO_URL}/pulls/7/files?per_page=100&page=99"
        return 200, {"Link": f'<{nxt}>; rel="next"'}, json.dumps([{"filename": "x"}] * 100)

    rsps.add_callback(responses.GET, f"{REPO_URL}/pulls/7/files", callback=endless)

    assert len(gh.list_files(7)) == MAX_PR_FILES
    assert gh.requests_made == MAX_PR_FILES // 100


def test_without_any_link_header_a_full_page_asks_for_the_next(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/pulls/7/reviews",
        json=[{"id": i, "state": "COMMENTED", "user": {"login": "a"}} for i in range(100)],
        match=[matchers.query_param_matcher({"per_page": "100"})],
    )
    rsps.get(
        f"{REPO_URL}/pulls/7/reviews",
        json=[{"id": 100, "state": "COMMENTED", "user": {"login": "a"}}],
        match=[matchers.query_param_matcher({"per_page": "100", "page": "2"})],
    )
    assert len(gh.list_reviews(7)) == 101


def test_a_link_header_to_another_host_is_not_followed(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/issues/7/comments",
        json=[{"id": 1, "body": "x", "user": {"login": "a", "type": "User"}}],
        headers={"Link": '<https://evil.example.com/steal?page=2>; rel="next"'},
    )
    with pytest.raises(GitHubError, match="another host"):
        gh.list_issue_comments(7)
    assert len(rsps.calls) == 1


def test_list_issue_comments_converts_to_comments(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/issues/7/comments",
        json=[{"id": 5, "body": None, "user": {"login": "github-actions[bot]", "type": "Bot"}}],
    )
    assert gh.list_issue_comments(7) == [Comment(5, "", "github-actions[bot]", "Bot")]


# --- diffs and contents -----------------------------------------------------------------------------------


def test_get_diff_asks_for_the_diff_media_type(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/pulls/7",
        body="diff --git a/x b/x\n",
        match=[matchers.header_matcher({"Accept": "application/vnd.github.diff"})],
    )
    assert gh.get_diff(7) == "diff --git a/x b/x\n"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (406, DIFF_TOO_LARGE),
        (422, {"message": "Sorry, the diff exceeded the maximum number of lines (20000)"}),
        (500, {"message": "Server Error: Sorry, this diff is taking too long to generate."}),
    ],
)
def test_get_diff_signals_too_large_with_none(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock, status: int, body: dict[str, Any]
) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=status, json=body)
    assert gh.get_diff(7) is None
    assert clock.sleeps == []  # deterministic: not retried


def test_get_text_reads_raw_content_with_a_quoted_path(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/contents/docs/a%20b.md",
        body="héllo\n".encode(),
        content_type="application/vnd.github.raw+json; charset=utf-8",
        match=[
            matchers.query_param_matcher({"ref": "abc"}),
            matchers.header_matcher({"Accept": "application/vnd.github.raw+json"}),
        ],
    )
    assert gh.get_text("docs/a b.md", "abc") == "héllo\n"


def test_get_text_is_none_when_the_file_does_not_exist(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/contents/.qodo.yml", status=404, json={"message": "Not Found"})
    assert gh.get_text(".qodo.yml", "abc") is None


def test_get_text_refuses_files_over_one_megabyte(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/contents/big.txt", body=b"x" * (MAX_CONTENT_BYTES + 1))
    with pytest.raises(GitHubError, match=r"big\.txt at abc is 1048577 bytes"):
        gh.get_text("big.txt", "abc")


# --- retries and rate limits -------------------------------------------------------------------------------


def test_retries_a_502_then_succeeds(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    rsps.get(f"{REPO_URL}/pulls/7", status=502, body="<html>Unicorn!</html>", content_type="text/html")
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    assert gh.get_pull(7).number == 7
    assert len(clock.sleeps) == 1 and 0.5 <= clock.sleeps[0] <= 1.0
    assert gh.requests_made == 2
    assert "HTTP 502; retrying" in caplog.text and TOKEN not in caplog.text


def test_retries_a_connection_error(rsps: responses.RequestsMock, gh: GitHub, clock: Clock) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", body=requests.ConnectionError("connection reset"))
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    assert gh.get_pull(7).number == 7
    assert len(clock.sleeps) == 1


def test_a_post_that_timed_out_reading_is_not_resent(rsps: responses.RequestsMock, gh: GitHub, clock: Clock) -> None:
    rsps.post(f"{REPO_URL}/issues/7/comments", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(GitHubError, match="Could not reach GitHub"):
        gh.create_issue_comment(7, "hello")
    assert clock.sleeps == [] and len(rsps.calls) == 1


def test_gives_up_after_max_attempts_with_growing_backoff(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock
) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=503, json={"message": "Service Unavailable"})

    with pytest.raises(GitHubError, match=r"HTTP 503\): Service Unavailable") as caught:
        gh.get_pull(7)

    assert caught.value.status == 503
    assert len(clock.sleeps) == MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(clock.sleeps, start=1):
        ceiling = 2.0 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling


def test_secondary_rate_limit_403_honours_retry_after(rsps: responses.RequestsMock, gh: GitHub, clock: Clock) -> None:
    rsps.post(f"{REPO_URL}/issues/7/comments", status=403, json=SECONDARY_LIMIT, headers={"Retry-After": "8"})
    rsps.post(
        f"{REPO_URL}/issues/7/comments",
        status=201,
        json={"id": 9, "body": "hi", "user": {"login": "github-actions[bot]", "type": "Bot"}},
    )

    assert gh.create_issue_comment(7, "hi").id == 9
    assert len(clock.sleeps) == 1 and 8 <= clock.sleeps[0] < 9


def test_429_honours_retry_after(rsps: responses.RequestsMock, gh: GitHub, clock: Clock) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=429, json={"message": "Too Many Requests"}, headers={"Retry-After": "3"})
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    gh.get_pull(7)

    assert 3 <= clock.sleeps[0] < 4


def test_secondary_rate_limit_without_headers_waits_a_minute(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock
) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=403, json=SECONDARY_LIMIT)
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    gh.get_pull(7)

    assert SECONDARY_RATE_LIMIT_WAIT <= clock.sleeps[0] < SECONDARY_RATE_LIMIT_WAIT + 1


def test_primary_rate_limit_waits_until_reset_by_the_servers_clock(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock
) -> None:
    # Date is 1700000000 (2023-11-14T22:13:20Z); the limit resets 42 s later.
    headers = {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700000042",
        "Date": "Tue, 14 Nov 2023 22:13:20 GMT",
    }
    rsps.get(f"{REPO_URL}/pulls/7", status=403, json={"message": "API rate limit exceeded"}, headers=headers)
    rsps.get(f"{REPO_URL}/pulls/7", json=pull_json())

    gh.get_pull(7)

    assert 42 <= clock.sleeps[0] < 43


def test_a_rate_limit_longer_than_the_budget_fails_clearly(
    rsps: responses.RequestsMock, gh: GitHub, clock: Clock
) -> None:
    headers = {
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "1700003600",
        "Date": "Tue, 14 Nov 2023 22:13:20 GMT",
    }
    rsps.post(
        f"{REPO_URL}/pulls/7/reviews",
        status=403,
        json={"message": "API rate limit exceeded"},
        headers=headers,
    )

    with pytest.raises(GitHubError) as caught:
        gh.create_review(7, "h" * 40, "body", [])

    assert not isinstance(caught.value, PermissionDenied)
    assert caught.value.status == 403
    message = str(caught.value)
    assert "rate limit" in message and "wait 3600 s" in message and "300 s are left" in message
    assert clock.sleeps == []


def test_the_budget_is_shared_by_all_requests(rsps: responses.RequestsMock, clock: Clock) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=429, json={"message": "slow down"}, headers={"Retry-After": "20"})
    with GitHub(TOKEN, API, "owner/repo", sleep=clock.sleep, clock=clock, time_budget=30) as client:
        clock.now += 15  # earlier work used half of the budget
        with pytest.raises(GitHubError, match="rate limit"):
            client.get_pull(7)
    assert clock.sleeps == []


# --- error mapping -----------------------------------------------------------------------------------------


def test_401_says_the_token_input_is_invalid(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=401, json={"message": "Bad credentials"})
    with pytest.raises(GitHubError) as caught:
        gh.get_pull(7)
    assert caught.value.status == 401
    assert not isinstance(caught.value, PermissionDenied)
    assert "Bad credentials" in str(caught.value) and "github-token input is invalid" in str(caught.value)


def test_403_on_a_write_names_the_permission_and_the_yaml(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.post(f"{REPO_URL}/pulls/7/reviews", status=403, json={"message": "Resource not accessible by integration"})
    with pytest.raises(PermissionDenied) as caught:
        gh.create_review(7, "h" * 40, "body", [])
    assert caught.value.status == 403
    assert str(caught.value) == (
        "GitHub refused POST /repos/owner/repo/pulls/7/reviews (HTTP 403: Resource not accessible by "
        "integration). The workflow token needs `pull-requests: write`. Add to the workflow or job:\n\n"
        "permissions:\n  contents: read\n  pull-requests: write\n\n"
        "On pull requests from forks GitHub makes the token read-only whatever the workflow says."
    )


def test_404_on_a_check_run_write_asks_for_checks_write(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.post(f"{REPO_URL}/check-runs", status=404, json={"message": "Not Found"})
    with pytest.raises(PermissionDenied, match="`checks: write`") as caught:
        gh.create_check_run("h" * 40, "qodo-review", status="in_progress")
    assert caught.value.status == 404


def test_404_on_a_read_is_a_plain_github_error(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/99", status=404, json={"message": "Not Found"})
    with pytest.raises(GitHubError) as caught:
        gh.get_pull(99)
    assert not isinstance(caught.value, PermissionDenied)
    assert str(caught.value) == "GitHub GET /repos/owner/repo/pulls/99 failed (HTTP 404): Not Found"


def test_422_includes_githubs_errors_array(rsps: responses.RequestsMock, gh: GitHub) -> None:
    # The shape of octokit/fixtures `errors` and of a real create-review rejection.
    body = {
        "message": "Unprocessable Entity",
        "errors": ["Pull request review thread line must be part of the diff"],
        "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
    }
    rsps.post(f"{REPO_URL}/pulls/7/reviews", status=422, json=body)
    with pytest.raises(GitHubError) as caught:
        gh.create_review(7, "h" * 40, "body", [{"path": "a.py", "line": 99, "body": "x"}])
    assert caught.value.status == 422
    assert str(caught.value).endswith(
        "(HTTP 422): Unprocessable Entity (Pull request review thread line must be part of the diff)"
    )


def test_422_with_structured_errors(rsps: responses.RequestsMock, gh: GitHub) -> None:
    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "Label", "code": "invalid", "field": "color"}],
    }
    rsps.post(f"{REPO_URL}/issues/7/labels", status=422, json=body)
    with pytest.raises(GitHubError, match=r"Validation Failed \(Label color invalid\)"):
        gh.add_labels(7, ["x"])


@pytest.mark.parametrize("status", [401, 403, 422, 500])
def test_the_token_never_appears_in_an_error_even_when_echoed(
    rsps: responses.RequestsMock, gh: GitHub, status: int
) -> None:
    echo = {"message": f"bad token {TOKEN}", "errors": [{"message": f"token={TOKEN}"}]}
    rsps.patch(f"{REPO_URL}/issues/comments/5", status=status, json=echo)
    with pytest.raises(GitHubError) as caught:
        gh.update_issue_comment(5, "body")
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


# --- redirects ---------------------------------------------------------------------------------------------


def test_a_cross_host_redirect_is_not_followed(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=302, headers={"Location": "https://evil.example.com/pulls/7"})
    with pytest.raises(GitHubError, match="another host") as caught:
        gh.get_pull(7)
    assert TOKEN not in str(caught.value)
    assert [c.request.url for c in rsps.calls] == [f"{REPO_URL}/pulls/7"]


def test_a_scheme_downgrade_counts_as_another_host(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/7", status=301, headers={"Location": "http://api.github.com/x"})
    with pytest.raises(GitHubError, match="another host"):
        gh.get_pull(7)


def test_a_same_host_redirect_is_followed_with_the_same_method(rsps: responses.RequestsMock, gh: GitHub) -> None:
    # A renamed repository: GitHub answers 307 for a write, to be repeated at the new URL.
    rsps.post(
        f"{REPO_URL}/issues/7/comments",
        status=307,
        headers={"Location": "/repositories/42/issues/7/comments"},
    )
    rsps.post(
        f"{API}/repositories/42/issues/7/comments",
        status=201,
        json={"id": 1, "body": "hi", "user": {"login": "bot", "type": "Bot"}},
        match=[matchers.json_params_matcher({"body": "hi"})],
    )

    assert gh.create_issue_comment(7, "hi") == Comment(1, "hi", "bot", "Bot")
    assert rsps.calls[1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert gh.requests_made == 2


def test_a_redirect_without_a_query_keeps_ours(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(
        f"{REPO_URL}/contents/x.yml",
        status=301,
        headers={"Location": f"{API}/repositories/42/contents/x.yml"},
    )
    rsps.get(
        f"{API}/repositories/42/contents/x.yml",
        body="a: 1\n",
        match=[matchers.query_param_matcher({"ref": "abc"})],
    )
    assert gh.get_text("x.yml", "abc") == "a: 1\n"


# --- the other endpoints -----------------------------------------------------------------------------------


def test_create_review_posts_a_comment_review_and_returns_its_id(rsps: responses.RequestsMock, gh: GitHub) -> None:
    comments = [{"path": "a.py", "line": 3, "side": "RIGHT", "body": "x"}]
    rsps.post(
        f"{REPO_URL}/pulls/7/reviews",
        json={"id": 80, "state": "COMMENTED"},
        match=[
            matchers.json_params_matcher(
                {"commit_id": "h" * 40, "body": "summary", "event": "COMMENT", "comments": comments}
            )
        ],
    )
    assert gh.create_review(7, "h" * 40, "summary", comments) == 80


@pytest.mark.parametrize("event", ["APPROVE", "REQUEST_CHANGES"])
def test_create_review_never_approves_or_blocks(gh: GitHub, event: str) -> None:
    with pytest.raises(ValueError, match="only posted as COMMENT"):
        gh.create_review(7, "h" * 40, "body", [], event=event)


def test_review_comments_and_replies_convert(rsps: responses.RequestsMock, gh: GitHub) -> None:
    row = {
        "id": 11,
        "body": "b",
        "path": "a.py",
        "line": None,
        "side": "RIGHT",
        "user": {"login": "bot"},
        "in_reply_to_id": 10,
        "pull_request_review_id": 80,
    }
    rsps.get(f"{REPO_URL}/pulls/7/comments", json=[row])
    rsps.post(f"{REPO_URL}/pulls/7/comments/10/replies", status=201, json=row)

    expected = ReviewComment(11, "b", "a.py", None, "RIGHT", "bot", 10, 80)
    assert gh.list_review_comments(7) == [expected]
    assert gh.reply_to_review_comment(7, 10, "b") == expected


def test_delete_pending_review_and_list_reviews(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.get(f"{REPO_URL}/pulls/7/reviews", json=[{"id": 3, "state": "PENDING", "user": {"login": "bot"}}])
    rsps.delete(f"{REPO_URL}/pulls/7/reviews/3", json={"id": 3})

    assert [(r.id, r.state, r.user_login) for r in gh.list_reviews(7)] == [(3, "PENDING", "bot")]
    gh.delete_pending_review(7, 3)


def test_check_runs(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.post(
        f"{REPO_URL}/check-runs",
        status=201,
        json={"id": 4},
        match=[matchers.json_params_matcher({"name": "qodo", "head_sha": "h" * 40, "status": "in_progress"})],
    )
    rsps.patch(
        f"{REPO_URL}/check-runs/4",
        json={"id": 4},
        match=[matchers.json_params_matcher({"status": "completed", "conclusion": "neutral"})],
    )
    run_id = gh.create_check_run("h" * 40, "qodo", status="in_progress")
    assert gh.update_check_run(run_id, status="completed", conclusion="neutral").id == 4


@pytest.mark.parametrize(("review_comment", "kind"), [(False, "issues"), (True, "pulls")])
def test_add_reaction(rsps: responses.RequestsMock, gh: GitHub, review_comment: bool, kind: str) -> None:
    rsps.post(
        f"{REPO_URL}/{kind}/comments/5/reactions",
        status=201,
        json={"id": 1, "content": "eyes"},
        match=[matchers.json_params_matcher({"content": "eyes"})],
    )
    gh.add_reaction(5, review_comment=review_comment)


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({"permission": "write", "role_name": "maintain"}, 200, "maintain"),
        ({"permission": "read"}, 200, "read"),
        ({"permission": "admin", "role_name": "custom-role"}, 200, "none"),
        ({"message": "Not Found"}, 404, "none"),
    ],
)
def test_get_permission(
    rsps: responses.RequestsMock, gh: GitHub, body: dict[str, Any], status: int, expected: str
) -> None:
    rsps.get(f"{REPO_URL}/collaborators/some%20one/permission", status=status, json=body)
    assert gh.get_permission("some one") == expected


def test_update_pull_body_and_labels(rsps: responses.RequestsMock, gh: GitHub) -> None:
    rsps.patch(f"{REPO_URL}/pulls/7", json=pull_json(), match=[matchers.json_params_matcher({"body": "new"})])
    rsps.post(
        f"{REPO_URL}/issues/7/labels",
        json=[{"name": "ai-reviewed"}],
        match=[matchers.json_params_matcher({"labels": ["ai-reviewed"]})],
    )
    gh.update_pull_body(7, "new")
    gh.add_labels(7, ("ai-reviewed",))


# --- pull_from_json --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head_repo", "is_fork"),
    [
        ({"full_name": "owner/repo"}, False),
        ({"full_name": "alice/repo", "fork": True}, True),
        (None, True),  # the fork was deleted
    ],
)
def test_pull_from_json_detects_forks_by_full_name(head_repo: dict[str, str] | None, is_fork: bool) -> None:
    d = pull_json()
    d["head"]["repo"] = head_repo
    assert pull_from_json(d).is_fork is is_fork


def test_pull_from_json_tolerates_missing_fields() -> None:
    pr = pull_from_json({"number": 3, "user": None, "base": None})
    assert (pr.number, pr.title, pr.body, pr.base_sha, pr.author, pr.state, pr.draft) == (
        3,
        "",
        "",
        "",
        "",
        "open",
        False,
    )
    assert pr.is_fork  # unknown head repository: treated as a fork, the safe side


needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason="shared/realdata is not available")


def _load(path: Path) -> Any:
    # Two reviewdog event files end in a stray "," (see realdata README): read the first document only.
    return json.JSONDecoder().raw_decode(path.read_text(encoding="utf-8"))[0]


def _event_pulls() -> list[Path]:
    if not REALDATA.is_dir():
        return []
    return [
        p
        for p in sorted((REALDATA / "events").rglob("*.json"))
        if "schemas" not in p.parts and isinstance(_load(p).get("pull_request"), dict)
    ]


@needs_realdata
def test_pull_from_json_on_githubs_openapi_example() -> None:
    spec = _load(REALDATA / "github-openapi/pr-review-operations.subset.json")
    example = spec["operations"]["pulls/get"]["response_examples"]["200 application/json default"]
    pr = pull_from_json(example)
    assert (pr.number, pr.title, pr.author, pr.state, pr.is_fork) == (
        1347,
        "Amazing new feature",
        "octocat",
        "open",
        False,
    )
    assert pr.head_sha == example["head"]["sha"] and pr.base_ref == example["base"]["ref"]
    assert pr.html_url == "https://github.com/octocat/Hello-World/pull/1347"


@needs_realdata
def test_pull_from_json_on_a_real_cross_repo_fork_pr() -> None:
    pr = pull_from_json(_load(REALDATA / "github-api/danger-js-artsy-emission-327/github_pr.json"))
    assert (pr.number, pr.is_fork) == (327, True)


@needs_realdata
@pytest.mark.parametrize("path", _event_pulls(), ids=lambda p: p.name)
def test_pull_from_json_on_real_webhook_payloads(path: Path) -> None:
    raw = _load(path)["pull_request"]
    pr = pull_from_json(raw)
    assert pr.number == raw["number"]
    assert pr.body == (raw["body"] or "")
    assert pr.head_sha == raw["head"]["sha"] and pr.base_sha == raw["base"]["sha"]
    assert pr.draft is bool(raw.get("draft"))
    assert pr.is_fork is (raw["head"]["repo"]["full_name"] != raw["base"]["repo"]["full_name"])
    if path.name == "pull_request_review.json":  # hub4j: skalnik/public-repo into baxterthehacker/public-repo
        assert pr.is_fork
