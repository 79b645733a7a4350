"""More of the redactor's shortcuts, each compared with what it stands for: redact_lines splitting only the
lines a secret touches, the assignment pattern tried at every keyword start in C, the assignment values
rejected before their checks run, and a chunk's few keywords grouped without sorting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qodo_review.redact import Redactor
from qodo_review.redact.assignments import (
    _ASSIGNMENT_START,
    _KEYWORD_ASSIGNMENT,
    _MAX_ASSIGNMENT,
    _assignment_kind,
    _assignment_matches,
)
from qodo_review.redact.lines import _FEW_KEYWORDS, _keyword_lines
from qodo_review.redact.values import MIN_VALUE, NOT_FIRST, _password_value, _secret_value, _token_value

from .test_redact_batch import PIECES, SETTINGS, TEXTS

_PEM = [
    "  key: |",
    "    -----BEGIN RSA PRIVATE KEY-----",
    *["    MIIEowIBAAKCAQEA" + "q8Zr3Xw1" * 6] * 3,
    "    -----END RSA PRIVATE KEY-----",
]
LINE = st.lists(st.sampled_from([p for p in PIECES if "\n" not in p]), max_size=20).map("".join)
LINES = st.lists(
    st.one_of(LINE, st.just("key=1 " * 20), st.just("x" * 3000 + " password=hunter22"), st.just(_PEM)), max_size=30
).map(lambda items: [line for item in items for line in ([item] if isinstance(item, str) else item)])


@SETTINGS
@given(LINES, st.integers(min_value=0, max_value=3))
def test_redact_lines_is_the_whole_text_redacted_and_split(lines: list[str], repeat: int) -> None:
    """Placeholders, their numbers and the counts are what replacing in the joined text and splitting it
    all gives, over a run's calls (numbers are shared); dense text spanning lines and PEM blocks included."""
    fast, whole = Redactor(), Redactor()
    for batch in [lines, lines[::-1], lines * repeat]:
        joined = "\n".join(batch)
        expected = whole._apply(joined, whole._scan(joined)).split("\n") if batch else []
        assert fast.redact_lines(batch) == expected
        assert fast.counts() == whole.counts()


def test_redact_lines_keeps_the_lines_between_secrets_and_their_count() -> None:
    token = "gh" + "p_" + "Q1w2E3r4" * 5
    lines = ["a", f"t = '{token}' u = '{token}'", "b", "c", f"x = '{token}'", f"y = '{token}'", "d"]
    assert Redactor().redact_lines(lines) == [
        "a",
        "t = '<<SECRET:github-token:1>>' u = '<<SECRET:github-token:1>>'",
        "b",
        "c",
        "x = '<<SECRET:github-token:1>>'",
        "y = '<<SECRET:github-token:1>>'",
        "d",
    ]
    # the lines no secret touches are not split out of the joined text again: the caller's own strings
    many = [f"line number {i} of the file" for i in range(1000)]
    many[500] = f"x = '{token}'"
    out = Redactor().redact_lines(many)
    assert out[500] == "x = '<<SECRET:github-token:1>>'"
    assert all(o is line for i, (o, line) in enumerate(zip(out, many, strict=True)) if i != 500)
    budget_out = Redactor().redact_lines([f"token_{i} = 'value{i}'" for i in range(3000)])
    assert len(budget_out) == 3000 and ":dense:" in budget_out[-1] and ":dense:" not in budget_out[0]


# --- assignment values rejected early -------------------------------------------------------------------


@SETTINGS
@given(st.text(max_size=MIN_VALUE - 1) | st.tuples(st.sampled_from(NOT_FIRST), st.text()).map("".join))
def test_a_short_value_or_one_starting_with_a_sign_fails_every_assignment_check(value: str) -> None:
    """_assignment_hits drops these before the checks: that must be what the checks decide, for every
    prefix of the value too (the value the checks see is a prefix of the match's)."""
    for prefix in {value[:n] for n in range(len(value) + 1)}:
        for check in (_password_value, _secret_value, _token_value):
            assert not check(prefix)


def test_every_assignment_keyword_uses_one_of_the_checks_that_reject_them() -> None:
    for word in [*_ASSIGNMENT_START.pattern.split("|"), "password", "passphrase", "api_key", "credentials"]:
        assert _assignment_kind(word)[1] in (_password_value, _secret_value, _token_value)


# --- the assignment pattern at every keyword start -----------------------------------------------------

_NESTED = ["monkey_", "token = 'password = hunter22'", "pat_token=s3cr3tP4ss ", "key_token: ", "tokentoken="]


def _tried_past_the_last_match(text: str, lowered: str) -> list[tuple[int, int]]:
    """The pattern tried at each keyword start, skipping the starts inside the last match."""
    spans, pos = [], 0
    while (hit := _ASSIGNMENT_START.search(lowered, pos)) is not None:
        if (m := _KEYWORD_ASSIGNMENT.match(text, hit.start())) is None:
            pos = hit.start() + 1
        else:
            spans.append(m.span())
            pos = m.end()
    return spans


@SETTINGS
@given(st.lists(TEXTS | st.sampled_from(_NESTED), min_size=1, max_size=40).map(" ".join))
def test_the_matches_tried_everywhere_and_dropped_inside_the_last_are_the_matches_past_it(text: str) -> None:
    text = "x = 1 " * (_MAX_ASSIGNMENT // 6) + "\n" + text  # long enough for the one-pass branch
    lowered = text.replace("\u0130", "i").lower()
    found = [m.span() for m in _assignment_matches(text, lowered) if m.re is _KEYWORD_ASSIGNMENT]
    assert found == _tried_past_the_last_match(text, lowered)


# --- a chunk's keywords grouped -------------------------------------------------------------------------


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 2 * _FEW_KEYWORDS), st.integers(1, 30)), max_size=200))
def test_few_or_many_keywords_are_grouped_with_the_lines_holding_them(pairs: list[tuple[int, int]]) -> None:
    expected: dict[int, set[int]] = {}
    for keyword, line in pairs:
        expected.setdefault(keyword, set()).add(line)
    found = list(_keyword_lines([k for k, _ in pairs], [line for _, line in pairs]))
    assert dict(found) == expected and len(found) == len(expected)
