"""The review on the PR, end to end through the action (tests/e2e.py: fake GitHub and fake model over HTTP):
the summary in the reader's order with links to the inline threads, the walkthrough and effort from the
review's own answer, noise control (inline-min-severity, max-findings, dismissed threads), and dry runs and
incomplete reviews that never show "pass" (comment, check run, job summary, outputs, CLI)."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, ActionRun, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review import cli
from qodo_review.render import SUMMARY_MARKER

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample.diff"
SAMPLE_DIFF = SAMPLE.read_text(encoding="utf-8")
NEW_HEAD = "e" * 40
OLD_SQL = """    rows = conn.execute(f"SELECT id, name FROM users WHERE name LIKE '%{name}%'").fetchall()"""
MOVED_SQL = """    rows = conn.execute(f"SELECT id, name FROM users WHERE name LIKE '{name}%'").fetchall()"""


def finding(line: int, severity: str, title: str, path: str = "app/users.py") -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "side": "RIGHT",
        "severity": severity,
        "category": "bug",
        "title": title,
        "body": f"About {title.lower()}.",
    }


SQL = dict(finding(12, "critical", "SQL injection in find_users"), category="security")
DIVISION = finding(17, "medium", "Division by zero on an empty list")
NIT = finding(5, "low", "Test the empty list too", "app/test_users.py")
FILES = [
    {"path": "app/users.py", "change": "Adds find_users and average_age."},
    {"path": "app/test_users.py", "change": "Tests average_age."},
    {"path": "app/elsewhere.py", "change": "Not in this diff: dropped."},
]


def answer(*findings: dict[str, Any], effort: int = 3, why: str = "A new query to check.") -> dict[str, Any]:
    body = {
        "summary": "Adds a user search. The query is built from input.",
        "findings": list(findings),
        "files": FILES,
        "effort": {"score": effort, "why": why},
    }
    return chat_completion(json.dumps(body))


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def run(tmp: Path, github: FakeGitHub, llm: FakeLLM, **inputs: str) -> ActionRun:
    result = run_action(tmp, github_url=github.url, llm_url=llm.url, payload=pr_event(), inputs=inputs)
    assert result.violations == [] and github.errors == []
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


def summary(github: FakeGitHub) -> str:
    (comment,) = [c for c in github.issue_comments if c["body"].startswith(SUMMARY_MARKER)]
    return str(comment["body"])


def inline_titles(github: FakeGitHub) -> list[str]:
    heads = [c["body"].splitlines()[0].split(":** ", 1)[1] for r in github.posted_reviews for c in r["comments"]]
    return [re.sub(r"\\(.)", r"\1", h) for h in heads]  # plain() escapes punctuation


def test_the_summary_reads_in_order_and_links_each_finding_to_its_thread(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=answer(SQL, DIVISION, NIT, effort=4, why="The query is built from user input."))
    result = run(tmp_path, github, llm)
    assert result.code == 0
    body = summary(github)
    order = ["✅ **pass**", "### Walkthrough", "Effort to review: 4/5", "### Key findings", "<summary>Coverage"]
    assert [body.index(m) for m in order] == sorted(body.index(m) for m in order)
    assert "Adds a user search. The query is built from input." in body
    assert "| `app/` | `app/test_users.py` | +5 −0 | Tests average\\_age\\. |" in body  # the area, once
    assert "|  | `app/users.py` | +9 −0 | Adds find\\_users and average\\_age\\. |" in body
    assert "elsewhere" not in body  # a line for a file the call did not hold is dropped
    assert "**Effort to review: 4/5** ●●●●○ · The query is built from user input\\." in body
    for comment in github.review_comments:  # each posted finding's row links to its own thread
        title = comment["body"].splitlines()[0].split(":** ", 1)[1]
        assert f"[{title}]({comment['html_url']})" in body
    assert "[Test the empty list too]" not in body  # summary-only: no thread to link to
    # the check run links them too, and the job summary keeps the operations open
    (check,) = github.check_runs
    assert f"({github.review_comments[0]['html_url']})" in check["output"]["summary"]
    assert "### Coverage\n" in result.summary and "### What left the runner\n" in result.summary
    assert result.findings is not None
    assert result.findings["effort"] == {"score": 4, "why": "The query is built from user input."}
    assert [w["path"] for w in result.findings["walkthrough"]] == ["app/users.py", "app/test_users.py"]


def test_no_extra_model_call_for_the_walkthrough(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(SQL))
    run(tmp_path, github, llm)
    (request,) = llm.requests  # one call, whose schema asks for the files and the effort too
    schema = request.json["response_format"]["json_schema"]["schema"]
    assert {"files", "effort"} <= set(schema["required"])
    assert '"effort": {"score": <1-5>' in request.json["messages"][0]["content"]


def test_low_findings_go_to_the_summary_only_by_default(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(json=answer(SQL, DIVISION, NIT))
    result = run(tmp_path, github, llm)
    assert inline_titles(github) == ["SQL injection in find_users", "Division by zero on an empty list"]
    body = summary(github)
    assert "<details><summary>1 lower-severity finding, in this summary only (inline-min-severity)</summary>" in body
    assert "Test the empty list too" in body and "About test the empty list too." in body
    assert "1 below inline-min-severity" in result.stdout
    assert result.findings is not None
    assert [n["finding"]["title"] for n in result.findings["not_inline"]] == ["Test the empty list too"]


@pytest.mark.parametrize(
    ("config", "inputs", "inline"),
    [
        ("inline-min-severity: low\n", {}, 3),  # everything inline
        ("inline-min-severity: critical\n", {}, 1),  # only the critical one
        ("inline-min-severity: critical\n", {"fail-on": "low"}, 3),  # a finding that fails the gate: always inline
    ],
)
def test_inline_min_severity(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, config: str, inputs: dict[str, str], inline: int
) -> None:
    github.set_file(".qodo.yml", SHA_BASE, config)
    llm.enqueue(json=answer(SQL, DIVISION, NIT))
    run(tmp_path, github, llm, **inputs)
    assert len(inline_titles(github)) == inline


def test_a_wrong_inline_min_severity_names_the_key_and_the_values(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "inline-min-severity: loud\n")
    result = run(tmp_path, github, llm)
    assert result.code == 2
    assert "'inline-min-severity' must be one of critical, high, medium, low, info (got 'loud')" in result.stdout


def many(count: int, severity: str) -> list[dict[str, Any]]:
    lines = [9, 10, 11, 12, 13, 14, 15, 16, 17]
    return [finding(lines[i % len(lines)], severity, f"Problem number {i}") for i in range(count)]


def test_at_most_ten_inline_by_default_but_every_gating_finding(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=answer(*many(12, "medium")))
    run(tmp_path / "1", github, llm)
    assert len(inline_titles(github)) == 10
    assert summary(github).count("(over the inline limit \\(10\\))") == 2

    with FakeGitHub() as other:
        other.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        llm.enqueue(json=answer(*many(12, "high")))
        result = run(tmp_path / "2", other, llm, **{"fail-on": "high"})
        assert result.code == 1 and len(inline_titles(other)) == 12  # each fails the gate: each is inline


def fix_and_review_again(tmp: Path, github: FakeGitHub, llm: FakeLLM) -> ActionRun:
    """A push that changes the finding's line, and a model that reports it again: normally posted anew."""
    github.set_head(7, NEW_HEAD, SAMPLE_DIFF.replace(OLD_SQL, MOVED_SQL))
    llm.enqueue(json=answer(SQL))
    return run_action(
        tmp, github_url=github.url, llm_url=llm.url, payload=pr_event(action="synchronize"), inputs={"fail-on": "high"}
    )


@pytest.mark.parametrize(
    ("dismiss", "again"),
    [
        ("resolved by a person", False),
        ("👎 by a person", False),
        (None, True),
        ("👎 by a bot", True),
        ("resolved by an app", True),  # GitHub answers resolvedBy null: who it was is unknown, so not a person
    ],
)
def test_a_finding_a_person_dismissed_is_not_posted_again_but_still_counts(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM, dismiss: str | None, again: bool
) -> None:
    llm.enqueue(json=answer(SQL))
    first = run(tmp_path / "1", github, llm, **{"fail-on": "high"})
    assert first.code == 1
    (comment,) = github.review_comments
    if dismiss == "resolved by a person":
        github.resolve_thread(comment["id"], by="alice")
    elif dismiss == "👎 by a person":
        github.add_reaction(comment["id"], "-1", user="bob")
    elif dismiss == "👎 by a bot":
        github.add_reaction(comment["id"], "-1", user="renovate[bot]")
    elif dismiss == "resolved by an app":
        github.resolve_thread(comment["id"], by="other-app[bot]")
    second = fix_and_review_again(tmp_path / "2", github, llm)

    assert github.errors == [] and second.violations == []
    assert second.code == 1  # the gate still counts it: a dismissal never opens a gate
    assert len(github.review_comments) == (2 if again else 1)
    body = summary(github)
    row = next(line for line in body.splitlines() if "SQL injection" in line and line.startswith("| 🔴"))
    if again:
        assert "dismissed" not in row
    else:
        assert f"]({comment['html_url']}) (dismissed earlier: not posted again)" in row
        assert "1 dismissed earlier" in second.stdout
        assert second.findings is not None
        (moved,) = second.findings["not_inline"]
        assert moved["reason"].startswith("a person ") and moved["reason"].endswith("earlier: not posted again")
    reads = [c for c in github.graphql_calls if c["query"].startswith("query DismissedThreads(")]
    assert len(reads) == 1  # one read, and only because a new finding matched an earlier comment of ours


def test_a_dry_run_is_never_a_pass(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    result = run(tmp_path, github, llm, **{"dry-run": "true"})
    assert result.code == 0 and llm.requests == []
    assert result.outputs["verdict"] == "dry-run"
    assert result.findings is not None and result.findings["verdict"] == "dry-run"
    assert result.summary.split("\n\n")[1].startswith("🔍 **not reviewed (dry run)**")
    assert "✅" not in result.summary and "pass" not in result.summary.split("### Coverage")[0]
    assert github.check_runs == [] and github.issue_comments == []  # a dry run posts nothing
    assert "qodo-review: not reviewed (dry run); 0 findings." in result.stdout  # the log's last line

    out = io.StringIO()
    assert cli.main(["review", "--diff", str(SAMPLE), "--dry-run"], env={}, stdout=out) == 0
    text = out.getvalue()
    assert "🔍 **not reviewed (dry run)**" in text and "✅" not in text


def test_an_incomplete_review_says_so_first_everywhere(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    for _ in range(2):  # an answer that is not the JSON asked for, twice: the call fails
        llm.enqueue(json=chat_completion("I would rather not."))
    result = run(tmp_path, github, llm)
    assert result.code == 3 and result.outputs["complete"] == "false"
    assert "qodo-review: INCOMPLETE review; 0 findings." in result.stdout
    (check,) = github.check_runs
    assert check["output"]["title"].startswith("Incomplete review: ")
    texts = {"comment": summary(github), "job summary": result.summary, "check": check["output"]["summary"]}
    for where, text in texts.items():
        head = text.removeprefix(SUMMARY_MARKER).lstrip().removeprefix("## qodo-review").lstrip()
        assert head.startswith("⚠️ **incomplete review**"), where
        assert "✅" not in text, where

    for _ in range(2):
        llm.enqueue(json=chat_completion("Still no JSON."))
    out = io.StringIO()
    env = {"OPENAI_API_KEY": "sk-test-key-0123456789abcdef"}
    args = ["review", "--diff", str(SAMPLE), "--provider", "openai", "--base-url", f"{llm.url}/v1"]
    assert cli.main(args, env=env, stdout=out) == 3
    cli_text = out.getvalue()
    assert re.search(r"^⚠️ \*\*incomplete review\*\*", cli_text, re.MULTILINE) and "✅" not in cli_text
