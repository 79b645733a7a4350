"""What people read, exactly: the summary comment, the job summary, an inline comment and the check run,
rendered from a real review (the engine over a diff, a scripted model) and compared with the snapshots in
tests/snapshots/ (tests/snapshot.py). Then the walkthrough and effort as the model's hostile text."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from snapshot import assert_snapshot

from qodo_review.config import ReviewConfig
from qodo_review.diff import split_diff
from qodo_review.layout import Placement, check_output, review_summary, thread_url
from qodo_review.models import Answer, Completion, Effort, Finding, Prompt, PullRequest, Severity
from qodo_review.outcome import Outcome
from qodo_review.redact import Redactor
from qodo_review.render import finding_comment, fingerprint_digest, history_section, verdict_line
from qodo_review.review import review_diff
from qodo_review.state import Entry
from qodo_review.tasks.review import merge_answers
from qodo_review.walkthrough import parse_effort, parse_files, scoped, sentences

PR = PullRequest(
    7, "Add user search", "Adds find_users.", "b" * 40, "c" * 40, html_url="https://github.com/owner/repo/pull/7"
)
DIFF = """\
diff --git a/app/users.py b/app/users.py
index af3829a..69fa6c0 100644
--- a/app/users.py
+++ b/app/users.py
@@ -6,3 +6,12 @@ import sqlite3
 def get_user(conn: sqlite3.Connection, user_id: int) -> dict | None:
     row = conn.execute("SELECT id, name FROM users WHERE id = ?", (user_id,)).fetchone()
     return {"id": row[0], "name": row[1]} if row else None
+
+
+def find_users(conn: sqlite3.Connection, name: str) -> list[dict]:
+    rows = conn.execute(f"SELECT id, name FROM users WHERE name LIKE '%{name}%'").fetchall()
+    return [{"id": r[0], "name": r[1]} for r in rows]
+
+
+def average_age(ages: list[int]) -> float:
+    return sum(ages) / len(ages)
diff --git a/app/test_users.py b/app/test_users.py
new file mode 100644
index 0000000..1c90387
--- /dev/null
+++ b/app/test_users.py
@@ -0,0 +1,5 @@
+from app.users import average_age
+
+
+def test_average_age():
+    assert average_age([30, 40]) == 35
diff --git a/docs/search.md b/docs/search.md
new file mode 100644
index 0000000..2b1c3d4
--- /dev/null
+++ b/docs/search.md
@@ -0,0 +1,3 @@
+# Search
+
+`find_users(conn, name)` returns the users whose name contains `name`.
diff --git a/package-lock.json b/package-lock.json
index 1111111..2222222 100644
--- a/package-lock.json
+++ b/package-lock.json
@@ -1,3 +1,3 @@
 {
-  "version": "1.0.0"
+  "version": "1.1.0"
 }
"""
SQL = {
    "path": "app/users.py",
    "line": 12,
    "side": "RIGHT",
    "severity": "critical",
    "category": "security",
    "title": "SQL injection in find_users",
    "body": "`name` is interpolated into the SQL text. Pass it as a parameter.",
    "suggestion": '    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()',
}
DIVISION = {
    "path": "app/users.py",
    "line": 17,
    "side": "RIGHT",
    "severity": "medium",
    "category": "bug",
    "title": "Division by zero on an empty list",
    "body": "`len(ages)` is 0 for an empty list.",
}
NIT = {
    "path": "app/test_users.py",
    "line": 5,
    "side": "RIGHT",
    "severity": "low",
    "category": "tests",
    "title": "Test the empty list too",
    "body": "Add a case for `[]`.",
}
OUTSIDE = {
    "path": "app/users.py",
    "line": 2,
    "side": "RIGHT",
    "severity": "medium",
    "category": "reliability",
    "title": "The connection is never closed",
    "body": "`get_user` leaves closing to the caller; say so.",
}
ANSWER = {
    "summary": "Adds a name search to the users module and documents it. The search builds SQL from user input. "
    "A test covers the average age.",
    "findings": [SQL, DIVISION, NIT, OUTSIDE],
    "files": [
        {"path": "app/users.py", "change": "Adds `find_users` (name search) and `average_age`."},
        {"path": "app/test_users.py", "change": "Tests `average_age` for two users."},
        {"path": "docs/search.md", "change": "Documents the search."},
        {"path": "app/ghost.py", "change": "A file this part did not hold: dropped."},
    ],
    "effort": {"score": 3, "why": "Small, but the new query needs a careful look at how it is built."},
}
TIMINGS = {"fetch": 0.41, "select": 0.01, "budget": 0.02, "model": 3.2, "prompts": 0.05, "findings": 0.01}


class Scripted:
    """A model that answers each call with the next of these texts (and records the prompts)."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.prompts: list[Prompt] = []

    def complete(self, prompt: Prompt) -> Completion:
        self.prompts.append(prompt)
        return Completion(self.texts.pop(0), tokens_in=1200, tokens_out=240, model="gpt-4.1")


def reviewed(answer: dict[str, Any] | None = None, *, config: ReviewConfig | None = None) -> Outcome[Answer]:
    provider = Scripted(json.dumps(answer or ANSWER))
    report = review_diff(
        PR,
        split_diff(DIFF),
        config or ReviewConfig(fail_on=Severity.HIGH),
        provider=provider,
        redactor=Redactor(),
        nonce="n0nce",
        provider_host="api.openai.com",
        model="gpt-4.1",
    )
    report.timings = dict(TIMINGS)
    report.source = "GitHub's diff"
    return report


def finding(report: Outcome[Answer], title: str) -> Finding:
    return next(f for f in report.findings if f.title == title)


def placement(report: Outcome[Answer]) -> Placement:
    """As the inline channel leaves it: two threads posted, the low finding kept for the summary."""
    sql, division = finding(report, SQL["title"]), finding(report, DIVISION["title"])
    return Placement(
        links={
            fingerprint_digest(sql): "https://github.com/owner/repo/pull/7#discussion_r1001",
            fingerprint_digest(division): "https://github.com/owner/repo/pull/7#discussion_r1002",
        },
        summary_only=[(finding(report, NIT["title"]), "below inline-min-severity (medium): in the summary only")],
    )


HISTORY = history_section(
    [
        Entry("a" * 40, "2026-01-02T03:04:05Z", "gpt-4.1", "pass", False, "full"),
        Entry("c" * 40, "2026-01-03T03:04:05Z", "gpt-4.1", "fail", True, "full"),
    ]
)


def test_the_summary_comment() -> None:
    report = reviewed()
    text = review_summary(
        report,
        "github.com/owner/repo",
        scope="Full review (first review).",
        history=HISTORY,
        placement=placement(report),
    )
    assert_snapshot("summary_comment.md", text)
    # the order: verdict, walkthrough, effort, key findings, outside the diff, then the folded operations
    marks = ["❌ **fail**", "### Walkthrough", "**Effort to review: 3/5**", "### Key findings", "### Findings outside"]
    marks += ["<details><summary>Coverage</summary>", "<summary>What left the runner</summary>"]
    marks += ["<summary>Review history</summary>"]
    assert [text.index(m) for m in marks] == sorted(text.index(m) for m in marks)
    assert "[SQL injection in find\\_users](https://github.com/owner/repo/pull/7#discussion_r1001)" in text
    assert "ghost" not in text  # the line for a file the part did not hold was dropped


def test_the_job_summary_keeps_the_operations_open() -> None:
    report = reviewed()
    text = review_summary(
        report,
        "github.com/owner/repo",
        job=True,
        scope="Full review (first review).",
        placement=placement(report),
        operations=["### Delivery\n- inline: posted 2 comments, 1 below inline-min-severity"],
    )
    assert_snapshot("job_summary.md", text)
    assert "### Coverage\n" in text and "### Delivery\n" in text and "<summary>Coverage" not in text


def test_the_inline_comment() -> None:
    report = reviewed()
    assert_snapshot("inline_comment.md", finding_comment(finding(report, SQL["title"]), "github.com/owner/repo"))


def test_the_check_run() -> None:
    report = reviewed()
    links = placement(report).links
    output = check_output(report, "github.com/owner/repo", links)
    assert_snapshot(
        "check_run.md", f"title: {output['title']}\n\n## summary\n\n{output['summary']}\n\n## text\n\n{output['text']}"
    )


def test_a_dry_run_says_not_reviewed_and_never_pass() -> None:
    report = review_diff(
        PR,
        split_diff(DIFF),
        ReviewConfig(),
        provider=None,
        redactor=Redactor(),
        nonce="n0nce",
        provider_host="api.openai.com",
        model="gpt-4.1",
    )
    report.timings = dict(TIMINGS)
    text = review_summary(report, "github.com/owner/repo", job=True)
    assert_snapshot("dry_run_summary.md", text)
    assert text.split("\n\n")[1].startswith("🔍 **not reviewed (dry run)**")
    assert "pass" not in text and "✅" not in text
    assert report.verdict_shown == "dry-run" and report.findings_document()["verdict"] == "dry-run"
    assert report.outputs("f.json")["verdict"] == "dry-run"


def test_an_incomplete_review_says_so_first_and_never_beside_a_check_mark() -> None:
    provider = Scripted("Sorry, no JSON today.", "Still no JSON.")  # the call fails: its lines are not reviewed
    report = review_diff(
        PR, split_diff(DIFF), ReviewConfig(), provider=provider, redactor=Redactor(), nonce="n0nce", model="gpt-4.1"
    )
    report.timings = dict(TIMINGS)
    assert not report.complete and report.verdict == "pass"  # no gate: the verdict is pass, the review incomplete
    text = review_summary(report, "github.com/owner/repo")
    assert_snapshot("incomplete_summary.md", text)
    line = verdict_line(report)
    assert line.startswith("⚠️ **incomplete review**") and "✅" not in line and "pass" not in line
    output = check_output(report, "github.com/owner/repo")
    assert output["title"].startswith("Incomplete review: ")
    assert output["summary"].startswith("⚠️ **incomplete review**") and "✅" not in output["summary"]


# --- the walkthrough and effort are the model's hostile text -------------------------------------------


def test_file_lines_and_effort_are_read_tolerantly() -> None:
    assert parse_files([{"path": "b/a.py", "change": " two\nlines "}, {"path": "a.py", "change": "again"}, 3]) == (
        ("a.py", "two lines"),
    )
    assert parse_files({"x.py": "as a mapping"}) == (("x.py", "as a mapping"),)
    assert parse_files("not a list") == () and parse_files([{"path": "a.py"}]) == ()
    assert parse_effort({"score": "4", "why": "a\nb"}) == Effort(4, "a b")
    assert parse_effort(2) == Effort(2, "")
    for bad in (0, 6, 99, -1, True, "high", None, {"score": 3.5}, [3]):
        assert parse_effort(bad) is None, bad
    assert len(parse_files([{"path": "a.py", "change": "x" * 10_000}])[0][1]) == 300


def test_a_line_for_a_file_outside_the_part_is_dropped() -> None:
    answer = Answer("s", (), (("a.py", "mine"), ("b.py", "not mine")), Effort(2, "why"))
    assert scoped(answer, {"a.py"}).files == (("a.py", "mine"),)


def test_the_pr_effort_is_the_highest_parts_with_its_why() -> None:
    parts = [
        Answer("One.", (), (("a.py", "A"),), Effort(2, "small")),
        Answer("Two.", (), (("b.py", "B"), ("a.py", "A again")), Effort(4, "the auth change")),
        Answer("Three.", (), (), Effort(4, "a later tie")),
        Answer("Four.", (), (), None),
    ]
    merged = merge_answers(parts)
    assert merged.effort == Effort(4, "the auth change")
    assert merged.files == (("a.py", "A"), ("b.py", "B"))


def test_the_walkthrough_prose_is_at_most_five_sentences_every_part_first() -> None:
    text = "A1. A2. A3. A4.\n\nB1. B2. B3.\n\nC1."
    assert sentences(text) == "A1. A2.\n\nB1. B2.\n\nC1."
    assert sentences("One only.") == "One only."


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/o/r/pull/7#discussion_r12", "https://github.com/o/r/pull/7#discussion_r12"),
        ("https://ghe.example/o/r/pull/7#discussion_r12", "https://ghe.example/o/r/pull/7#discussion_r12"),
        (
            "https://github.com/o/r/pull/7#discussion_r12) [x](https://evil",
            "https://github.com/o/r/pull/7#discussion_r5",
        ),
        ("javascript:alert(1)", "https://github.com/o/r/pull/7#discussion_r5"),
        ("", "https://github.com/o/r/pull/7#discussion_r5"),
    ],
)
def test_thread_links_are_githubs_own_urls(url: str, expected: str) -> None:
    assert thread_url(url, "https://github.com/o/r/pull/7", 5) == expected
    assert thread_url(url, "", 5) == (expected if expected == url else "")


def test_hostile_model_text_in_the_walkthrough_is_inert() -> None:
    hostile = dict(
        ANSWER,
        summary="<img src=x onerror=alert(1)> @org/team closes #1. [click](javascript:alert(1))",
        files=[{"path": "app/users.py", "change": "| broken | table <details> @admin fixes #2 ![x](http://e/x.png)"}],
        effort={"score": 5, "why": "</details><script>alert(1)</script> ping @everyone"},
    )
    text = review_summary(reviewed(hostile), "github.com/owner/repo")
    walkthrough = text.split("### Walkthrough", 1)[1].split("### Key findings", 1)[0]
    for bad in (r"(?<!\\)<img", r"(?<!\\)<script", r"\]\(javascript:", r"\]\(http://e", r"\| broken \|", "@admin"):
        assert not re.search(bad, walkthrough), bad
    assert "@\u200beveryone" in walkthrough  # a mention is broken, not sent
    assert walkthrough.count("<details>") == walkthrough.count("</details>") == 1


def rows_of(text: str) -> Sequence[str]:
    return [line for line in text.splitlines() if line.startswith("| ")]


def test_the_changed_files_are_grouped_by_area() -> None:
    text = review_summary(reviewed(), "github.com/owner/repo")
    table = text.split("<summary>Changed files (4)</summary>", 1)[1].split("</details>", 1)[0]
    areas = [row.split(" | ")[0].removeprefix("| ") for row in rows_of(table)[1:]]
    assert areas == ["`app/`", "", "`docs/`", "(root)"]


def test_the_readme_shows_the_real_summary() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    shown = readme.split("````markdown\n", 1)[1].split("\n````", 1)[0]
    snapshot = (Path(__file__).resolve().parent / "snapshots" / "summary_comment.md").read_text(encoding="utf-8")
    assert "<!-- qodo-review:summary -->\n\n" + shown == snapshot.rstrip("\n")
