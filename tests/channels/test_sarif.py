"""SARIF 2.1.0 (issue 13): the document is valid against the official schema, one rule per category, levels from
severities, locations, our fingerprint; end to end, the action writes it (never through a link) and names it in
the `sarif_file` output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from e2e import SHA_BASE, SHA_HEAD, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review import __version__
from qodo_review.channels.sarif import FINGERPRINT_KEY, sarif_document, text
from qodo_review.diff import RawFile, split_diff
from qodo_review.models import Finding, PullRequest, Severity
from qodo_review.outcome import Outcome
from qodo_review.render import fingerprint_marker

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")


def validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)


def finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "path": "app/users.py",
        "line": 12,
        "end_line": 14,
        "side": "RIGHT",
        "severity": Severity.CRITICAL,
        "category": "security",
        "title": "SQL injection in find_users",
        "body": "The name is interpolated into SQL.",
    }
    return Finding(**{**base, **kw})


def outcome(*findings: Finding, **kw: Any) -> Outcome[Any]:
    out: Outcome[Any] = Outcome(PullRequest(1, "t", "", "", ""), findings=list(findings), **kw)
    out.manifest.model = "gpt-4.1"
    return out


def test_a_review_is_a_valid_sarif_log_with_rules_levels_locations_and_fingerprints() -> None:
    findings = [
        finding(),
        finding(severity=Severity.MEDIUM, category="bug", title="Off by one", line=3, end_line=3),
        finding(severity=Severity.LOW, category="bug", title="Nit", line=None, end_line=None),
        finding(severity=Severity.INFO, category="style", title="Old side", side="LEFT", line=7, end_line=7),
        finding(category="security", source="secret-scan", title="AWS key", line=2, end_line=2),
    ]
    doc = sarif_document(outcome(*findings))
    validate(doc)

    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("qodo-review", __version__)
    ids = [r["id"] for r in driver["rules"]]
    assert ids == ["qodo-review/bug", "qodo-review/secret", "qodo-review/security", "qodo-review/style"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == [
        "qodo-review/security",
        "qodo-review/bug",
        "qodo-review/bug",
        "qodo-review/style",
        "qodo-review/secret",
    ]
    assert all(ids[r["ruleIndex"]] == r["ruleId"] for r in results)
    assert [r["level"] for r in results] == ["error", "warning", "note", "note", "error"]
    first = results[0]["locations"][0]["physicalLocation"]
    assert first == {
        "artifactLocation": {"uri": "app/users.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "endLine": 14},
    }
    assert "region" not in results[2]["locations"][0]["physicalLocation"]  # a file-level finding
    assert "region" not in results[3]["locations"][0]["physicalLocation"]  # a line of the old file: not in head
    assert "line 7 of the old file" in results[3]["message"]["text"]
    # the hidden marker of the finding's inline comment, to match the two
    marker = fingerprint_marker(findings[0]).split("fp=")[1].removesuffix(" -->")
    assert results[0]["properties"]["inlineFingerprint"] == marker
    assert all(len(r["partialFingerprints"][FINGERPRINT_KEY]) == 64 for r in results)
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_findings_code_scanning_cannot_place_and_errors_are_notifications_never_dropped() -> None:
    lost = finding(path="", line=None, end_line=None, title="Somewhere")
    ghost = finding(path="no/such.py", title="Ghost")
    out = outcome(lost, errors=["Part 2: the provider failed."])
    out.unverifiable = [(ghost, "no such file")]
    doc = sarif_document(out)
    validate(doc)

    (run,) = doc["runs"]
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = [(n["level"], n["message"]["text"]) for n in invocation["toolExecutionNotifications"]]
    assert notes == [
        ("warning", "Finding without a file: Somewhere"),
        ("warning", "Finding on a path that does not exist (no/such.py): Ghost"),
        ("error", "Part 2: the provider failed."),
    ]


def test_model_text_cannot_make_links_or_escape_sequences() -> None:
    assert text("see [here](https://evil.example) \x1b[31mred\x1b[0m \u202e") == (
        "see \\[here\\](https://evil.example) red "
    )


def test_an_empty_review_is_valid() -> None:
    doc = sarif_document(outcome())
    validate(doc)
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


# --- the action ---------------------------------------------------------------------------------------------

ANSWER = {
    "summary": "Adds user search.",
    "findings": [
        {
            "path": "app/users.py",
            "line": 12,
            "end_line": 12,
            "side": "RIGHT",
            "severity": "high",
            "category": "security",
            "title": "SQL injection in find_users",
            "body": "The name is interpolated into SQL.",
        }
    ],
}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake


def test_the_action_writes_the_sarif_file_and_names_it_in_an_output(tmp_path: Path, github: FakeGitHub) -> None:
    outside = tmp_path / "outside.sarif"
    outside.write_text("not yours\n", encoding="utf-8")
    (tmp_path / "workspace").mkdir()
    (tmp_path / "workspace" / "qodo-review.sarif").symlink_to(outside)
    with FakeLLM() as llm:
        llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, payload=pr_event())

    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["sarif_file"] == "qodo-review.sarif" and run.outputs["complete"] == "true"
    assert outside.read_text(encoding="utf-8") == "not yours\n"  # the link was replaced, not followed
    path = tmp_path / "workspace" / run.outputs["sarif_file"]
    assert not path.is_symlink()
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate(doc)
    (result,) = doc["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("qodo-review/security", "error")
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}


def test_a_dry_run_writes_no_sarif_file_that_would_close_every_alert(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(tmp_path, github_url=github.url, inputs={"dry-run": "true"}, payload=pr_event())

    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["sarif_file"] == ""
    assert not (tmp_path / "workspace" / "qodo-review.sarif").exists()


@pytest.mark.parametrize("value", ["/abs/x.sarif", "../x.sarif"])
def test_a_sarif_file_outside_the_workspace_is_a_usage_error_naming_the_input(
    tmp_path: Path, github: FakeGitHub, value: str
) -> None:
    run = run_action(tmp_path, github_url=github.url, inputs={"dry-run": "true", "sarif-file": value})

    assert run.code == 2 and "Input 'sarif-file'" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_the_action_declares_every_output_it_writes() -> None:
    import yaml

    declared = set(yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["outputs"])
    written = set(outcome().outputs("x")) | {"sarif_file"}
    assert written <= declared


def diff_with(lines_before: int, line: str) -> list[RawFile]:
    added = [f"+pad{i} = {i}" for i in range(lines_before)] + [f"+{line}"]
    text = f"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -0,0 +1,{len(added)} @@\n"
    return split_diff(text + "\n".join(added) + "\n")


def fingerprints(lines_before: int, line: str, title: str = "eval of user input") -> list[str]:
    at = lines_before + 1
    out = outcome(finding(path="app.py", line=at, end_line=at, title=title), files=diff_with(lines_before, line))
    return [r["partialFingerprints"][FINGERPRINT_KEY] for r in sarif_document(out)["runs"][0]["results"]]


def test_the_fingerprint_survives_lines_added_above_and_changes_with_the_code() -> None:
    """Code scanning takes a changed fingerprint for a new alert: a finding that only moved keeps its own."""
    first = fingerprints(0, "x = eval(s)")
    assert fingerprints(5, "x = eval(s)") == first  # moved down five lines
    assert fingerprints(5, "x  =  eval(s)") == first  # blanks do not count
    assert fingerprints(0, "x = eval(t)") != first  # other code
    assert fingerprints(0, "x = eval(s)", title="another problem") != first


def test_two_findings_on_the_same_text_stay_two_alerts() -> None:
    files = split_diff(
        "diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -0,0 +1,2 @@\n+x = eval(s)\n+x = eval(s)\n"
    )
    found = [finding(path="app.py", line=n, end_line=n, title="eval") for n in (1, 2)]
    results = sarif_document(outcome(*found, files=files))["runs"][0]["results"]
    first, second = (r["partialFingerprints"][FINGERPRINT_KEY] for r in results)
    assert second == first + ":2"


def test_sarif_file_false_writes_none(tmp_path: Path, github: FakeGitHub) -> None:
    with FakeLLM() as llm:
        llm.enqueue(json=chat_completion(json.dumps(ANSWER)))
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url, inputs={"sarif-file": "false"})

    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["sarif_file"] == "" and not list((tmp_path / "workspace").glob("*.sarif"))
