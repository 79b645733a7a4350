"""Findings on paths that do not exist: set aside (listed, never inline, never gated), never dropped.

Pure tests of findings.set_aside_unverifiable and the report's verdict; the end-to-end tests run the action
against the fake GitHub, whose GraphQL answers `object(expression: "sha:path")` from set_tree()."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review.findings import (
    MAX_PATHS_CHECKED,
    PATH_PLACEHOLDERS,
    KnownFiles,
    set_aside_unverifiable,
    unverifiable_reason,
)
from qodo_review.layout import check_output
from qodo_review.models import Finding, PullRequest, Severity
from qodo_review.outcome import Outcome
from qodo_review.render import summary_markdown

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")


def finding(path: str, severity: Severity = Severity.CRITICAL, title: str = "t") -> Finding:
    return Finding(path, 3, 3, "RIGHT", severity, "bug", title, "body")


class Lookup:
    """A head tree that records what it was asked."""

    def __init__(self, tree: set[str], answers: bool = True) -> None:
        self.tree, self.answers, self.calls = tree, answers, []  # type: ignore[var-annotated]

    def __call__(self, paths: Sequence[str]) -> Mapping[str, bool]:
        self.calls.append(list(paths))
        return {p: p in self.tree for p in paths} if self.answers else {}


# --- pure ---------------------------------------------------------------------------------------------------


def test_every_answer_templates_path_placeholder_is_known() -> None:
    """The placeholder echoed back must be recognised: read it from each template, so a new one is caught."""
    from qodo_review import prompt
    from qodo_review.tasks import ask, describe, improve

    templates = [
        prompt.REVIEW_SYSTEM,
        *(v for m in (ask, describe, improve) for v in vars(m).values() if isinstance(v, str)),
    ]
    found = {m for t in templates for m in re.findall(r'"(<[^"<>]*path[^"<>]*>)"', t)}
    assert found and found <= PATH_PLACEHOLDERS


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("<file path as shown>", "placeholder"),
        ("<FILE PATH AS SHOWN>", "placeholder"),
        ("<path as shown>", "placeholder"),
        ("<path>", "placeholder"),
        ("...", "placeholder"),
        ("/etc/passwd", "git"),
        ("src/../../etc/passwd", "git"),
        ("src//a.py", "git"),
        ("src/./a.py", "git"),
        ("src/", "git"),
        (".git/config", "git"),
        ("https://evil.example/a.py", "git"),
        ("a\0b", "git"),
    ],
)
def test_paths_no_repository_can_hold(path: str, why: str) -> None:
    reason = unverifiable_reason(path)
    assert reason is not None and (("placeholder" in reason) if why == "placeholder" else ("git" in reason))


@pytest.mark.parametrize("path", ["a.py", "src/deep/x.ts", "docs/read me.md", "a<b.py", ".github/workflows/x.yml"])
def test_ordinary_paths_could_exist(path: str) -> None:
    assert unverifiable_reason(path) is None


def test_paths_in_the_pr_are_kept_and_nothing_is_asked() -> None:
    lookup = Lookup(set())
    findings = [finding("a.py"), finding("old.py"), finding("")]
    known = KnownFiles(frozenset({"a.py", "old.py"}), lookup)
    assert set_aside_unverifiable(findings, known) == (findings, [])
    assert lookup.calls == []


def test_a_path_outside_the_pr_is_looked_up_once_and_set_aside_only_when_absent() -> None:
    lookup = Lookup({"lib/real.py"})
    findings = [
        finding("ghost.py", title="1"),
        finding("lib/real.py", title="2"),
        finding("a.py", title="3"),
        finding("ghost.py", Severity.LOW, title="4"),
        finding("<file path as shown>", title="5"),
    ]
    kept, aside = set_aside_unverifiable(findings, KnownFiles(frozenset({"a.py"}), lookup))
    assert [f.title for f in kept] == ["2", "3"]  # a real file outside the PR stays (outside the diff)
    assert [(f.title, why.split(" ")[0]) for f, why in aside] == [("1", "no"), ("4", "no"), ("5", "the")]
    assert lookup.calls == [["ghost.py", "lib/real.py"]]  # one request for all; placeholders need none


def test_without_a_tree_a_path_outside_the_pr_stays_but_a_placeholder_is_set_aside() -> None:
    findings = [finding("ghost.py"), finding("<path as shown>")]
    for known in (KnownFiles(frozenset()), KnownFiles(frozenset(), Lookup(set(), answers=False))):
        kept, aside = set_aside_unverifiable(findings, known)
        assert kept == [findings[0]] and [f for f, _ in aside] == [findings[1]]


def test_the_lookup_is_bounded() -> None:
    lookup = Lookup(set())
    findings = [finding(f"ghost{i}.py") for i in range(MAX_PATHS_CHECKED + 5)]
    kept, aside = set_aside_unverifiable(findings, KnownFiles(frozenset(), lookup))
    assert len(lookup.calls) == 1 and len(lookup.calls[0]) == MAX_PATHS_CHECKED
    assert len(aside) == MAX_PATHS_CHECKED and len(kept) == 5  # unknown: kept as today


def test_a_set_aside_finding_never_fails_the_gate_but_is_listed() -> None:
    report = Outcome(pr=PullRequest(7, "t", "", SHA_BASE, SHA_HEAD), fail_on=Severity.HIGH)
    report.findings = [finding("a.py", Severity.LOW)]
    report.unverifiable = [(finding("ghost.py", title="Invented"), "no such file")]
    assert report.verdict == "pass" and report.max_severity is Severity.LOW
    text = summary_markdown(report, "github.com")
    assert "### 1 finding on paths that do not exist" in text and "**Invented** at `ghost.py:3`" in text
    assert "(+1 on paths that do not exist)" in text
    assert "Invented" in check_output(report, "github.com")["text"]


# --- end to end ---------------------------------------------------------------------------------------------


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def model_finding(path: str, line: int, severity: str, title: str) -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "side": "RIGHT",
        "severity": severity,
        "category": "security",
        "title": title,
        "body": "It is very wrong.",
    }


def run(tmp: Path, llm: FakeLLM, findings: list[dict[str, Any]], tree: list[str] | None) -> tuple[Any, FakeGitHub]:
    llm.enqueue(json=chat_completion(json.dumps({"summary": "s", "findings": findings})))
    with FakeGitHub() as github:
        github.add_pull(7, "Add user search", "", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        github.set_file(".qodo.yml", SHA_BASE, "inline-min-severity: low\n")  # the low finding goes inline
        if tree is not None:
            github.set_tree(SHA_HEAD, tree)
        result = run_action(tmp, github_url=github.url, llm_url=llm.url, inputs={"fail-on": "high"})
        assert not github.errors
    return result, github


def test_a_critical_finding_on_an_invented_path_does_not_fail_the_gate(tmp_path: Path, llm: FakeLLM) -> None:
    findings = [
        model_finding("app/ghost.py", 3, "critical", "Invented injection"),
        model_finding("<file path as shown>", 1, "critical", "Echoed template"),
        model_finding("app/users.py", 12, "low", "A real nit"),
    ]
    result, github = run(tmp_path, llm, findings, tree=["app/users.py", "app/test_users.py", "README.md"])
    assert result.code == 0, result.stdout + result.stderr
    assert result.outputs["verdict"] == "pass" and result.outputs["max_severity"] == "low"
    (lookup,) = github.graphql_calls  # one query, for the one path outside the PR (the placeholder needs none)
    assert [v for k, v in lookup["variables"].items() if k.startswith("e")] == [f"{SHA_HEAD}:app/ghost.py"]
    for text in (result.summary, github.issue_comments[0]["body"]):
        assert "### 2 findings on paths that do not exist" in text
        assert "Invented injection" in text and "Echoed template" in text
    inline = [c for r in github.posted_reviews for c in r["comments"]]
    assert [c["path"] for c in inline] == ["app/users.py"]
    assert result.findings is not None
    assert sorted(f["finding"]["title"] for f in result.findings["unverifiable"]) == [
        "Echoed template",
        "Invented injection",
    ]
    assert [f["title"] for f in result.findings["findings"]] == ["A real nit"]
    (check,) = github.check_runs
    assert check["conclusion"] == "success" and "Invented injection" in check["output"]["text"]


def test_a_real_file_outside_the_pr_still_counts(tmp_path: Path, llm: FakeLLM) -> None:
    findings = [model_finding("lib/db.py", 3, "critical", "Real but outside")]
    result, _ = run(tmp_path, llm, findings, tree=["app/users.py", "lib/db.py"])
    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert "### Findings outside the diff" in result.summary and "paths that do not exist" not in result.summary


def test_when_the_tree_cannot_be_read_an_invented_path_still_counts(tmp_path: Path, llm: FakeLLM) -> None:
    """No answer about the head tree: the finding is outside the diff, as before, and fails the gate."""
    result, _ = run(tmp_path, llm, [model_finding("app/ghost.py", 3, "critical", "Maybe real")], tree=None)
    assert result.code == 1 and result.outputs["verdict"] == "fail"
    assert "Maybe real" in result.summary
