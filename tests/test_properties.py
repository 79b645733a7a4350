"""Properties (hypothesis): hostile model answers only raise AnswerError, placement never makes a comment
GitHub would reject, and rendered bodies never exceed the limits in limits.py."""

from __future__ import annotations

import json
from typing import Any

from fakes.github_server import anchor_error
from fakes.github_server import parse_diff as fake_parse_diff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qodo_review.channels.inline import comment_payload
from qodo_review.diff import hunk_for, hunk_headers, new_line_sets, parse_file, split_diff
from qodo_review.errors import AnswerError
from qodo_review.findings import Placed, parse_answer, place_findings
from qodo_review.layout import check_output
from qodo_review.limits import CHECK_TEXT_MAX, COMMENT_BODY_MAX, STEP_SUMMARY_MAX
from qodo_review.models import CATEGORIES, FileDiff, Finding, Manifest, PullRequest, Severity, Skipped, Usage
from qodo_review.outcome import Outcome
from qodo_review.render import finding_comment, summary_markdown

SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- model answers --------------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
FIELDS = [
    "path",
    "file",
    "line",
    "start_line",
    "end_line",
    "side",
    "severity",
    "category",
    "title",
    "body",
    "description",
    "message",
    "suggestion",
]
ITEM = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSON, max_size=10)
ANSWER_DOC = st.fixed_dictionaries(
    {}, optional={"summary": JSON, "findings": st.lists(ITEM | JSON, max_size=8) | ITEM | JSON}
)


def wrap(doc: str, how: str) -> str:
    return {
        "bare": doc,
        "fence": f"Here you go:\n```json\n{doc}\n```\n",
        "prose": f"Sure! {doc} Hope it helps.",
        "cut": doc[: len(doc) // 2],
        "twice": doc + doc,
        "nested": "{" + doc,
    }[how]


HOW = st.sampled_from(["bare", "fence", "prose", "cut", "twice", "nested"])


@given(st.text())
def test_arbitrary_text_only_raises_answer_error(text: str) -> None:
    try:
        parse_answer(text)
    except AnswerError:
        pass


@SLOW
@given(ANSWER_DOC, HOW)
def test_answer_shaped_json_parses_or_raises_answer_error(doc: dict[str, Any], how: str) -> None:
    try:
        answer = parse_answer(wrap(json.dumps(doc), how))
    except AnswerError:
        return
    for f in answer.findings:
        assert isinstance(f.severity, Severity) and f.category in CATEGORIES and f.side in ("LEFT", "RIGHT")
        assert f.line is None or (f.line > 0 and f.end_line is not None and f.end_line >= f.line)
        assert f.title.strip() or f.body.strip()


@given(JSON, HOW)
def test_arbitrary_json_only_raises_answer_error(value: Any, how: str) -> None:
    try:
        parse_answer(wrap(json.dumps(value), how))
    except AnswerError:
        pass


def test_deep_nesting_is_an_answer_error_not_a_recursion_error() -> None:
    for text in ("[" * 100_000, '{"findings": ' + "[" * 100_000, '{"summary": "x", "findings": [' + "{" * 50_000):
        try:
            parse_answer(text)
        except AnswerError:
            pass


# --- placement: never a comment GitHub would reject --------------------------------------------------------

KIND = st.sampled_from(" +-")
NAMES = st.sampled_from(["a.py", "dir/b c.py", "ünï/cödé.ts", "q'uote.md", "x"])


@st.composite
def diffs(draw: st.DrawFn) -> str:
    """A git diff of 1-3 files, each with 1-4 hunks of random context/added/removed lines."""
    out = []
    for path in draw(st.lists(NAMES, min_size=1, max_size=3, unique=True)):
        out.append(f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n")
        old = new = 1
        for _ in range(draw(st.integers(1, 4))):
            gap = draw(st.integers(0, 20))
            old, new = old + gap, new + gap
            kinds = draw(st.lists(KIND, min_size=1, max_size=12))
            olds, news = sum(k != "+" for k in kinds), sum(k != "-" for k in kinds)
            out.append(f"@@ -{old},{olds} +{new},{news} @@\n")
            out.extend(f"{k}line {i}\n" for i, k in enumerate(kinds))
            old, new = old + olds, new + news
    return "".join(out)


@st.composite
def findings_for(draw: st.DrawFn, files: list[FileDiff]) -> list[Finding]:
    """Findings a model might write: mostly on or near lines the diff shows (same or other hunk, either
    side, ranges forward and backward), some in files or at lines it does not show."""
    out = []
    for _ in range(draw(st.integers(1, 12))):
        file = draw(st.sampled_from(files))
        side = draw(st.sampled_from(["RIGHT", "LEFT"]))
        shown = [n for h in file.hunks for ln in h.lines if (n := ln.new if side == "RIGHT" else ln.old)]
        line_at = (
            st.sampled_from(shown).flatmap(lambda n: st.sampled_from([n, n, n, n + 1, n - 1]))
            if shown
            else st.integers(1, 200)
        ) | st.integers(1, 200)
        line = draw(line_at | st.none())
        how = draw(st.sampled_from(["same", "none", "other", "span", "span"]))
        end = {"same": line, "none": None, "other": draw(line_at), "span": line and line + draw(st.integers(-2, 5))}[
            how
        ]
        path = draw(st.sampled_from([file.path] * 6 + ["elsewhere.py", ""]))
        out.append(
            Finding(
                path=path,
                line=line,
                end_line=end,
                side=side,
                severity=Severity.MEDIUM,
                category="bug",
                title="t",
                body="b",
                suggestion=draw(st.none() | st.just("fixed()")),
            )
        )
    return out


@SLOW
@given(st.data())
def test_placement_never_produces_a_comment_outside_one_hunk(data: st.DataObject) -> None:
    text = data.draw(diffs())
    files: list[FileDiff] = [parse_file(raw) for raw in split_diff(text)]
    by_path = {f.path: f for f in files}
    findings = data.draw(findings_for(files))

    placed = place_findings(findings, files)

    assert len(placed.inline) + len(placed.outside) == len(findings)  # a finding is never lost
    # placing by the hunks' headers (no Line objects) places exactly as placing by the parsed lines
    assert place_findings(findings, [hunk_headers(raw) for raw in split_diff(text)]) == placed
    fake = fake_parse_diff(text)
    for f in placed.inline:
        file = by_path[f.path]
        assert f.line is not None
        end = f.end_line or f.line
        right, left = new_line_sets(file)
        lines = right if f.side == "RIGHT" else left
        hunk = hunk_for(file, f.line, f.side)
        assert f.line in lines and end in lines and f.line <= end
        assert hunk is not None and hunk_for(file, end, f.side) is hunk
        if f.side == "LEFT":
            assert f.suggestion is None  # a suggestion replaces new lines only
        # An independent oracle: the fake GitHub's own anchor validation of the payload we would post.
        assert anchor_error(fake, comment_payload(f, "body")) is None, (f, text)


# --- rendering: never over a limit ------------------------------------------------------------------------

# Up to ~9,000 characters: findings.py caps a body at 8,000; the sanitizer's cost grows with the input.
BIG = st.text(max_size=200) | st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=30), st.integers(1, 300))


@st.composite
def findings_big(draw: st.DrawFn) -> Finding:
    return Finding(
        path=draw(st.text(max_size=300)),
        line=draw(st.none() | st.integers(1, 10**9)),
        end_line=draw(st.none() | st.integers(1, 10**9)),
        side=draw(st.sampled_from(["RIGHT", "LEFT"])),
        severity=draw(st.sampled_from(list(Severity))),
        category=draw(st.sampled_from(CATEGORIES)),
        title=draw(BIG),
        body=draw(BIG),
        suggestion=draw(st.none() | BIG),
    )


@st.composite
def reports(draw: st.DrawFn) -> Outcome:
    findings = draw(st.lists(findings_big(), max_size=6))
    many = draw(st.integers(0, 400))  # up to hundreds of findings, as a huge PR gets
    findings += [findings[0]] * many if findings else []
    report = Outcome(
        pr=PullRequest(number=1, title=draw(BIG), body="", base_sha="b", head_sha="c"),
        summary=draw(BIG),
        findings=findings,
        errors=draw(st.lists(BIG, max_size=30)),
        notices=draw(st.lists(BIG, max_size=30)),
        skipped=[Skipped(path=draw(BIG), reason=draw(BIG), lines=3)] * draw(st.integers(0, 300)),
        manifest=Manifest(
            provider_host="h", model="m", files=[(draw(st.text(max_size=200)), 1)] * draw(st.integers(0, 300))
        ),
        usage=Usage(calls=1),
        fail_on=draw(st.none() | st.sampled_from(list(Severity))),
    )
    outside = [(f, draw(BIG)) for f in findings[: draw(st.integers(0, min(len(findings), 40)))]]
    report.placed = Placed(tuple(findings[len(outside) :]), tuple(outside))
    return report


@SLOW
@given(findings_big())
def test_an_inline_comment_fits_a_comment_body(finding: Finding) -> None:
    assert len(finding_comment(finding, "github.com")) <= COMMENT_BODY_MAX


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reports(), st.lists(BIG, max_size=3))
def test_summaries_and_check_output_fit_their_limits(report: Outcome, extra: list[str]) -> None:
    assert len(summary_markdown(report, "github.com", extra=extra)) <= COMMENT_BODY_MAX
    assert len(summary_markdown(report, "github.com", job=True, extra=extra).encode()) <= STEP_SUMMARY_MAX
    output = check_output(report, "github.com")
    assert len(output["title"]) <= 255
    assert len(output["summary"]) <= CHECK_TEXT_MAX and len(output["text"]) <= CHECK_TEXT_MAX
