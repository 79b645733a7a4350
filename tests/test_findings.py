"""Findings: tolerant parsing of the model's answer, placement against the diff, merging, the gate."""

from __future__ import annotations

import json

import pytest

from qodo_review.errors import AnswerError
from qodo_review.findings import gate_failed, merge_findings, parse_answer, place_findings
from qodo_review.models import FileDiff, FileStatus, Finding, Hunk, Line, Severity


def finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "path": "a.py",
        "line": 11,
        "end_line": 11,
        "side": "RIGHT",
        "severity": Severity.HIGH,
        "category": "bug",
        "title": "t",
        "body": "b",
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


ANSWER = {
    "summary": "Adds a thing.",
    "findings": [
        {
            "path": "a.py",
            "line": 11,
            "end_line": 12,
            "side": "RIGHT",
            "severity": "high",
            "category": "bug",
            "title": "Off by one",
            "body": "Loop ends early.",
            "suggestion": "for i in range(n + 1):",
        }
    ],
}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(ANSWER),
        "```json\n" + json.dumps(ANSWER) + "\n```",
        "Here is my review:\n" + json.dumps(ANSWER) + "\nThanks!",
        "Sure! ```\n" + json.dumps(ANSWER, indent=2) + "\n```",
    ],
)
def test_tolerant_parsing(text: str) -> None:
    answer = parse_answer(text)
    assert answer.summary == "Adds a thing."
    assert answer.findings == (
        finding(line=11, end_line=12, title="Off by one", body="Loop ends early.", suggestion="for i in range(n + 1):"),
    )


@pytest.mark.parametrize("text", ["", "I cannot help with that.", "[1, 2]", "{not json"])
def test_not_json(text: str) -> None:
    with pytest.raises(AnswerError):
        parse_answer(text)


def test_messy_shapes_are_coerced_not_dropped() -> None:
    text = json.dumps(
        {
            "summary": 5,
            "findings": [
                {
                    "file": "./a.py",
                    "start_line": "11",
                    "severity": "BLOCKER",
                    "category": "oops",
                    "title": "x\ny",
                    "description": "d",
                },
                {"path": "b/a.py", "line": -3, "severity": None, "title": "", "body": "only a body"},
                "garbage",
                7,
                None,
                {},
            ],
        }
    )
    answer = parse_answer(text)
    assert answer.summary == "5"
    first, second = answer.findings
    assert (first.path, first.line, first.severity, first.category, first.title, first.body) == (
        "a.py",
        11,
        Severity.CRITICAL,
        "maintainability",
        "x",
        "d",
    )
    assert (second.line, second.severity, second.title) == (None, Severity.MEDIUM, "only a body")


def diff_file() -> FileDiff:
    lines = (
        Line(" ", 10, 10, "ctx"),
        Line("-", 11, None, "old"),
        Line("+", None, 11, "new"),
        Line("+", None, 12, "new2"),
        Line(" ", 12, 13, "ctx"),
    )
    return FileDiff("a.py", "a.py", FileStatus.MODIFIED, (Hunk(10, 3, 10, 4, "", lines),), 2, 1)


def test_placement() -> None:
    placed = place_findings(
        [
            finding(line=11, end_line=12),  # inline, multi-line
            finding(line=11, end_line=40, suggestion="x"),  # end outside: single line, suggestion dropped
            finding(line=11, side="LEFT"),  # removed line, LEFT side
            finding(line=12, side="LEFT"),  # old line 12 is context: fine on LEFT
            finding(line=99),  # outside the diff
            finding(path="zzz.py"),  # file not in the diff
            finding(line=None, end_line=None),  # no line
        ],
        [diff_file()],
    )
    assert [(f.line, f.end_line, f.side, f.suggestion) for f in placed.inline] == [
        (11, 12, "RIGHT", None),
        (11, 11, "RIGHT", None),
        (11, 11, "LEFT", None),
        (12, 12, "LEFT", None),
    ]
    assert [why for _, why in placed.outside] == [
        "line 99 is not part of the diff",
        "file not in the diff",
        "no line given",
    ]


def test_merge_dedups_and_orders() -> None:
    a = finding(title="SQL injection!", severity=Severity.LOW)
    b = finding(title="sql   injection", severity=Severity.LOW)
    c = finding(title="crash", severity=Severity.CRITICAL, line=5)
    assert merge_findings([[a], [b, c]]) == [c, a]


@pytest.mark.parametrize(
    ("worst", "fail_on", "failed"),
    [
        (Severity.HIGH, Severity.HIGH, True),
        (Severity.MEDIUM, Severity.HIGH, False),
        (Severity.CRITICAL, Severity.LOW, True),
        (Severity.CRITICAL, None, False),
    ],
)
def test_gate(worst: Severity, fail_on: Severity | None, failed: bool) -> None:
    assert gate_failed([finding(severity=worst)], fail_on) is failed
    assert gate_failed([], fail_on) is False
