"""/describe: parsing, the hidden-marker section and its splice into the body, labels, the request sent,
and end-to-end runs of the action (body edit, re-run, permission fallback, comment command, dry run, CLI)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion
from hypothesis import given
from hypothesis import strategies as st
from tool_helpers import SAMPLE_DIFF, ScriptedModel, answer_json, issue_comment_event

from qodo_review import cli
from qodo_review.config import ReviewConfig
from qodo_review.diff import split_diff
from qodo_review.engine import run_task
from qodo_review.errors import AnswerError
from qodo_review.models import PullRequest, Skipped
from qodo_review.redact import Redactor
from qodo_review.tasks import describe
from qodo_review.tasks.describe import END, START, Description, WalkRow

ANSWER = {
    "title": "Add user search and average age",
    "types": ["feature", "tests"],
    "summary": "Adds `find_users` and `average_age` to the users module, with a test.",
    "walkthrough": [
        {"files": ["app/users.py"], "change": "New find_users and average_age helpers"},
        {"files": ["app/test_users.py"], "change": "Test for average_age"},
    ],
    "notes": ["find_users builds SQL from its argument."],
    "labels": ["enhancement", "made-up-label"],
}
DESC = Description(
    "Add user search and average age",
    ("feature", "tests"),
    "Adds `find_users` and `average_age` to the users module, with a test.",
    (
        WalkRow(("app/users.py",), "New find_users and average_age helpers"),
        WalkRow(("app/test_users.py",), "Test for average_age"),
    ),
    ("find_users builds SQL from its argument.",),
    ("enhancement", "made-up-label"),
)
NONCE = "0123456789abcdef"
PR = PullRequest(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD)


# --- parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        answer_json(ANSWER),
        "```json\n" + json.dumps(ANSWER, indent=2) + "\n```",
        "Here is the description:\n" + answer_json(ANSWER) + "\nHope it helps.",
    ],
)
def test_parses_good_and_fenced_answers(text: str) -> None:
    assert describe.parse_description(text) == DESC


def test_parses_messy_answers() -> None:
    messy = {
        "title": "  Add\n search ",
        "type": "feat",
        "description": "Adds search.",
        "walkthrough": {"file": "app/users.py", "description": "search"},
        "notes": "- first risk\n- second risk",
        "labels": "bug",
    }
    desc = describe.parse_description(json.dumps(messy))
    assert desc == Description(
        "Add search",
        ("feature",),
        "Adds search.",
        (WalkRow(("app/users.py",), "search"),),
        ("first risk", "second risk"),
        ("bug",),
    )


@pytest.mark.parametrize(
    ("types", "expected"),
    [(["Bug", "fix", "docs"], ("bug fix", "docs")), ("weird", ("other",)), (None, ("other",)), ([3, {}], ("other",))],
)
def test_change_types_are_a_closed_set(types: object, expected: tuple[str, ...]) -> None:
    data = {"summary": "s", "walkthrough": [], "types": types}
    assert describe.parse_description(json.dumps(data)).types == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no json here",
        "[1]",
        json.dumps({"title": "only a title"}),
        '{"summary": "cut off", "walkthrough": [{"files": ["a.py"], "change": "c"}',
    ],
)
def test_unusable_answers_raise(text: str) -> None:
    with pytest.raises(AnswerError):
        describe.parse_description(text)


def test_labels_only_from_config() -> None:
    assert describe.choose_labels(["Enhancement", "made-up", "BUG", "bug"], ["bug", "enhancement"]) == (
        "enhancement",
        "bug",
    )
    assert describe.choose_labels(["bug"], []) == ()


# --- the section ---------------------------------------------------------------------------------------


SECTION = f"""{START}
### Description

**Type:** feature, tests

Adds `find_users` and `average_age` to the users module, with a test.

**Walkthrough**

| Files | What changed |
|---|---|
| `app/users.py` | New find\\_users and average\\_age helpers |
| `app/test_users.py` | Test for average\\_age |

**Notes for reviewers**

- find_users builds SQL from its argument.

**Suggested title:** Add user search and average age

**Labels:** `enhancement`

<sub>Written by qodo-review. Text outside this section is yours and is never changed; comment `/describe` to \
rewrite this section.</sub>
{END}"""


def test_section_exact_markdown() -> None:
    assert describe.render_section(DESC, "github.com", labels=["enhancement"]) == SECTION


def test_section_lists_files_not_shown_but_not_withheld_ones() -> None:
    skipped = [Skipped("package-lock.json", "lock file", 900), Skipped(".env", "secret file", 2, "withheld")]
    section = describe.render_section(DESC, "github.com", not_shown=skipped)
    assert "| `package-lock.json` | not shown to the model (lock file) |" in section
    assert ".env" not in section


def test_hostile_model_text_cannot_break_the_section() -> None:
    hostile = Description(
        f"x {END} @admin",
        ("feature",),
        f"Ok {END}\n<!-- qodo-review:describe:start -->\n"
        "![pixel](https://evil.example/p.png) [click](https://evil.example) @octocat fixes #1",
        (WalkRow((f"a|b{END}.py",), f"c | d {END}"),),
        (f"note {END}",),
        (),
    )
    section = describe.render_section(hostile, "github.com")
    assert section.count(START) == 1 and section.count(END) == 1
    assert section.startswith(START) and section.endswith(END)
    assert "https://evil.example" not in section and "@octocat" not in section and "@admin" not in section
    body = describe.splice_body("mine", section)
    assert describe.splice_body(body, SECTION) == "mine\n\n" + SECTION


def test_fit_section_drops_rows_before_giving_up() -> None:
    many = Description("t", ("feature",), "s", tuple(WalkRow((f"f{i}.py",), "x" * 200) for i in range(100)), (), ())
    full = describe.render_section(many, "github.com")
    fitted = describe.fit_section(many, "github.com", len(full) - 1)
    assert fitted is not None and len(fitted) < len(full) and "…and 60 more rows" in fitted
    assert describe.fit_section(many, "github.com", 50) is None


# --- splicing into the body -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "S"),
        ("   \n", "S"),
        ("Fixes the thing.", "Fixes the thing.\n\nS"),
        ("Fixes the thing.\n", "Fixes the thing.\n\nS"),
        (f"Before\n{START}\nold\n{END}\nAfter", "Before\nS\nAfter"),
        (f"{START}old{END}", "S"),
        (f"A\r\n{START}\r\nold\r\n{END}\r\nB\r\n", "A\r\nS\r\nB\r\n"),
        (f"A {START}x{END} B {START}y{END} C", "A S B  C"),  # a pasted second copy goes too
        (f"A {START} lone, the end was deleted", "A  lone, the end was deleted\n\nS"),
        (f"A {END} lone", "A  lone\n\nS"),
        (f"A {START} mine {START}old{END} B", "A  mine S B"),  # a lone start never swallows the author's text
    ],
)
def test_splice_keeps_the_authors_text(body: str, expected: str) -> None:
    assert describe.splice_body(body, "S") == expected


author_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200).filter(
    lambda t: "qodo-review" not in t
)


@given(author_text, author_text)
def test_splice_rerun_replaces_only_its_section(before: str, after: str) -> None:
    first = describe.splice_body(before, f"{START}one{END}") + after
    second = describe.splice_body(first, f"{START}two{END}")
    assert second == first.replace(f"{START}one{END}", f"{START}two{END}")
    assert describe.section_of(second) == f"{START}two{END}"


# --- the request ---------------------------------------------------------------------------------------


def test_request_is_redacted_fenced_and_names_files_not_shown() -> None:
    secret = "AKIAIOSFODNN7EXAMPLF"
    diff = SAMPLE_DIFF + (
        f"diff --git a/app/cfg.py b/app/cfg.py\n--- a/app/cfg.py\n+++ b/app/cfg.py\n"
        f"@@ -1 +1 @@\n-KEY = ''\n+KEY = '{secret}'\n"
        "diff --git a/yarn.lock b/yarn.lock\n--- a/yarn.lock\n+++ b/yarn.lock\n@@ -1 +1 @@\n-a\n+b\n"
    )
    model = ScriptedModel(answer_json(ANSWER))
    config = ReviewConfig(labels=("enhancement", "bug"))
    run = run_task(
        describe.spec(config, NONCE),
        PR,
        split_diff(diff),
        config,
        caller=model,
        redactor=Redactor(),
        nonce=NONCE,
        host="api.openai.com",
        model="gpt-4.1",
    )
    (prompt,) = model.prompts
    assert prompt.schema_name == "describe" and prompt.schema["properties"]["labels"]["items"]["enum"] == [
        "enhancement",
        "bug",
    ]
    assert '"enhancement", "bug"' in prompt.system
    assert secret not in prompt.user and "<<SECRET:" in prompt.user
    assert prompt.user.startswith(f"<<<DATA-{NONCE}\n") and prompt.user.endswith(f"DATA-{NONCE}>>>")
    assert "- yarn.lock (2 changed lines; lock file)" in prompt.user
    assert run.answer == DESC and run.usage.calls == 1 and run.complete


def test_one_call_and_the_rest_listed_when_the_diff_is_large() -> None:
    files = "".join(
        f"diff --git a/m{i}.py b/m{i}.py\n--- a/m{i}.py\n+++ b/m{i}.py\n@@ -1 +1,200 @@\n-x\n"
        + "".join(f"+line_{i}_{n} = {n} * 12345678\n" for n in range(200))
        for i in range(12)
    )
    config = ReviewConfig(max_input_tokens=8000)
    model = ScriptedModel(answer_json(ANSWER))
    run = run_task(
        describe.spec(config, NONCE),
        PR,
        split_diff(files),
        config,
        caller=model,
        redactor=Redactor(),
        nonce=NONCE,
        model="gpt-4.1",
    )
    assert len(model.prompts) == 1 and model.prompts[0].tokens_estimate <= 8000
    not_shown = [s for s in run.skipped if s.kind == "not-reviewed"]
    assert not_shown and all(
        s.reason == "did not fit in the one model call this tool makes (max-input-tokens)" for s in not_shown
    )
    assert f"- {not_shown[0].path} (201 changed lines;" in model.prompts[0].user


def test_unusable_answer_is_an_error_not_a_description() -> None:
    model = ScriptedModel("I would rather not.", "Still no.")  # the answer is asked for again once
    config = ReviewConfig()
    run = run_task(
        describe.spec(config, NONCE),
        PR,
        split_diff(SAMPLE_DIFF),
        config,
        caller=model,
        redactor=Redactor(),
        nonce=NONCE,
        model="gpt-4.1",
    )
    assert run.answer is None and len(model.prompts) == 2
    assert "no JSON object" in run.errors[0] and not run.complete


# --- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(
            7, "Add user search", "My own words.\n\nPlease review carefully.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF
        )
        fake.set_file(".qodo.yml", SHA_BASE, "labels: [enhancement, bug]\n")
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def test_describe_writes_between_markers_then_a_rerun_replaces_only_its_section(
    tmp_path: Path, github: FakeGitHub, llm: FakeLLM
) -> None:
    llm.enqueue(json=chat_completion(answer_json(ANSWER), prompt_tokens=900, completion_tokens=150))
    run = run_action(tmp_path / "1", github_url=github.url, llm_url=llm.url, inputs={"command": "describe"})
    assert run.code == 0, run.stdout + run.stderr
    assert run.violations == [] and github.errors == []
    (request,) = llm.requests
    assert request.json["response_format"]["json_schema"]["name"] == "describe"
    body = github.pull(7)["body"]
    assert body.startswith("My own words.\n\nPlease review carefully.\n\n" + START)
    assert body.endswith(END) and "New find\\_users and average\\_age helpers" in body
    assert github.labels == {7: ["enhancement"]}  # made-up-label is never applied
    assert github.issue_comments == [] and github.posted_reviews == [] and github.check_runs == []
    assert run.findings is not None
    assert run.findings["command"] == "describe" and run.findings["description"]["title"] == ANSWER["title"]
    assert run.findings["labels_applied"] == ["enhancement"] and run.findings["complete"] is True
    assert run.outputs["tokens_in"] == "900" and "What left the runner" in run.summary
    assert run.findings["delivery"] == [
        "labels not in .qodo.yml 'labels:' ignored: made-up-label",
        "description: written into the PR body, between hidden markers",
        "labels: added enhancement",
    ]
    assert "### Delivery" in run.summary

    # the author edits around the section; the re-run replaces only the section
    edited = "Edited by the author.\n\n" + github.pull(7)["body"] + "\n\nP.S. a footnote."
    github.add_pull(7, "Add user search", edited, SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
    llm.enqueue(json=chat_completion(answer_json({**ANSWER, "summary": "Second version."})))
    second = run_action(tmp_path / "2", github_url=github.url, llm_url=llm.url, inputs={"command": "describe"})
    assert second.code == 0, second.stdout
    body = github.pull(7)["body"]
    assert body.startswith("Edited by the author.\n\nMy own words.\n\nPlease review carefully.\n\n" + START)
    assert body.endswith(END + "\n\nP.S. a footnote.")
    assert body.count(START) == 1 and "Second version." in body and "with a test." not in body


def test_body_not_editable_posts_a_comment_edited_in_place(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("PATCH", r"/pulls/7$", 403, times=2, body={"message": "Resource not accessible by integration"})
    for summary in ("First.", "Second."):
        llm.enqueue(json=chat_completion(answer_json({**ANSWER, "summary": summary})))
    first = run_action(tmp_path / "1", github_url=github.url, llm_url=llm.url, inputs={"command": "describe"})
    second = run_action(tmp_path / "2", github_url=github.url, llm_url=llm.url, inputs={"command": "describe"})
    assert (first.code, second.code) == (0, 0), second.stdout
    assert github.pull(7)["body"] == "My own words.\n\nPlease review carefully."
    (comment,) = github.issue_comments
    assert comment["body"].startswith(describe.COMMENT_MARKER + "\n### Description")
    assert "Second." in comment["body"] and START not in comment["body"]
    assert second.findings is not None and "posted as a comment instead" in second.findings["delivery"][1]


def test_nothing_posted_is_incomplete(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.fail("PATCH", r"/pulls/7$", 403)
    github.fail("POST", r"/issues/7/comments$", 403)
    github.fail("POST", r"/issues/7/labels$", 403)
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "describe"})
    assert run.code == 3 and "Traceback" not in run.stdout + run.stderr
    assert "pull-requests: write" in run.stdout and "New find\\_users" in run.summary
    assert run.findings is not None and run.findings["delivery"][-1].startswith("labels: not added")
    assert github.labels == {}


def test_comment_command_by_a_collaborator(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_permission("bob", "write")
    comment_id = github.add_issue_comment(7, "/describe", user="bob")
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        event_name="issue_comment",
        payload=issue_comment_event("/describe", comment_id=comment_id),
    )
    assert run.code == 0, run.stdout + run.stderr
    assert [r["content"] for r in github.reactions] == ["eyes"]
    assert START in github.pull(7)["body"] and len(llm.requests) == 1


def test_dry_run_prints_the_prompt_and_posts_nothing(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    run = run_action(
        tmp_path, github_url=github.url, llm_url=llm.url, inputs={"command": "describe", "dry-run": "true"}
    )
    assert run.code == 0, run.stdout + run.stderr
    assert llm.requests == [] and github.body_updates == [] and github.labels == {}
    assert "----- call 1: user -----" in run.stdout and "R12 + |" in run.stdout
    assert run.findings is not None and run.findings["dry_run"] is True and run.findings["description"] is None


def test_cli_describe(tmp_path: Path, llm: FakeLLM) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    llm.enqueue(json=chat_completion(answer_json(ANSWER)))
    out = io.StringIO()
    code = cli.main(
        ["describe", "--diff", str(diff), "--provider", "openai", "--base-url", f"{llm.url}/v1", "--format", "json"],
        env={"OPENAI_API_KEY": "sk-test-0123456789abcdef"},
        stdout=out,
    )
    assert code == 0
    doc = json.loads(out.getvalue())
    assert doc["command"] == "describe" and doc["description"]["types"] == ["feature", "tests"]
    assert len(llm.requests) == 1


def test_cli_describe_without_a_key_prints_what_would_be_sent(tmp_path: Path) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    out = io.StringIO()
    assert cli.main(["describe", "--diff", str(diff)], env={}, stdout=out) == 0
    assert "would be sent to api.openai.com" in out.getvalue() and "No API key is set" in out.getvalue()
