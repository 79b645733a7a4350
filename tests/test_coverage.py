"""The coverage report: files and changed lines reviewed / ignored / withheld / not reviewed with their
reasons, adding up to the PR's total; calls, tokens and time per stage; an incomplete review never passes
a gate. Models answer through the real OpenAI SDK over HTTP (FakeLLM)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion, openai_error

from qodo_review.config import ReviewConfig
from qodo_review.diff import split_diff
from qodo_review.models import PullRequest, Severity
from qodo_review.outcome import Outcome
from qodo_review.providers import ProviderSettings, make_provider
from qodo_review.redact import Redactor
from qodo_review.render import coverage_section, summary_markdown, timings_line
from qodo_review.retry import Resilient, Route
from qodo_review.review import review_diff

PR = PullRequest(number=7, title="Mixed change", body="", base_sha=SHA_BASE, head_sha=SHA_HEAD)
KEY = "sk-test-0123456789abcdef"


def added(path: str, lines: int, word: str = "value") -> str:
    body = "".join(f"+{word}_{i} = compute({i})\n" for i in range(lines))
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{lines} @@\n{body}"
    )


MIXED = (
    added("src/app.py", 40)
    + added("src/feature.py", 40)
    + added("src/extra.py", 40)
    + added("src/more.py", 40)
    + added("package-lock.json", 25)
    + added("web/app.min.js", 3)
    + added("docs/guide.md", 7)
    + added(".env.production", 2, "SETTING")
    + "diff --git a/logo.png b/logo.png\nindex 1a2b3c4..5d6e7f8 100644\nBinary files a/logo.png and b/logo.png differ\n"
    + "diff --git a/old.py b/moved.py\nsimilarity index 100%\nrename from old.py\nrename to moved.py\n"
)
TOTAL_LINES = 4 * 40 + 25 + 3 + 7 + 2


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def review(llm: FakeLLM, config: ReviewConfig, diff: str = MIXED) -> Outcome:
    settings = ProviderSettings(kind="openai", model="gpt-4.1", base_url=llm.url + "/v1", api_key=KEY)
    caller = Resilient(Route(make_provider(settings), settings.model, settings.host), sleep=lambda _: None)
    return review_diff(
        PR,
        split_diff(diff),
        config,
        provider=caller,
        redactor=Redactor(run_secrets=[KEY]),
        nonce="n0nce",
        provider_host=settings.host,
        model=settings.model,
    )


def rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| |")]


def test_every_changed_line_is_reviewed_or_has_a_reason_and_the_counts_add_up(llm: FakeLLM) -> None:
    """Four source files of 40 lines, one call each (parallel-calls 1: in order); max-calls 3 leaves one
    out, and the second call fails: its file is counted not reviewed too, with its own reason."""
    llm.enqueue(
        json=chat_completion(json.dumps({"summary": "One.", "findings": []}), prompt_tokens=900, completion_tokens=40)
    )
    llm.enqueue(400, openai_error("Invalid request: something the model did not like."))
    llm.enqueue(
        json=chat_completion(json.dumps({"summary": "Three.", "findings": []}), prompt_tokens=800, completion_tokens=30)
    )
    config = ReviewConfig(max_calls=3, parallel_calls=1, max_input_tokens=1_500, ignore=("docs/**",))

    report = review(llm, config)

    assert report.usage.calls == 2 and report.calls_planned == 3 and len(llm.requests) == 3
    assert report.lines_reviewed == 80 and not report.complete
    table = rows(coverage_section(report))
    # Minified JavaScript runs: its built-in ignore counts as not reviewed (issue 10); the base config's
    # ignore list is its own kind ("exempt"), listed after the built-in cost savings.
    assert table == [
        "| Reviewed | 2 | 80 |",  # no check mark: the review is incomplete
        "| Ignored: lock file | 1 | 25 |",
        "| Ignored: binary file | 1 | 0 |",
        "| Ignored: renamed without changes | 1 | 0 |",
        "| Ignored: ignored by \\.qodo\\.yml \\(docs\\/\\*\\*\\) | 1 | 7 |",
        "| Withheld: environment file | 1 | 2 |",
        "| ⚠️ Not reviewed: minified file \\(built\\-in ignore\\) | 1 | 3 |",
        "| ⚠️ Not reviewed: over the max\\-calls budget \\(3 calls\\)\\; raise max\\-calls to review it | 1 | 40 |",
        "| ⚠️ Not reviewed: its model call failed \\(see the problems above\\) | 1 | 40 |",
        "| **Total in PR** | 10 | 197 |",
    ]
    counts = [int(row.rsplit("|", 2)[1].replace(",", "")) for row in table[:-1]]
    assert sum(counts) == TOTAL_LINES == report.lines_total
    facts = coverage_section(report).split("\n\n")[1]
    assert facts == "Model calls: 2 (3 planned) · tokens in 1,700, out 70."


def test_a_dry_run_counts_what_it_prepared(llm: FakeLLM) -> None:
    report = review_diff(
        PR, split_diff(MIXED), ReviewConfig(), provider=None, redactor=Redactor(), nonce="n0nce", model="gpt-4.1"
    )

    assert rows(coverage_section(report))[0] == "| Prepared (dry run) | 5 | 167 |"
    assert report.verdict == "pass" and llm.requests == []


def test_timings_are_shown_per_stage() -> None:
    timings = {"fetch": 0.4, "select": 0.02, "budget": 0.1, "model": 41.2, "prompts": 0.3, "findings": 0.034}
    assert timings_line(timings) == (
        "Time per stage: fetch 0.40 s · select 0.02 s · budget 0.10 s · model calls "
        "41.20 s · findings 0.03 s · (building the prompts: 0.30 s of the model calls)"
    )


def test_the_summary_comment_and_the_job_summary_both_carry_the_coverage(llm: FakeLLM) -> None:
    report = review(llm, ReviewConfig(max_calls=1, max_input_tokens=1_500), diff=added("src/a.py", 40))
    report.source = "GitHub's diff"
    for job in (False, True):
        text = summary_markdown(report, "github.com", job=job)
        # open in the job summary, folded in the comment (operational detail comes after the review)
        head = "### Coverage\n" if job else "<details><summary>Coverage</summary>\n\n"
        assert head + "| | Files | Changed lines |\n|---|---:|---:|\n| ✅ Reviewed | 1 | 40 |" in text
        assert "Diff read from GitHub's diff · Model calls: 1 · tokens in 10, out 5." in text
        assert "Time per stage: select " in text and "model calls " in text


@pytest.mark.parametrize(("fail_on", "verdict"), [(Severity.HIGH, "fail"), (None, "pass")])
def test_not_reviewed_lines_make_a_gated_review_incomplete(
    llm: FakeLLM, fail_on: Severity | None, verdict: str
) -> None:
    diff = added("src/a.py", 40) + added("src/b.py", 40)
    report = review(llm, ReviewConfig(max_calls=1, max_input_tokens=1_500, fail_on=fail_on), diff=diff)

    assert report.findings == [] and report.errors == []
    assert [(s.path, s.kind, s.lines) for s in report.skipped] == [("src/b.py", "not-reviewed", 40)]
    assert not report.complete and report.verdict == verdict


def test_a_review_too_large_for_max_calls_fails_the_gate_end_to_end(tmp_path: Path, llm: FakeLLM) -> None:
    diff = "".join(added(f"src/m{i}.py", 60) for i in range(6))
    with FakeGitHub() as github:
        github.add_pull(7, "Six modules", "", SHA_BASE, SHA_HEAD, diff)
        run = run_action(
            tmp_path,
            github_url=github.url,
            llm_url=llm.url,
            inputs={"fail-on": "high", "max-calls": "1", "max-input-tokens": "2000"},
        )
        (comment,) = github.issue_comments

    assert run.code == 1, run.stdout + run.stderr
    assert run.outputs["verdict"] == "fail" and run.outputs["complete"] == "false"
    for text in (run.summary, comment["body"]):
        assert "⚠️ **incomplete review**" in text
        assert "| ⚠️ Not reviewed: over the max\\-calls budget \\(1 calls\\)\\; raise max\\-calls to review it |" in text
        assert "| **Total in PR** | 6 | 360 |" in text
        assert "Model calls: 1 · tokens in 10, out 5." in text and "Time per stage: fetch " in text


def test_files_github_did_not_list_are_in_the_coverage_end_to_end(tmp_path: Path, llm: FakeLLM) -> None:
    rows_ = [
        {
            "filename": f"f{i:04}.py",
            "status": "added",
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "patch": f"@@ -0,0 +1 @@\n+x{i}",
        }
        for i in range(3_003)
    ]
    with FakeGitHub() as github:
        github.add_pull(7, "Huge", "", SHA_BASE, SHA_HEAD, "", files=rows_, diff_too_large=True)
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"max-calls": "20"})

    assert run.code == 0, run.stdout + run.stderr
    assert "| Reviewed | 3,000 | 3,000 |" in run.summary  # incomplete: no check mark
    assert (
        "| ⚠️ Not reviewed: GitHub lists at most 3\\,000 files of a PR\\; check it out with fetch\\-depth\\: 0 "
        "to read them from git | 3 | 3 |\n| **Total in PR** | 3,003 | 3,003 |"
    ) in run.summary
    assert run.findings is not None and run.findings["complete"] is False
    assert run.summary.count("Looks fine.") == 1  # six parts gave the same summary: it is said once
