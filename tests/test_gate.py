"""The gate: the check run (annotations 50 per request), and the verdict's way out when checks are refused."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, comment_event, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review.channels.annotate import plan_annotations
from qodo_review.models import Finding, Severity
from qodo_review.output import Out
from qodo_review.redact import Redactor

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")


def finding(severity: Severity, line: int | None = 1, path: str = "a.py", side: str = "RIGHT") -> Finding:
    return Finding(path, line, line, side, severity, "bug", f"t{line}", "body")


def big_diff(lines: int) -> str:
    return (
        f"diff --git a/gen.py b/gen.py\nnew file mode 100644\n--- /dev/null\n+++ b/gen.py\n@@ -0,0 +1,{lines} @@\n"
        + "".join(f"+x{i} = {i}\n" for i in range(1, lines + 1))
    )


def answer(findings: list[dict[str, Any]]) -> dict[str, Any]:
    return chat_completion(json.dumps({"summary": "s", "findings": findings}))


def model_finding(line: int, severity: str, path: str = "gen.py") -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "side": "RIGHT",
        "severity": severity,
        "category": "bug",
        "title": f"Problem number {line}",
        "body": f"Line {line} is wrong, 100% sure: really.",
    }


# --- pure: which findings become workflow annotations ------------------------------------------------------


def test_plan_annotations_worst_first_within_each_kinds_room() -> None:
    findings = (
        [finding(Severity.MEDIUM, i) for i in range(1, 13)]
        + [finding(Severity.CRITICAL, i) for i in range(20, 35)]
        + [finding(Severity.LOW, 40), finding(Severity.HIGH, None, path=""), finding(Severity.INFO, 41, side="LEFT")]
    )
    room = {"error": 10, "warning": 3, "notice": 1}
    chosen, rest = plan_annotations(findings, lambda kind: room[kind])
    assert [a.kind for a in chosen] == ["error"] * 10 + ["warning"] * 3 + ["notice"]
    assert [a.line for a in chosen[:10]] == list(range(20, 30))  # criticals before the rest
    assert rest == len(findings) - 14
    assert chosen[0].title == "qodo-review: critical bug" and chosen[0].message == "t20: body"


def test_finding_on_a_removed_line_is_annotated_on_its_file() -> None:
    (only,), rest = plan_annotations([finding(Severity.LOW, 5, side="LEFT")], lambda kind: 10)
    assert (only.path, only.line, only.end_line, rest) == ("a.py", None, None, 0)


def test_out_keeps_each_kind_within_the_step_limit() -> None:
    stream = io.StringIO()
    out = Out(stream, Redactor(), in_actions=True)
    for i in range(12):
        out.error(f"e{i}")
    out.warning("w")
    lines = stream.getvalue().splitlines()
    assert lines[:10] == [f"::error::e{i}" for i in range(10)]
    assert lines[10:] == ["error: e10", "error: e11", "::warning::w"]  # past the limit: still in the log
    assert (out.room("error"), out.room("warning"), out.room("notice")) == (0, 9, 10)


def test_annotation_escapes_properties_and_message() -> None:
    stream = io.StringIO()
    out = Out(stream, Redactor(), in_actions=True)
    out.annotate("error", "50% off\n::error::forged", file="src/a,b:c.py", line=3, end_line=5, title="t: x, y")
    assert stream.getvalue() == (
        "::error file=src/a%2Cb%3Ac.py,line=3,endLine=5,title=t%3A x%2C y::50%25 off%0A::error::forged\n"
    )
    plain = io.StringIO()
    Out(plain, Redactor()).annotate("warning", "m", file="a.py", line=3, end_line=3)
    assert plain.getvalue() == "warning: a.py:3: m\n"


# --- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def test_more_than_50_annotations_go_in_batches(tmp_path: Path, llm: FakeLLM) -> None:
    llm.enqueue(json=answer([model_finding(line, "medium") for line in range(1, 121)]))
    with FakeGitHub() as github:
        github.add_pull(7, "Generated", "", SHA_BASE, SHA_HEAD, big_diff(130))
        result = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
        assert result.code == 0, result.stdout + result.stderr
        (check,) = github.check_runs
        sent = [github.find("POST", r"/check-runs$")[0].json, *(r.json for r in github.find("PATCH", r"/check-runs/"))]
    counts = [len((body.get("output") or {}).get("annotations") or []) for body in sent]
    assert counts == [0, 50, 50, 20]  # created in progress, completed with 50, then two more PATCHes
    assert len(check["annotations"]) == 120 and check["conclusion"] == "success"
    assert {a["start_line"] for a in check["annotations"]} == set(range(1, 121))
    assert "::warning file=" not in result.stdout  # the check run carries them: no workflow annotations
    assert len(github.posted_reviews[0]["comments"]) == 10  # the inline cap (max-findings); the rest: the summary


def test_checks_refused_verdict_still_reaches_the_user(tmp_path: Path, llm: FakeLLM) -> None:
    findings = (
        [model_finding(line, "critical", "app/users.py") for line in range(9, 18)]
        + [model_finding(line, "high", "app/test_users.py") for line in range(1, 6)]
        + [model_finding(line, "medium", "gen.py") for line in (1, 2, 3)]
        + [model_finding(line, "low", "gen.py") for line in (4, 5)]
    )
    llm.enqueue(json=answer(findings))
    denied = {
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/checks/runs#create-a-check-run",
        "status": "403",
    }
    with FakeGitHub() as github:
        github.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF + big_diff(5))
        github.fail("POST", r"/check-runs$", 403, times=5, body=denied)
        result = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"})
        assert len(github.find("POST", r"/check-runs$")) == 1  # refused once: not asked again at the end
        assert len(github.issue_comments) == 1 and github.posted_reviews  # the other channels still publish
    out = result.stdout
    assert result.code == 1 and result.outputs["verdict"] == "fail" and "Traceback" not in out + result.stderr
    errors = re.findall(r"^::error file=([^,]+),line=(\d+),title=qodo-review%3A (\w+) bug::(.*)$", out, re.M)
    assert len(errors) == 10 and {e[2] for e in errors} == {"critical", "high"}
    assert [e[:3] for e in errors[:9]] == [("app/users.py", str(n), "critical") for n in range(9, 18)]
    assert "Problem number 9: Line 9 is wrong, 100%25 sure%3A really." not in out  # data, not property escaping
    assert "::Problem number 9: Line 9 is wrong, 100%25 sure: really." in out
    assert len(re.findall(r"^::warning file=gen.py,line=\d,", out, re.M)) == 3
    assert len(re.findall(r"^::notice file=gen.py,line=\d,", out, re.M)) == 2
    assert re.search(r"^::notice::4 more finding\(s\) are not annotated", out, re.M)
    # one explanation with the YAML to paste, in the log and in the job summary, nowhere twice
    assert out.count("could not create its `qodo-review` check run") == 1
    (explained,) = [line for line in out.splitlines() if "checks: write" in line]
    assert explained.startswith("::warning::qodo-review could not create its")  # its newlines escaped: one line
    assert result.summary.count("```yaml\npermissions:\n  contents: read\n  pull-requests: write\n  checks: write") == 1
    assert "❌ **fail**" in result.summary and "check: not permitted (HTTP 403)" in result.summary


def test_maintainer_review_turns_a_failing_gate_green(tmp_path: Path, llm: FakeLLM) -> None:
    critical = model_finding(12, "critical", "app/users.py")
    llm.enqueue(json=answer([critical]))
    llm.enqueue(json=answer([]))
    fixed_head = "e" * 40
    fixed = SAMPLE_DIFF.replace(
        """f"SELECT id, name FROM users WHERE name LIKE '%{name}%'").fetchall()""",
        """"SELECT id, name FROM users WHERE name LIKE ?", (f"%{name}%",)).fetchall()""",
    )
    with FakeGitHub() as github:
        github.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        github.set_permission("maintainer", "admin")
        first = run_action(
            tmp_path / "1", github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"}, payload=pr_event()
        )
        assert first.code == 1
        github.set_head(7, fixed_head, fixed)  # the author fixes it; the push's own run was cancelled, say
        github.set_compare(SHA_HEAD, fixed_head, fixed)
        cid = github.add_issue_comment(7, "/review", user="maintainer")
        second = run_action(
            tmp_path / "2",
            github_url=github.url,
            llm_url=llm.url,
            inputs={"fail-on": "high"},
            event_name="issue_comment",
            payload=comment_event("/review", cid),
            extra_env={"GITHUB_SHA": "d" * 40},
        )
        runs = github.check_runs
    assert second.code == 0, second.stdout
    assert [(r["head_sha"], r["conclusion"]) for r in runs] == [(SHA_HEAD, "failure"), (fixed_head, "success")]
    # the gate was failing, so the whole PR was reviewed again, not just the fix
    assert "Full review (the review of ccccccc met the fail-on gate" in second.summary
    assert "app/test_users.py" in llm.requests[1].json["messages"][1]["content"]


def test_a_run_that_dies_never_leaves_its_check_in_progress(tmp_path: Path, llm: FakeLLM) -> None:
    """The provider rejects the key after the check started: the check completes, and not as a pass."""
    llm.enqueue(
        status=401,
        json={
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
    )
    with FakeGitHub() as github:
        github.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        result = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"})
        (check,) = github.check_runs
    assert result.code == 2 and "Traceback" not in result.stdout + result.stderr
    assert (check["status"], check["conclusion"]) == ("completed", "failure")
    assert check["output"]["title"] == "The review could not be completed"
