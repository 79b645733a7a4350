"""/improve: parsing, the checks every suggestion passes before it is posted, ranking and the cap, the
Markdown of each channel, the chunking shared with /review, and end-to-end runs of the action and the CLI."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion
from tool_helpers import SAMPLE_DIFF, ScriptedModel, answer_json, issue_comment_event

from qodo_review import cli
from qodo_review.config import ReviewConfig
from qodo_review.diff import parse_diff, split_diff
from qodo_review.engine import run_task
from qodo_review.errors import AnswerError, ContextTooLong
from qodo_review.models import FileDiff, PullRequest
from qodo_review.redact import Redactor
from qodo_review.review import review_diff
from qodo_review.tasks import improve
from qodo_review.tasks.improve import Suggestion

SQL_FIX = '    rows = conn.execute("SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()'
SQL_OLD = "    rows = conn.execute(f\"SELECT id, name FROM users WHERE name LIKE '%{name}%'\").fetchall()"
ZERO_FIX = "    return sum(ages) / len(ages) if ages else 0.0"
ANSWER = {
    "suggestions": [
        {
            "path": "app/users.py",
            "line": 16,
            "end_line": 17,
            "importance": 6,
            "category": "bug",
            "reason": "Avoid ZeroDivisionError on an empty list",
            "original": "def average_age(ages: list[int]) -> float:\n    return sum(ages) / len(ages)",
            "replacement": "def average_age(ages: list[int]) -> float:\n" + ZERO_FIX,
        },
        {
            "path": "app/users.py",
            "line": 12,
            "end_line": 12,
            "importance": 9,
            "category": "security",
            "reason": "Use a bound parameter instead of an f-string",
            "original": SQL_OLD.strip(),
            "replacement": SQL_FIX,
        },
        {
            "path": "app/users.py",
            "line": 3,
            "end_line": 3,
            "importance": 8,
            "category": "docs",
            "reason": "Say what the module owns",
            "replacement": '"""Users: queries."""',
        },
    ]
}
TWO_HUNKS = """\
diff --git a/lib.py b/lib.py
--- a/lib.py
+++ b/lib.py
@@ -1,3 +1,3 @@
 a = 1
-b = 2
+b = 3
 c = 4
@@ -20,2 +20,3 @@
 x = 1
+y = 2
 z = 3
"""
FILES = {f.path: f for f in parse_diff(SAMPLE_DIFF + TWO_HUNKS)}
NONCE = "0123456789abcdef"
PR = PullRequest(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD)


def files(path: str) -> FileDiff | None:
    return FILES.get(path)


def sug(**kw: object) -> Suggestion:
    base: dict[str, object] = {
        "path": "app/users.py",
        "line": 12,
        "end_line": 12,
        "importance": 9,
        "category": "security",
        "reason": "Use a bound parameter",
        "replacement": SQL_FIX,
    }
    base.update(kw)
    return Suggestion(**base)  # type: ignore[arg-type]


# --- parsing -----------------------------------------------------------------------------------------


def test_parses_good_answers() -> None:
    (first, second, third) = improve.parse_suggestions("```json\n" + answer_json(ANSWER) + "\n```")
    assert second == sug(reason="Use a bound parameter instead of an f-string", original=SQL_OLD.strip())
    assert (first.line, first.end_line, first.importance) == (16, 17, 6)
    assert third.original is None


def test_parses_messy_answers() -> None:
    messy = {
        "improvements": {
            "file": "./app/users.py",
            "start_line": "13",
            "end_line": 12,
            "score": 42,
            "category": "nonsense",
            "title": "  two\nlines ",
            "suggestion": "x = 1",
        }
    }
    (s,) = improve.parse_suggestions(json.dumps(messy))
    assert s == Suggestion("app/users.py", 12, 13, 10, "maintainability", "two lines", "x = 1")


def test_entries_without_code_are_not_suggestions() -> None:
    data = {
        "suggestions": [
            {"path": "a.py", "line": 1, "reason": "no code"},
            "junk",
            3,
            {"path": "a.py", "line": 1, "replacement": ""},
        ]
    }
    (only,) = improve.parse_suggestions(json.dumps(data))
    assert only.replacement == "" and only.reason == "Suggested change"  # deleting lines is a suggestion


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nope",
        json.dumps({"suggestions": "all good"}),
        '{"suggestions": [{"path": "a.py", "line": 1, "replacement": "x"}',
    ],
)  # cut off
def test_unusable_answers_raise(text: str) -> None:
    with pytest.raises(AnswerError):
        improve.parse_suggestions(text)


# --- the checks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suggestion", "why"),
    [
        (sug(), ""),
        (sug(line=16, end_line=17, replacement="def average_age(ages: list[int]) -> float:\n" + ZERO_FIX), ""),
        (sug(replacement=""), ""),  # deletes the line
        (sug(replacement="x = '```'\ny = '````'"), ""),  # backticks inside: the fence grows
        (sug(path="lib.py", line=2, end_line=2, replacement="b = 5"), ""),
        (sug(path="nope.py"), "file not in the diff"),
        (sug(path=""), "no file given"),
        (sug(line=None, end_line=None), "no line given"),
        (sug(line=3, end_line=3), "line 3 is not a changed or context line of the head"),
        (sug(path="lib.py", line=2, end_line=21), "lines 2-21 are not all changed or context lines of one hunk"),
        (sug(replacement=SQL_OLD + "  \n"), "the replacement is the same as the current code"),
        (sug(original="rows = something_else()"), "the cited lines hold other code than the suggestion replaces"),
        (sug(replacement="    key = '<<SECRET:aws-access-key:1>>'"), "the replacement holds a redacted secret's"),
        (sug(replacement="x = 1  # \u202eevil"), "cannot be posted unchanged in a suggestion block"),
        (sug(replacement="s = '<!-- qodo-review:fp=0000000000000000 -->'"), "cannot be posted unchanged"),
        (sug(replacement="    key = 'AKIAIOSFODNN7EXAMPLF'"), "the redactor would change the code"),
    ],
)
def test_check(suggestion: Suggestion, why: str) -> None:
    found = improve.check(suggestion, files(suggestion.path), Redactor().redact)
    assert (why in found) if why else found == ""


def test_original_may_differ_in_indentation_only() -> None:
    assert (
        improve.check(
            sug(original="rows = conn.execute(f\"SELECT id, name FROM users WHERE name LIKE '%{name}%'\").fetchall()"),
            files("app/users.py"),
        )
        == ""
    )


def test_plan_ranks_caps_and_never_drops() -> None:
    suggestions = improve.parse_suggestions(answer_json(ANSWER))
    plan = improve.plan(suggestions, files, cap=1)
    assert [s.line for s, _ in plan.inline] == [12]  # importance 9 first
    assert [s.line for s in plan.over_cap] == [16]
    assert [(s.line, why) for s, why in plan.invalid] == [(3, "line 3 is not a changed or context line of the head")]


def test_plan_skips_posted_and_duplicate_suggestions() -> None:
    first = improve.plan([sug(), sug(reason="same change, other words")], files, cap=10)
    assert len(first.inline) == 1  # one change proposed twice in one run is posted once
    fp = first.inline[0][1]
    again = improve.plan([sug(), sug(line=17, end_line=17, replacement=ZERO_FIX)], files, cap=1, posted={fp})
    assert [s.line for s, _ in again.repeats] == [12] and again.inline == []
    assert [s.line for s in again.over_cap] == [17]  # the cap counts what is already on the PR


def test_fingerprint_survives_a_push_that_shifts_lines() -> None:
    assert improve.fingerprint(sug(line=12), SQL_OLD) == improve.fingerprint(sug(line=40), "  " + SQL_OLD.strip())
    assert improve.fingerprint(sug(), SQL_OLD) != improve.fingerprint(sug(replacement="pass"), SQL_OLD)


# --- rendering -----------------------------------------------------------------------------------------


def test_inline_comment_exact() -> None:
    s = sug(reason="Use a bound parameter; see @admin's note")
    assert improve.comment_body(s, "0123456789abcdef") == (
        "💡 **Suggestion · security · importance 9/10:** Use a bound parameter\\; see @\u200badmin\\'s note\n\n"
        f"```suggestion\n{SQL_FIX}\n```\n\n<!-- qodo-review:improve:fp=0123456789abcdef -->"
    )
    assert improve.comment_payload(sug(line=16, end_line=17), "b") == {
        "path": "app/users.py",
        "body": "b",
        "side": "RIGHT",
        "line": 17,
        "start_line": 16,
        "start_side": "RIGHT",
    }


def test_summary_exact_with_invalid_and_over_cap() -> None:
    plan = improve.plan(improve.parse_suggestions(answer_json(ANSWER)), files, cap=1)
    assert (
        improve.summary_markdown(plan, cap=1)
        == """\
## qodo-review suggestions

1 posted inline · 1 not postable as suggestions · 1 over the cap (max-suggestions: 1)

### Inline
- `app/users.py:12`: Use a bound parameter instead of an f\\-string (importance 9)

### Suggestions not posted inline
- **Say what the module owns** at `app/users.py:3` (importance 8; line 3 is not a changed or context line of \
the head)
  ```
  \"\"\"Users: queries.\"\"\"
  ```

<details><summary>1 more suggestions over the cap</summary>

- `app/users.py:16-17`: Avoid ZeroDivisionError on an empty list (importance 6)

</details>"""
    )


def test_hostile_code_in_the_summary_stays_in_its_block() -> None:
    s = sug(line=3, end_line=3, replacement="```\n</details>\n@admin [x](https://evil.example)\n```")
    text = improve.not_inline_section([(s, "why")])
    assert "  ````\n  ```\n  </details>" in text and text.endswith("  ````")


def test_no_suggestions_says_so() -> None:
    assert "No suggestions" in improve.summary_markdown(improve.Plan(), cap=10)


# --- the requests: the review's chunking ----------------------------------------------------------------


def big_diff(n: int, lines: int = 300) -> str:
    return "".join(
        f"diff --git a/m{i}.py b/m{i}.py\n--- a/m{i}.py\n+++ b/m{i}.py\n@@ -1 +1,{lines} @@\n-x\n"
        + "".join(f"+value_{i}_{k} = compute({k}, 'abcdefgh')\n" for k in range(lines))
        for i in range(n)
    )


def test_large_prs_use_the_same_chunking_as_review() -> None:
    config = ReviewConfig(max_input_tokens=12_000, max_calls=8)
    raw = split_diff(big_diff(5))
    review = review_diff(PR, raw, config, provider=None, redactor=Redactor(), nonce=NONCE, model="gpt-4.1")
    run = run_task(
        improve.spec(config, NONCE), PR, raw, config, caller=None, redactor=Redactor(), nonce=NONCE, model="gpt-4.1"
    )

    def files_per_call(users: list[str]) -> list[list[str]]:
        return [[ln for ln in u.splitlines() if ln.startswith("### File:")] for u in users]

    assert len(run.prompts) == len(review.prompts) > 1
    assert files_per_call([p.user for p in run.prompts]) == files_per_call([p.user for p in review.prompts])
    assert all(p.schema_name == "improve" and p.tokens_estimate <= 12_000 for p in run.prompts)


def test_context_overflow_halves_the_chunk_and_merges_the_answers() -> None:
    config = ReviewConfig(max_input_tokens=60_000)
    one = answer_json({"suggestions": [ANSWER["suggestions"][1]]})
    model = ScriptedModel(ContextTooLong("too long"), one, answer_json({"suggestions": []}))
    run = run_task(
        improve.spec(config, NONCE),
        PR,
        split_diff(SAMPLE_DIFF),
        config,
        caller=model,
        redactor=Redactor(),
        nonce=NONCE,
        model="gpt-4.1",
    )
    assert len(model.prompts) == 3 and run.errors == []
    assert run.answer is not None and [s.line for s in run.answer] == [12]


def test_request_is_redacted_and_carries_the_instructions() -> None:
    diff = SAMPLE_DIFF.replace("return sum(ages) / len(ages)", "return sum(ages) / len(ages)  # AKIAIOSFODNN7EXAMPLF")
    config = ReviewConfig(instructions="Prefer pathlib.", max_suggestions=4)
    model = ScriptedModel(answer_json(ANSWER))
    run_task(
        improve.spec(config, NONCE),
        PR,
        split_diff(diff),
        config,
        caller=model,
        redactor=Redactor(),
        nonce=NONCE,
        model="gpt-4.1",
    )
    (prompt,) = model.prompts
    assert "Prefer pathlib." in prompt.system and "Give at most 4 suggestions" in prompt.system
    assert "AKIAIOSFODNN7EXAMPLF" not in prompt.user and "<<SECRET:" in prompt.user


# --- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        fake.set_file(".qodo.yml", SHA_BASE, "max-suggestions: 2\n")
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def test_improve_posts_suggestions_summarizes_the_rest_and_never_repeats(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    run = run_action(tmp_path / "1", github_url=github.url, llm_url=llm.url, inputs={"command": "improve"})
    assert run.code == 0, run.stdout + run.stderr
    assert run.violations == [] and github.errors == []
    assert llm.requests[0].json["response_format"]["json_schema"]["name"] == "improve"
    (review,) = github.posted_reviews
    assert review["state"] == "COMMENTED"
    assert [(c["line"], c.get("start_line")) for c in review["comments"]] == [(12, None), (17, 16)]
    assert "```suggestion\n" + SQL_FIX + "\n```" in review["comments"][0]["body"]
    (comment,) = github.issue_comments
    assert comment["body"].startswith(improve.SUMMARY_MARKER + "\n## qodo-review suggestions")
    assert "Say what the module owns" in comment["body"] and "`app/users.py:3`" in comment["body"]
    assert github.check_runs == []
    assert run.findings is not None and run.findings["command"] == "improve"
    assert [(s["line"], s["status"]) for s in run.findings["suggestions"]] == [
        (12, "posted"),
        (16, "posted"),
        (3, "not-inline"),
    ]
    assert run.outputs["findings"] == "3"

    # the same answer again: nothing new is posted, the one summary comment is edited in place
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    second = run_action(tmp_path / "2", github_url=github.url, llm_url=llm.url, inputs={"command": "improve"})
    assert second.code == 0, second.stdout
    assert len(github.posted_reviews) == 1 and len(github.issue_comments) == 1
    assert "(posted earlier)" in github.issue_comments[0]["body"]
    assert second.findings is not None
    assert [s["status"] for s in second.findings["suggestions"]] == ["already-posted", "already-posted", "not-inline"]


def test_rejected_position_moves_to_the_summary(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    one = {"suggestions": [ANSWER["suggestions"][1]]}
    llm.enqueue(json=chat_completion(answer_json(one)))
    github.fail(
        "POST",
        r"/pulls/7/reviews$",
        422,
        times=2,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Pull request review thread line must be part of the diff"],
        },
    )
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "improve"})
    assert run.code == 0, run.stdout
    assert github.posted_reviews == []
    (comment,) = github.issue_comments
    assert "GitHub rejected the comment" in comment["body"] and SQL_FIX.strip() in comment["body"]


def test_comment_command_and_inline_off(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "publish: [comment]\n")
    github.set_permission("bob", "maintain")
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        event_name="issue_comment",
        payload=issue_comment_event("/improve", comment_id=github.add_issue_comment(7, "/improve", "bob")),
    )
    assert run.code == 0, run.stdout + run.stderr
    assert github.posted_reviews == []
    (_, summary) = github.issue_comments
    assert summary["body"].count("inline publishing is off") == 2 and "```suggestion" not in summary["body"]


def test_dry_run_posts_nothing(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "improve", "dry-run": "true"})
    assert run.code == 0, run.stdout + run.stderr
    assert llm.requests == [] and github.posted_reviews == [] and github.issue_comments == []
    assert "----- call 1: system -----" in run.stdout and "qodo-review /improve: dry run." in run.stdout
    assert "Suggestions apply to RIGHT-side lines only" in run.stdout


def test_provider_failure_is_incomplete(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    for _ in range(8):
        llm.enqueue(
            status=400,
            json={"error": {"message": "bad request", "type": "invalid_request_error", "param": None, "code": None}},
        )
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "improve"})
    assert run.code == 3, run.stdout
    assert run.findings is not None and run.findings["complete"] is False and run.findings["errors"]
    (comment,) = github.issue_comments
    assert "Incomplete" in comment["body"]


def test_cli_improve(tmp_path: Path, llm: FakeLLM) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    out = io.StringIO()
    code = cli.main(
        ["improve", "--diff", str(diff), "--provider", "openai", "--base-url", f"{llm.url}/v1"],
        env={"OPENAI_API_KEY": "sk-test-0123456789abcdef"},
        stdout=out,
    )
    assert code == 0
    text = out.getvalue()
    assert "```suggestion\n" + SQL_FIX in text and "Say what the module owns" in text
    assert "line 3 is not a changed or context line" in text


def test_suggestion_dataclass_is_frozen() -> None:
    with pytest.raises(AttributeError):
        sug().line = 3  # type: ignore[misc]
    assert replace(sug(), line=4).line == 4


def test_unreadable_earlier_suggestions_are_not_reposted(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("GET", r"/pulls/7/comments$", 403, body={"message": "Resource not accessible by integration"})
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "improve"})
    assert run.code == 0, run.stdout
    assert github.posted_reviews == []
    (comment,) = github.issue_comments
    assert comment["body"].count("earlier suggestions could not be read to avoid duplicates") == 2
