"""Re-runs end to end: only what changed since the last reviewed head, everything after a force-push,
nothing posted twice, and the threads of fixed findings resolved (never one with a human reply)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, ActionRun, comment_event, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review.channels.threads import find_addressed, issue_key, issue_marker, resolve_addressed
from qodo_review.github import GitHub, ReviewComment
from qodo_review.models import Finding, Severity
from qodo_review.render import SUMMARY_MARKER, fingerprint_marker
from qodo_review.state import State, parse_state, render_state, state_key

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
NEW_HEAD = "e" * 40
SQL = {
    "path": "app/users.py",
    "line": 12,
    "side": "RIGHT",
    "severity": "critical",
    "category": "security",
    "title": "SQL injection in find_users",
    "body": "The name is interpolated into SQL.",
}
DIVISION = {
    "path": "app/users.py",
    "line": 17,
    "side": "RIGHT",
    "severity": "medium",
    "category": "bug",
    "title": "Division by zero on empty list",
    "body": "len(ages) may be 0.",
}
OLD_SQL = """    rows = conn.execute(f"SELECT id, name FROM users WHERE name LIKE '%{name}%'").fetchall()"""
NEW_SQL = """    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()"""
OLD_AVG, NEW_AVG = "    return sum(ages) / len(ages)", "    return sum(ages) / len(ages) if ages else 0.0"
FIXED_PR_DIFF = SAMPLE_DIFF.replace(OLD_SQL, NEW_SQL).replace(OLD_AVG, NEW_AVG)
FIX_DIFF = "\n".join(
    [
        "diff --git a/app/users.py b/app/users.py",
        "index 69fa6c0..8d1f2aa 100644",
        "--- a/app/users.py",
        "+++ b/app/users.py",
        "@@ -11,7 +11,7 @@ def get_user(conn: sqlite3.Connection, user_id: int) -> dict | None:",
        " def find_users(conn: sqlite3.Connection, name: str) -> list[dict]:",
        f"-{OLD_SQL}",
        f"+{NEW_SQL}",
        '     return [{"id": r[0], "name": r[1]} for r in rows]',
        " ",
        " ",
        " def average_age(ages: list[int]) -> float:",
        f"-{OLD_AVG}",
        f"+{NEW_AVG}",
        "",
    ]
)
NEW_FILE = """diff --git a/app/cache.py b/app/cache.py
new file mode 100644
--- /dev/null
+++ b/app/cache.py
@@ -0,0 +1,3 @@
+CACHE = {}
+def put(key, value):
+    CACHE[key] = value
"""
FROM_MAIN = """diff --git a/docs/merged-from-main.md b/docs/merged-from-main.md
new file mode 100644
--- /dev/null
+++ b/docs/merged-from-main.md
@@ -0,0 +1 @@
+Someone else's change, merged into the branch from main.
"""

KEY = state_key("sk-test-key-0123456789abcdef", "owner/repo", 7)  # from e2e.run_action's api-key
assert KEY is not None


def answer(*findings: dict[str, Any]) -> dict[str, Any]:
    return chat_completion(json.dumps({"summary": "Reviewed.", "findings": list(findings)}))


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        fake.set_permission("maintainer", "write")
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def run(
    tmp: Path, github: FakeGitHub, llm: FakeLLM, event_name: str = "pull_request", payload: dict[str, Any] | None = None
) -> ActionRun:
    result = run_action(
        tmp, github_url=github.url, llm_url=llm.url, event_name=event_name, payload=payload or pr_event()
    )
    assert result.violations == [] and github.errors == []
    assert result.code == 0 and "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def synchronize(tmp: Path, github: FakeGitHub, llm: FakeLLM) -> ActionRun:
    return run(tmp, github, llm, payload=pr_event(action="synchronize", before=SHA_HEAD, after=NEW_HEAD))


def summary(github: FakeGitHub) -> str:
    (comment,) = [c for c in github.issue_comments if c["body"].startswith(SUMMARY_MARKER)]
    return str(comment["body"])


def sent(llm: FakeLLM, call: int) -> str:
    return str(llm.requests[call].json["messages"][1]["content"])


def threads_api(github: FakeGitHub, resolved: set[int], refuse: str = "") -> Callable[[dict[str, Any]], Any]:
    """GitHub's GraphQL for review threads, answered from the fake's comments: one thread per top-level
    comment, its node id "PRRT_<comment id>". `refuse` answers the mutation with GitHub's error shape."""

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        variables = body.get("variables") or {}
        if "resolveReviewThread" in body["query"]:
            if refuse:
                return {
                    "data": {"resolveReviewThread": None},
                    "errors": [{"type": "FORBIDDEN", "path": ["resolveReviewThread"], "message": refuse}],
                }
            resolved.add(int(variables["id"].removeprefix("PRRT_")))
            return {"data": {"resolveReviewThread": {"thread": {"id": variables["id"], "isResolved": True}}}}
        nodes = [
            {
                "id": f"PRRT_{c['id']}",
                "isResolved": c["id"] in resolved,
                "comments": {"nodes": [{"databaseId": c["id"], "body": c["body"]}]},
            }
            for c in github.review_comments
            if c["in_reply_to_id"] is None and c["pull_number"] == 7
        ]
        page = {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}
        return {"data": {"repository": {"pullRequest": {"reviewThreads": page}}}}

    return answer


@pytest.mark.parametrize("trigger", ["synchronize", "/review"])
def test_a_push_or_review_reviews_only_what_changed(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, trigger: str
) -> None:
    llm.enqueue(json=answer(SQL))
    run(tmp_path / "1", github, llm)
    github.set_head(7, NEW_HEAD, SAMPLE_DIFF + NEW_FILE)
    github.set_compare(SHA_HEAD, NEW_HEAD, NEW_FILE + FROM_MAIN)
    llm.enqueue(
        json=answer(
            {
                "path": "app/cache.py",
                "line": 3,
                "side": "RIGHT",
                "severity": "medium",
                "category": "reliability",
                "title": "Unbounded cache",
                "body": "It only grows.",
            }
        )
    )
    if trigger == "synchronize":
        second = synchronize(tmp_path / "2", github, llm)
    else:
        cid = github.add_issue_comment(7, "/review", user="maintainer")
        second = run(tmp_path / "2", github, llm, "issue_comment", comment_event("/review", cid))

    prompt = sent(llm, 1)
    assert "### File: app/cache.py" in prompt and "### File: app/users.py" not in prompt
    assert "merged-from-main" not in prompt  # changes merged in from the base branch are not the PR's
    assert "Incremental: reviewed 1 file changed since `ccccccc`." in second.summary
    body = summary(github)
    assert "Incremental: reviewed 1 file changed since `ccccccc`." in body
    assert "| `eeeeeee` |" in body and "| `ccccccc` |" in body and body.index("eeeeeee") < body.index("| `ccccccc`")
    state = parse_state(KEY, body)
    assert state.last == NEW_HEAD and [e.scope for e in state.history] == ["full", "incremental"]
    assert [[c["path"] for c in r["comments"]] for r in github.posted_reviews] == [["app/users.py"], ["app/cache.py"]]
    assert github.graphql_calls == []  # nothing of ours is outdated: no thread to look up


@pytest.mark.parametrize(
    ("status", "why"),
    [
        ("diverged", "ccccccc is no longer an ancestor of the head"),
        (None, "the changes since ccccccc could not be read"),  # the old head is gone: compare answers 404
    ],
)
def test_force_push_reviews_everything(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, status: str | None, why: str
) -> None:
    run(tmp_path / "1", github, llm)
    github.set_head(7, NEW_HEAD, FIXED_PR_DIFF)
    if status is not None:
        github.set_compare(SHA_HEAD, NEW_HEAD, FIX_DIFF, status=status)
    second = synchronize(tmp_path / "2", github, llm)
    assert "find_users" in sent(llm, 1) and "average_age" in sent(llm, 1) and "app/test_users.py" in sent(llm, 1)
    assert f"Full review ({why}" in second.summary and f"Full review ({why}" in summary(github)
    assert parse_state(KEY, summary(github)).last == NEW_HEAD


def test_review_full_again_posts_nothing_new(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(SQL, DIVISION))
    llm.enqueue(json=answer(SQL, DIVISION))
    run(tmp_path / "1", github, llm)
    cid = github.add_issue_comment(7, "/review full", user="maintainer")
    second = run(tmp_path / "2", github, llm, "issue_comment", comment_event("/review full", cid))
    assert "Full review (a full review was asked for)" in second.summary and len(llm.requests) == 2
    assert len(github.posted_reviews) == 1 and len(github.review_comments) == 2
    assert "nothing new to post (2 already posted)" in second.stdout
    assert len([c for c in github.issue_comments if c["user"]["login"] == github.bot_login]) == 1


def test_fixed_findings_threads_are_resolved_but_never_one_with_a_reply(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    resolved: set[int] = set()
    github.graphql_response = threads_api(github, resolved)
    llm.enqueue(json=answer(SQL, DIVISION))
    run(tmp_path / "1", github, llm)
    sql, division = sorted(github.review_comments, key=lambda c: c["line"])
    github.add_review_comment(
        7, "app/users.py", 17, "We accept that, ages is never empty here.", user="alice", in_reply_to=division["id"]
    )
    github.set_head(7, NEW_HEAD, FIXED_PR_DIFF)
    github.set_compare(SHA_HEAD, NEW_HEAD, FIX_DIFF)
    llm.enqueue(json=answer())
    second = synchronize(tmp_path / "2", github, llm)

    assert "Incremental: reviewed 1 file changed since `ccccccc`." in second.summary
    assert resolved == {sql["id"]}  # the thread alice answered stays open
    mutations = [c for c in github.graphql_calls if "resolveReviewThread" in c["query"]]
    assert [m["variables"] for m in mutations] == [{"id": f"PRRT_{sql['id']}"}]
    assert github.find("DELETE", r".") == []  # nothing of anyone's is deleted
    body = summary(github)
    assert "### Addressed since the last review" in body
    assert "SQL injection in find\\_users at `app/users.py` (thread resolved)" in body
    assert "Division by zero" not in body.split("### Addressed since the last review")[1].split("###")[0]
    assert len([r for r in github.posted_reviews if r["user"]["login"] == github.bot_login]) == 1  # nothing new


def test_when_resolving_is_refused_the_summary_marks_them_addressed(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    github.graphql_response = threads_api(github, set(), refuse="Resource not accessible by integration")
    llm.enqueue(json=answer(SQL, DIVISION))
    run(tmp_path / "1", github, llm)
    github.set_head(7, NEW_HEAD, FIXED_PR_DIFF)
    github.set_compare(SHA_HEAD, NEW_HEAD, FIX_DIFF)
    llm.enqueue(json=answer())
    second = synchronize(tmp_path / "2", github, llm)
    assert len([c for c in github.graphql_calls if "resolveReviewThread" in c["query"]]) == 1  # asked once
    assert "Resource not accessible by integration" in second.stdout
    section = summary(github).split("### Addressed since the last review")[1].split("###")[0]
    assert section.count("(code changed; please resolve the thread)") == 2
    assert "SQL injection" in section and "Division by zero" in section


def test_a_finding_reported_again_is_not_resolved(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    resolved: set[int] = set()
    github.graphql_response = threads_api(github, resolved)
    llm.enqueue(json=answer(SQL))
    run(tmp_path / "1", github, llm)
    github.set_head(7, NEW_HEAD, FIXED_PR_DIFF)  # the line changed, but the model still sees the problem
    github.set_compare(SHA_HEAD, NEW_HEAD, FIX_DIFF)
    llm.enqueue(json=answer({**SQL, "body": "Still interpolated, just differently."}))
    synchronize(tmp_path / "2", github, llm)
    # only read: whether a person dismissed the old comment (noise control); nothing is resolved
    assert resolved == set() and [c["query"].split("(")[0] for c in github.graphql_calls] == ["query DismissedThreads"]
    # the old comment sits on outdated code, so the finding is posted again on the new lines
    assert [len(r["comments"]) for r in github.posted_reviews] == [1, 1]
    assert github.posted_reviews[1]["commit_id"] == NEW_HEAD


def test_a_finding_whose_code_only_shifted_is_not_posted_twice(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    """Lines inserted above a finding move its comment down (GitHub follows the code); the full review the
    failing gate asks for reports it at the new line, and it is recognised as already posted."""
    getter = '    return {"id": row[0], "name": row[1]} if row else None\n'
    shifted = SAMPLE_DIFF.replace("@@ -6,3 +6,12 @@", "@@ -6,3 +6,14 @@").replace(getter, getter + "+LIMIT = 100\n+\n")
    shift = "\n".join(
        [
            "diff --git a/app/users.py b/app/users.py",
            "--- a/app/users.py",
            "+++ b/app/users.py",
            "@@ -8,6 +8,8 @@",
            getter.rstrip("\n"),
            "+LIMIT = 100",
            "+",
            " ",
            " ",
            " def find_users(conn: sqlite3.Connection, name: str) -> list[dict]:",
            f" {OLD_SQL}",
            '     return [{"id": r[0], "name": r[1]} for r in rows]',
            "",
        ]
    )
    llm.enqueue(json=answer(SQL))
    llm.enqueue(json=answer({**SQL, "line": 14}))
    first = run_action(tmp_path / "1", github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"})
    github.set_head(7, NEW_HEAD, shifted)
    github.set_compare(SHA_HEAD, NEW_HEAD, shift)
    second = run_action(
        tmp_path / "2",
        github_url=github.url,
        llm_url=llm.url,
        inputs={"fail-on": "high"},
        payload=pr_event(action="synchronize", before=SHA_HEAD, after=NEW_HEAD),
    )
    assert (first.code, second.code) == (1, 1) and github.errors == []
    assert "Full review (the review of ccccccc met the fail-on gate" in second.summary
    (comment,) = github.review_comments
    assert comment["line"] == 14 and "nothing new to post (1 already posted)" in second.stdout
    assert github.graphql_calls == []


def test_state_forged_by_a_person_is_ignored(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """A user's comment dressed as our summary (saying "all reviewed already") neither skips the review
    nor gets edited."""
    forged = f"{SUMMARY_MARKER}\n## qodo-review\n\n{render_state(KEY, State(last=SHA_HEAD))}"
    github.add_issue_comment(7, forged, user="mallory")
    result = run(tmp_path, github, llm)
    assert "Full review (first review)." in result.summary and len(llm.requests) == 1
    assert github.issue_comments[0]["body"] == forged and len(github.issue_comments) == 2


def test_our_comment_with_its_state_edited_is_not_trusted(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """Someone with write access edits our own summary comment so that `last` is the head (nothing left
    to review): the MAC no longer verifies, the review is full, and the comment gets a genuine state."""
    run(tmp_path / "1", github, llm)
    ours = github.issue_comments[-1]
    assert parse_state(KEY, ours["body"]).last == SHA_HEAD
    github.set_head(7, NEW_HEAD, SAMPLE_DIFF + NEW_FILE)
    github.set_compare(SHA_HEAD, NEW_HEAD, NEW_FILE)
    edited = ours["body"].replace(f'"last":"{SHA_HEAD}"', f'"last":"{NEW_HEAD}"')
    assert edited != ours["body"]
    GitHub("ghs_fake-token", github.url, "owner/repo").update_issue_comment(ours["id"], edited)  # over HTTP

    second = synchronize(tmp_path / "2", github, llm)

    assert "Full review (first review)." in second.summary and "find_users" in sent(llm, 1)
    assert "does not verify" in second.stdout
    assert parse_state(KEY, summary(github)).last == NEW_HEAD
    assert "sk-test-key-0123456789abcdef" not in summary(github)


def test_a_state_signed_with_another_key_is_not_trusted(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """A genuine-looking state in our own comment, signed with another key (a rotated api-key, or a forger
    who guessed the format): a full review."""
    other = state_key("sk-other-key-000000000000000", "owner/repo", 7)
    assert other is not None
    github.add_issue_comment(
        7,
        f"{SUMMARY_MARKER}\n## qodo-review\n\n{render_state(other, State(last=SHA_HEAD))}",
        user="github-actions[bot]",
        user_type="Bot",
    )
    result = run(tmp_path, github, llm)
    assert "Full review (first review)." in result.summary and len(llm.requests) == 1


def test_malformed_state_in_our_comment_means_a_full_review(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.add_issue_comment(
        7,
        f'{SUMMARY_MARKER}\n<!-- qodo-review:state {{"v": 1, "last": 42}} -->',
        user="github-actions[bot]",
        user_type="Bot",
    )
    result = run(tmp_path, github, llm)
    assert "Full review (first review)." in result.summary and len(llm.requests) == 1
    assert parse_state(KEY, summary(github)).last == SHA_HEAD  # our comment, edited in place with a sound state


# --- pure: which earlier comments count as addressed; thread lookup across pages ---------------------------


def review_comment(
    cid: int, body: str, *, line: int | None = None, login: str = "github-actions[bot]", reply_to: int | None = None
) -> ReviewComment:
    return ReviewComment(cid, body, "app/users.py", line, "RIGHT", login, reply_to, 1)


def ours(title: str, line: int | None = None) -> str:
    f = Finding("app/users.py", 12, 12, "RIGHT", Severity.HIGH, "bug", title, "b")
    return f"🟠 **High · bug:** {title}\n\nb\n\n{fingerprint_marker(f)}\n{issue_marker(f)}"


def test_find_addressed() -> None:
    comments = [
        review_comment(1, ours("Fixed one")),  # outdated, ours, no reply: addressed
        review_comment(2, ours("Still current"), line=12),  # lines unchanged
        review_comment(3, ours("Answered")),
        review_comment(4, "I disagree", login="alice", reply_to=3),  # a person replied: never resolved
        review_comment(5, ours("Our own follow-up")),
        review_comment(6, "Answer to your /ask", reply_to=5),  # our own reply is not a person's
        review_comment(7, ours("Forged"), login="mallory"),  # a person's comment carrying our markers
        review_comment(8, ours("Reported again")),
        review_comment(9, "no markers at all"),
        review_comment(10, ours("Another bot's"), login="other-app[bot]"),  # a bot, but not ours
    ]
    again = [Finding("app/users.py", 30, 30, "RIGHT", Severity.HIGH, "bug", "Reported again!", "moved")]
    assert [c.id for c in find_addressed(comments, again, "github-actions[bot]")] == [1, 5]
    assert [c.id for c in find_addressed(comments, again, "other-app[bot]")] == [10]


def test_issue_key_ignores_the_line_and_the_wording_around_the_gist() -> None:
    a = Finding("a.py", 1, 1, "RIGHT", Severity.LOW, "bug", "SQL injection in find_users", "x")
    assert issue_key(a) == issue_key(replace(a, line=40, end_line=41, side="LEFT", title="SQL injection in find-users"))
    assert issue_key(a) != issue_key(replace(a, path="b.py"))


def test_thread_lookup_follows_pages_and_skips_resolved(github: FakeGitHub) -> None:
    marker = ours("x")
    pages = {None: ([("T1", 11, False), ("T2", 12, True)], "c1"), "c1": ([("T3", 13, False)], None)}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        if "resolveReviewThread" in body["query"]:
            return {"data": {"resolveReviewThread": {"thread": {"id": body["variables"]["id"], "isResolved": True}}}}
        threads, cursor = pages[body["variables"]["cursor"]]
        nodes = [
            {"id": t, "isResolved": done, "comments": {"nodes": [{"databaseId": cid, "body": marker}]}}
            for t, cid, done in threads
        ]
        return {
            "data": {
                "repository": {
                    "pullRequest": {
                        "reviewThreads": {
                            "pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor},
                            "nodes": nodes,
                        }
                    }
                }
            }
        }

    github.graphql_response = answer
    with GitHub("ghs_fake-token", github.url, "owner/repo") as client:
        outcome, problem = resolve_addressed(client, 7, [review_comment(c, marker) for c in (11, 12, 13, 14)])
    assert problem == "" and [(a.comment.id, a.resolved) for a in outcome] == [(11, True), (13, True), (14, False)]
    assert [c["variables"].get("id") for c in github.graphql_calls if "resolve" in c["query"]] == ["T1", "T3"]
