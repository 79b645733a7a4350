"""The summary comment's hidden state: parsed as hostile input, and the diff range it chooses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qodo_review.models import Severity
from qodo_review.redact import Redactor
from qodo_review.render import addressed_section, history_section, scope_line
from qodo_review.state import (
    MAX_HISTORY,
    STATE_OPEN,
    Entry,
    Scope,
    State,
    choose_scope,
    confirm_scope,
    entry_time,
    parse_state,
    record,
    render_state,
    sign,
    state_key,
)

A, B, C = "a" * 40, "b" * 40, "c" * 40
E1 = Entry(A, "2026-01-02T03:04:05Z", "gpt-4.1", "pass", True, "full")
E2 = Entry(B, "2026-01-03T03:04:05Z", "claude-sonnet-4-6", "fail", False, "incremental")


KEY = state_key("sk-test-key-0123456789abcdef", "owner/repo", 7)
assert KEY is not None


def comment(state_json: str, key: bytes = KEY) -> str:
    """A summary comment holding this state text, signed with the key (as the action signs it)."""
    return f"<!-- qodo-review:summary -->\n## qodo-review\n\n{STATE_OPEN}{state_json} {sign(key, state_json)} -->"


def test_round_trip() -> None:
    state = State(last=A, worst=Severity.MEDIUM, history=(E1, E2))
    assert parse_state(KEY, "<!-- qodo-review:summary -->\ntext\n\n" + render_state(KEY, state)) == state


def test_render_is_compact_json_in_one_comment() -> None:
    text = (
        '{"v":1,"last":"' + A + '","worst":null,"history":[{"sha":"' + A + '",'
        '"time":"2026-01-02T03:04:05Z","model":"gpt-4.1","scope":"full","complete":true,"verdict":"pass"}]}'
    )
    assert render_state(KEY, State(last=A, history=(E1,))) == f"<!-- qodo-review:state {text} {sign(KEY, text)} -->"


# --- authenticity: only a state this action signed, for this PR, is trusted ----------------------------------

GENUINE = State(last=A, worst=None, history=(E1,))


def test_a_genuine_state_verifies() -> None:
    assert parse_state(KEY, "text\n\n" + render_state(KEY, GENUINE)) == GENUINE


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.replace(A, B),  # `last` moved to another commit (say the head: nothing would be reviewed)
        lambda m: m.replace('"worst":null', '"worst":"low"'),
        lambda m: m.replace('"verdict":"pass"', '"verdict":"fail"'),
        lambda m: m[:-4].rsplit(" ", 1)[0] + " -->",  # the MAC removed
        lambda m: m[:-5] + ("0" if m[-5] != "0" else "1") + " -->",  # one digit of the MAC changed
    ],
)
def test_an_edited_state_is_no_state(edit: object) -> None:
    marker = render_state(KEY, GENUINE)
    forged = edit(marker)  # type: ignore[operator]
    assert forged != marker and parse_state(KEY, forged) == State()


def test_a_state_signed_for_another_pr_repository_or_key_is_no_state() -> None:
    for other in (
        state_key("sk-test-key-0123456789abcdef", "owner/repo", 8),
        state_key("sk-test-key-0123456789abcdef", "owner/other", 7),
        state_key("sk-another-key-0123456789ab", "owner/repo", 7),
    ):
        assert other is not None and other != KEY
        assert parse_state(KEY, render_state(other, GENUINE)) == State()


def test_without_a_key_no_state_is_trusted_and_the_key_is_never_written() -> None:
    assert state_key("", "owner/repo", 7) is None
    assert parse_state(None, render_state(KEY, GENUINE)) == State()
    marker = render_state(KEY, GENUINE)
    secret = "sk-test-key-0123456789abcdef"
    assert secret not in marker and KEY.hex() not in marker and secret.encode().hex() not in marker


@given(st.text(max_size=200))
def test_no_text_without_the_key_verifies(text: str) -> None:
    assert parse_state(KEY, comment(text, key=b"not the key")) == State()


@given(
    st.lists(
        st.tuples(
            st.binary(min_size=20, max_size=20),
            st.sampled_from(["pass", "fail"]),
            st.booleans(),
            st.sampled_from(["full", "incremental"]),
            st.sampled_from(["gpt-4.1", "claude-sonnet-4-6", "qwen2.5-coder-32b", "o3-mini"]),
        ),
        max_size=MAX_HISTORY,
    ),
    st.sampled_from([None, *Severity]),
)
def test_the_state_survives_the_secret_redactor(
    rows: list[tuple[bytes, str, bool, str, str]], worst: Severity | None
) -> None:
    """The comment is scrubbed by the run's redactor before it is posted: the state must come back intact."""
    entries = tuple(
        Entry(sha.hex(), "2026-01-02T03:04:05Z", model, verdict, complete, scope)
        for sha, verdict, complete, scope, model in rows
    )
    state = State(last=entries[-1].sha if entries else None, worst=worst, history=entries)
    marker = render_state(KEY, state)
    assert Redactor().redact(marker) == marker and parse_state(KEY, marker) == state


def test_a_model_name_cannot_end_the_comment_early() -> None:
    entry = Entry(A, "2026-01-02T03:04:05Z", "x --> <img src=y> -->", "pass", True, "full")
    marker = render_state(KEY, State(last=A, history=(entry,)))
    assert marker.count("-->") == 1 and "<img" not in marker
    assert parse_state(KEY, marker).history == (entry,)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "no state here",
        comment("not json"),
        comment("[1, 2]"),
        comment('{"v": 2, "last": "' + A + '"}'),  # a future version we do not know
        comment('{"v": 1, "last": "' + A + '"'),  # cut off
        f"{STATE_OPEN}" + '{"v": 1, "last": "' + A + '"}',  # never closed
        comment('{"v": 1, "last": "' + A + '", "pad": "' + "x" * 9000 + '"}'),  # far bigger than we write
        comment("[" * 100_000 + "]" * 100_000),  # deep nesting
    ],
)
def test_malformed_state_is_no_state(body: str) -> None:
    assert parse_state(KEY, body) == State()


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        (A, A),
        ("A" * 40, None),
        ("a" * 39, None),
        ("a" * 64, "a" * 64),
        ("g" * 40, None),
        (12, None),
        (None, None),
        ("../../etc", None),
        ("a" * 40 + "\n", None),
    ],
)
def test_last_sha_must_be_an_object_name(last: object, expected: str | None) -> None:
    assert parse_state(KEY, comment(json.dumps({"v": 1, "last": last}))).last == expected


def test_bad_history_entries_are_dropped_one_by_one() -> None:
    good = {
        "sha": A,
        "time": "2026-01-02T03:04:05Z",
        "model": "m",
        "verdict": "pass",
        "complete": True,
        "scope": "full",
    }
    bad = [
        {**good, "sha": "nope"},
        {**good, "time": "yesterday"},
        {**good, "model": "m" * 101},
        {**good, "verdict": "approve"},
        {**good, "complete": "yes"},
        {**good, "scope": "partial"},
        {**good, "model": None},
        "entry",
        None,
        7,
        [good],
    ]
    state = parse_state(KEY, comment(json.dumps({"v": 1, "last": A, "history": [*bad, good], "worst": "blocker"})))
    assert state.history == (Entry(A, "2026-01-02T03:04:05Z", "m", "pass", True, "full"),)
    assert state.worst is None


def test_the_last_state_marker_counts() -> None:
    """Ours ends the comment; a marker earlier in the text (say a quoted one) is not the state."""
    forged = render_state(KEY, State(last=C))
    assert parse_state(KEY, f"{forged}\n\n{render_state(KEY, State(last=A))}").last == A


@given(st.text(max_size=300))
def test_parse_state_never_raises(text: str) -> None:
    assert isinstance(parse_state(KEY, comment(text)), State)
    assert isinstance(parse_state(KEY, text), State)


@given(st.text(max_size=100))
def test_any_model_name_round_trips(model: str) -> None:
    entry = Entry(A, "2026-01-02T03:04:05Z", model, "pass", True, "full")
    marker = render_state(KEY, State(last=A, history=(entry,)))
    assert marker.count("-->") == 1
    assert parse_state(KEY, marker).history == (entry,)


def test_history_keeps_the_last_ten() -> None:
    state = State()
    for i in range(MAX_HISTORY + 5):
        state = record(state, Entry(f"{i:040x}", "2026-01-02T03:04:05Z", "m", "pass", True, "full"), None)
    assert len(state.history) == MAX_HISTORY and state.history[-1].sha == f"{MAX_HISTORY + 4:040x}"
    assert state.history[0].sha == f"{5:040x}" and parse_state(KEY, render_state(KEY, state)) == state


def test_record_only_moves_last_on_a_complete_review() -> None:
    start = State(last=A, worst=Severity.LOW)
    failed = record(start, Entry(B, "2026-01-02T03:04:05Z", "m", "fail", False, "incremental"), Severity.HIGH)
    assert (failed.last, failed.worst, len(failed.history)) == (A, Severity.LOW, 1)
    incremental = record(start, Entry(B, "2026-01-02T03:04:05Z", "m", "pass", True, "incremental"), None)
    assert (incremental.last, incremental.worst) == (B, Severity.LOW)  # earlier findings may still be open
    full = record(start, Entry(C, "2026-01-02T03:04:05Z", "m", "pass", True, "full"), Severity.INFO)
    assert (full.last, full.worst) == (C, Severity.INFO)  # a full review sees everything again


@pytest.mark.parametrize(
    ("state", "full", "fail_on", "since", "reason"),
    [
        (State(), False, None, None, "first review"),
        (State(history=(E2,)), False, None, None, "no earlier review was complete"),
        (State(last=A), True, None, None, "a full review was asked for"),
        (State(last=A), False, None, A, ""),
        (State(last=A, worst=Severity.CRITICAL), False, None, A, ""),  # no gate: nothing to protect
        (State(last=A, worst=Severity.MEDIUM), False, Severity.HIGH, A, ""),
        (State(last=A, worst=Severity.HIGH), False, Severity.HIGH, None, "met the fail-on gate"),
    ],
)
def test_choose_scope(state: State, full: bool, fail_on: Severity | None, since: str | None, reason: str) -> None:
    scope = choose_scope(state, full=full, fail_on=fail_on)
    assert scope.since == since and reason in scope.reason


@pytest.mark.parametrize(
    ("status", "since", "reason"),
    [
        ("ahead", A, ""),
        ("identical", A, ""),
        ("diverged", None, "aaaaaaa is no longer an ancestor of the head"),
        ("behind", None, "no longer an ancestor"),
        ("", None, "no longer an ancestor"),
        (None, None, "the changes since aaaaaaa could not be read"),
    ],
)
def test_confirm_scope_needs_an_ancestor(status: str | None, since: str | None, reason: str) -> None:
    scope = confirm_scope(Scope(A), status)
    assert scope.since == since and reason in scope.reason
    assert confirm_scope(Scope(None, "first review"), status) == Scope(None, "first review")


def test_entry_time_is_utc() -> None:
    assert entry_time(datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))) == "2026-01-02T03:04:05Z"
    assert entry_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_scope_line() -> None:
    assert scope_line(A, "", 3) == "Incremental: reviewed 3 files changed since `aaaaaaa`."
    assert scope_line(A, "", 1) == "Incremental: reviewed 1 file changed since `aaaaaaa`."
    assert scope_line(None, "first review", 4) == "Full review (first review)."


def test_history_section_newest_first_and_escaped() -> None:
    hostile = Entry(C, "2026-01-04T03:04:05Z", "m|x @team", "pass", True, "full")
    assert history_section((E1, E2, hostile)) == "\n".join(
        [
            "### Review history",
            "| Commit | When (UTC) | Model | Verdict | Scope |",
            "|---|---|---|---|---|",
            "| `ccccccc` | 2026\\-01\\-04 03\\:04\\:05 | `m\\|x @team` | ✅ pass | full |",
            "| `bbbbbbb` | 2026\\-01\\-03 03\\:04\\:05 | `claude-sonnet-4-6` | ⚠️ incomplete, ❌ fail | incremental |",
            "| `aaaaaaa` | 2026\\-01\\-02 03\\:04\\:05 | `gpt-4.1` | ✅ pass | full |",
        ]
    )
    assert history_section(()) == ""


def test_addressed_section() -> None:
    items = [
        ("🔴 **Critical · security:** SQL injection", "app/users.py", True),
        ("🟡 **Medium · bug:** Division by zero", "app/x.py", False),
    ]
    assert addressed_section(items, "github.com") == "\n".join(
        [
            "### Addressed since the last review",
            "- 🔴 **Critical · security:** SQL injection at `app/users.py` (thread resolved)",
            "- 🟡 **Medium · bug:** Division by zero at `app/x.py` (code changed; please resolve the thread)",
        ]
    )
