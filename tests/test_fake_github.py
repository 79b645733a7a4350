"""The fake GitHub server behaves like the real API where it matters, exercised through the real client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from fakes.github_server import MAX_ANNOTATIONS_PER_REQUEST, FakeGitHub, parse_diff

from qodo_review.errors import GitHubError
from qodo_review.github import GitHub

HEAD, BASE = "a" * 40, "b" * 40
# Two hunks: new-side lines 1-4 and 11-12, old-side lines 1-3 and 10-11.
DIFF = """\
diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,3 +1,4 @@
 import os
-x = 1
+x = 2
+y = 3
 print(x)
@@ -10,2 +11,2 @@ def f():
-    return 1
+    return 2
     pass
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# Title
+--- not a header: a line of the new file
"""


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        server.add_pull(7, "Add y", "Body", BASE, HEAD, DIFF)
        yield server
        assert server.errors == []


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def gh(fake: FakeGitHub, sleeps: Sleeps) -> Iterator[GitHub]:
    with GitHub(fake.token, fake.url, "owner/repo", sleep=sleeps) as client:
        yield client


def comment(path: str = "app.py", line: int = 3, **extra: object) -> dict[str, object]:
    return {"path": path, "line": line, "body": "finding", **extra}


def test_the_diff_model_reads_hunks_by_their_counts() -> None:
    files = parse_diff(DIFF)
    assert files["app.py"].hunks == [({1, 2, 3}, {1, 2, 3, 4}), ({10, 11}, {11, 12})]
    assert files["docs/new.md"].status == "added"
    assert files["docs/new.md"].hunks == [(set(), {1, 2})]


def test_a_review_inside_the_diff_is_stored_with_its_comments(fake: FakeGitHub, gh: GitHub) -> None:
    comments = [
        comment(line=3, side="RIGHT"),
        comment(line=2, side="LEFT"),  # the removed line
        comment(start_line=11, line=12),
        comment(path="docs/new.md", line=2, side="right"),  # GitHub accepts lower case
    ]
    review_id = gh.create_review(7, HEAD, "Summary", comments)

    [review] = fake.posted_reviews
    assert (review["id"], review["state"], review["body"]) == (review_id, "COMMENTED", "Summary")
    assert [(c["path"], c["line"], c["side"]) for c in review["comments"]] == [
        ("app.py", 3, "RIGHT"),
        ("app.py", 2, "LEFT"),
        ("app.py", 12, "RIGHT"),
        ("docs/new.md", 2, "RIGHT"),
    ]
    assert [c.line for c in gh.list_review_comments(7)] == [3, 2, 12, 2]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (comment(line=8), "Pull request review thread line must be part of the diff"),
        (comment(line=4, side="LEFT"), "Pull request review thread line must be part of the diff"),
        (comment(path="other.py"), "Pull request review thread path is invalid"),
        (comment(start_line=3, line=12), "start line must be part of the same hunk as the line"),
        (comment(start_line=12, line=11), "start line must precede the end line"),
    ],
)
def test_one_bad_anchor_rejects_the_whole_review(
    fake: FakeGitHub, gh: GitHub, bad: dict[str, object], message: str
) -> None:
    with pytest.raises(GitHubError, match=message) as caught:
        gh.create_review(7, HEAD, "Summary", [comment(line=3), bad])

    assert caught.value.status == 422
    assert str(caught.value).startswith("GitHub POST /repos/owner/repo/pulls/7/reviews failed (HTTP 422)")
    assert fake.posted_reviews == [] and fake.review_comments == []


def test_list_endpoints_paginate_with_link_headers(fake: FakeGitHub, gh: GitHub) -> None:
    files = [{"filename": f"f{i}.py", "status": "modified", "additions": 1, "deletions": 0} for i in range(250)]
    fake.add_pull(8, "Big", "", BASE, HEAD, DIFF, files=files)

    assert [f["filename"] for f in gh.list_files(8)] == [f["filename"] for f in files]

    pages = fake.find("GET", r"/pulls/8/files$")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]
    assert all(r.query["per_page"] == "100" for r in pages)


def test_files_are_derived_from_the_diff(gh: GitHub) -> None:
    rows = gh.list_files(7)
    assert [(r["filename"], r["status"], r["additions"], r["deletions"]) for r in rows] == [
        ("app.py", "modified", 3, 2),
        ("docs/new.md", "added", 2, 0),
    ]
    assert rows[0]["patch"].startswith("@@ -1,3 +1,4 @@\n import os")


def test_a_too_large_diff_answers_406_and_the_client_falls_back(fake: FakeGitHub, gh: GitHub) -> None:
    fake.add_pull(9, "Huge", "", BASE, HEAD, DIFF, diff_too_large=True)
    assert gh.get_diff(9) is None
    assert gh.get_diff(7) == DIFF
    assert len(gh.list_files(9)) == 2


def test_faults_are_injected_then_cleared(fake: FakeGitHub, gh: GitHub, sleeps: Sleeps) -> None:
    fake.fail("GET", r"/pulls/7$", 502, times=2, body="<html>Unicorn!</html>")
    fake.fail("POST", r"/issues/7/comments$", 403, headers={"Retry-After": "2"}, body={"message": "secondary"})

    assert gh.get_pull(7).title == "Add y"
    assert gh.create_issue_comment(7, "hello").body == "hello"

    assert len(fake.find("GET", r"/pulls/7$")) == 3
    assert len(sleeps) == 3 and 2 <= sleeps[-1] < 3
    assert [c["body"] for c in fake.issue_comments] == ["hello"]


def test_a_wrong_token_gets_401(fake: FakeGitHub) -> None:
    with GitHub("ghs_wrong", fake.url, "owner/repo") as client, pytest.raises(GitHubError) as caught:
        client.get_pull(7)
    assert caught.value.status == 401 and "Bad credentials" in str(caught.value)


def test_comment_bodies_over_the_limit_are_rejected(fake: FakeGitHub, gh: GitHub) -> None:
    with pytest.raises(GitHubError, match=r"Body is too long \(maximum is 65536 characters\)"):
        gh.create_issue_comment(7, "x" * 65537)
    assert fake.issue_comments == []
    assert gh.create_issue_comment(7, "x" * 65536).id > 0


def test_check_runs_validate_like_github_and_append_annotations(fake: FakeGitHub, gh: GitHub) -> None:
    with pytest.raises(GitHubError, match='"conclusion" wasn\'t supplied'):
        gh.create_check_run(HEAD, "qodo", status="completed")
    with pytest.raises(GitHubError, match="Only 65535 characters are allowed; 65536 were supplied"):
        gh.create_check_run(HEAD, "qodo", status="in_progress", output={"title": "t", "summary": "s" * 65536})

    run_id = gh.create_check_run(HEAD, "qodo", status="in_progress")
    annotation = {
        "path": "app.py",
        "start_line": 3,
        "end_line": 3,
        "annotation_level": "warning",
        "message": "m",
    }
    with pytest.raises(GitHubError, match="annotations"):
        gh.update_check_run(run_id, output={"title": "t", "summary": "s", "annotations": [annotation] * 51})
    for _ in range(2):
        batch = [annotation] * MAX_ANNOTATIONS_PER_REQUEST
        gh.update_check_run(run_id, output={"title": "t", "summary": "s", "annotations": batch})
    gh.update_check_run(run_id, status="completed", conclusion="neutral")

    [run] = fake.check_runs
    assert (run["status"], run["conclusion"], len(run["annotations"]), len(run["updates"])) == (
        "completed",
        "neutral",
        100,
        3,
    )


def test_contents_permissions_labels_body_and_reactions(fake: FakeGitHub, gh: GitHub) -> None:
    fake.set_file(".github/qodo review.yml", HEAD, "model: x\n")
    fake.set_permission("bob", "maintain")

    assert gh.get_text(".github/qodo review.yml", HEAD) == "model: x\n"
    assert gh.get_text(".github/qodo review.yml", BASE) is None
    assert (gh.get_permission("bob"), gh.get_permission("carol")) == ("maintain", "read")
    gh.add_labels(7, ["reviewed"])
    gh.update_pull_body(7, "new body")
    cid = fake.add_issue_comment(7, "/review", user="bob")
    gh.add_reaction(cid)
    gh.add_reaction(cid)  # already there: GitHub answers 200, nothing new

    assert fake.labels == {7: ["reviewed"]}
    assert fake.body_updates == [(7, "new body")] and gh.get_pull(7).body == "new body"
    assert [(r["comment_id"], r["content"]) for r in fake.reactions] == [(cid, "eyes")]


def test_pending_reviews_replies_and_review_comment_reactions(fake: FakeGitHub, gh: GitHub) -> None:
    parent = fake.add_review_comment(7, "app.py", 3, "why?", user="bob")
    reply = gh.reply_to_review_comment(7, parent, "because")
    gh.add_reaction(parent, "+1", review_comment=True)

    assert (reply.in_reply_to_id, reply.path, reply.line) == (parent, "app.py", 3)
    assert fake.reactions[0]["subject"] == "review_comment"

    # A pending review (no event) is what a crashed earlier run can leave behind; GitHub allows one per user.
    requests_session = requests.Session()
    try:
        url = f"{fake.url}/repos/owner/repo/pulls/7/reviews"
        auth = {"Authorization": f"Bearer {fake.token}"}
        first = requests_session.post(url, json={"body": "draft"}, headers=auth, timeout=5)
        second = requests_session.post(url, json={"body": "again"}, headers=auth, timeout=5)
    finally:
        requests_session.close()
    assert first.status_code == 200 and second.status_code == 422
    assert "one pending review" in second.text

    pending = [r for r in gh.list_reviews(7) if r.state == "PENDING"]
    gh.delete_pending_review(7, pending[0].id)
    assert all(r.state != "PENDING" for r in gh.list_reviews(7))


def test_enterprise_prefix_and_graphql(sleeps: Sleeps) -> None:
    with FakeGitHub(api_prefix="/api/v3") as server:
        server.add_pull(1, "T", None, BASE, HEAD, DIFF)
        server.graphql_response = {"data": {"repository": {"id": "R_1"}}}
        with GitHub(server.token, server.url, "owner/repo", sleep=sleeps) as client:
            assert client.get_pull(1).body == ""
            assert client.graphql("query { repository { id } }", {"n": 1}) == {"repository": {"id": "R_1"}}
        assert server.url.endswith("/api/v3")
        assert server.graphql_calls == [{"query": "query { repository { id } }", "variables": {"n": 1}}]
        assert server.find("POST", r"^/api/graphql$")


def test_runs_standalone_and_prints_its_url() -> None:
    script = Path(__file__).parent / "fakes" / "github_server.py"
    with subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--token", "t0k"], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            ready = proc.stdout.readline().split()
            assert ready[0] == "READY"
            with requests.Session() as session:
                answer = session.get(
                    f"{ready[1]}/repos/owner/repo/collaborators/bob/permission",
                    headers={"Authorization": "Bearer t0k"},
                    timeout=5,
                )
            assert answer.json()["role_name"] == "read"
        finally:
            proc.terminate()
            proc.wait(timeout=5)


REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
needs_realdata = pytest.mark.skipif(not REALDATA.is_dir(), reason="shared/realdata is not available")


@needs_realdata
def test_the_diff_model_agrees_with_git_numstat_on_real_diffs() -> None:
    folder = REALDATA / "diffs/real-commits"
    for case in json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))["cases"]:
        files = parse_diff((folder / case["file"]).read_text(encoding="utf-8", errors="replace"))
        oracle = case["git_oracle"]
        assert sorted(files) == sorted(row["path"] for row in oracle["numstat"]), case["file"]
        assert sum(f.additions for f in files.values()) == oracle["total_added"], case["file"]
        assert sum(f.deletions for f in files.values()) == oracle["total_deleted"], case["file"]


@needs_realdata
def test_real_position_comments_are_accepted(sleeps: Sleeps) -> None:
    # danger-js artsy/emission#327: six review comments GitHub accepted, anchored by `position`.
    folder = REALDATA / "github-api/danger-js-artsy-emission-327"
    diff = (folder / "github_diff.diff").read_text(encoding="utf-8")
    real = json.loads((folder / "github_inline_comments.json").read_text(encoding="utf-8"))
    comments = [{"path": c["path"], "position": c["position"], "body": c["body"]} for c in real]
    with FakeGitHub() as server:
        server.add_pull(327, "Gene", "", BASE, HEAD, diff)
        with GitHub(server.token, server.url, "owner/repo", sleep=sleeps) as client:
            client.create_review(327, HEAD, "", comments)
            with pytest.raises(GitHubError, match="diff hunk can't be blank"):
                client.create_review(327, HEAD, "", [dict(comments[0], position=10_000)])
        assert [c["position"] for c in server.posted_reviews[0]["comments"]] == [1, 2, 19, 5, 19, 6]
        assert server.errors == []
