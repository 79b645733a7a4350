"""The redactor's fast paths find exactly what the one-line-at-a-time scan finds: the Aho-Corasick keyword
and trigger scans, the rules run over many lines joined by newlines, and the assignment loop that skips no
place. Each fast path is compared with the slower path it stands for, on generated and hostile texts."""

from __future__ import annotations

import random
import re
import re._constants as sre
import re._parser as parser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qodo_review.redact import RULES, Redactor
from qodo_review.redact.assignments import (
    _ASSIGNMENT_START,
    _KEYWORD_ASSIGNMENT,
    _STARTS,
    _XML_SETTING,
    _assignment_hits,
    _skipping_matches,
)
from qodo_review.redact.lines import _CHUNK, _LONG, _chunked_hits, _line_keywords, _line_scan
from qodo_review.redact.scan import (
    _ALL_KEYWORDS,
    _KEYWORD_SCAN,
    _KEYWORDS,
    _TRIGGER_CHUNK,
    _TRIGGER_WORDS,
    _candidate_lines,
    _line_end,
    _merge,
    _trigger_lines,
)

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces that make keywords, assignments, values and the characters whose case folding is unusual (U+017F and
# U+0131 match s and i in a case-insensitive pattern but do not lowercase to them; the Kelvin sign lowercases
# to k, U+0130 to two characters).
PIECES = [
    *_ALL_KEYWORDS,
    *("password", "PASSWORD", "Token", "api_key", "secret_name", "KEY", "value=", 'key="', 'value="'),
    *(" = ", "=", ": ", "=>", '"', "'", "`", ",", ";", "(", ")", "{", "[", "?", "&", "#", "\\", " ", "\t", "\n"),
    *("export ", "- ", "!!binary ", "L", "b", "@", "hunter2", "s3cr3tP4ss", "x", "y1", "$", "<", "|"),
    *("\u017f", "\u0131", "\u0130", "\u212a", "\u00c5", "\u00df", "\u00a0"),
    "gh" + "p_" + "a1B2c3D4" * 5,
    "AKIA" + "ABCDEFGH12345678",
    "sk-" + "Ab1" * 12,
    "https://user:pa55word@host",
    "Bearer ",
    "abcdefghijklmnopqrstuvwxyz0123",
    "  password 'hunter22'",
    "Server=db;Password=pw123;",
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)


def _line_by_line(text: str) -> list[object]:
    """What the scan finds one line at a time, without the work budget."""
    lowered = text.replace("\u0130", "i").lower()
    starts, _ = _candidate_lines(text, lowered, len(text) + 1)
    hits = []
    for start in starts:
        stop = _line_end(text, start)
        found = _line_keywords(lowered, start, stop)
        if found:
            hits += _line_scan(text, lowered, start, stop, found)
    return _merge(text, hits)


def _batched(text: str) -> list[object]:
    lowered = text.replace("\u0130", "i").lower()
    starts, _ = _candidate_lines(text, lowered, len(text) + 1)
    hits = _chunked_hits(text, lowered, starts, 10 * len(text) + 10)
    assert hits is not None
    return _merge(text, hits)


# --- rules over joined lines -----------------------------------------------------------------------------

_NEWLINE_CATEGORIES = {
    sre.CATEGORY_SPACE,
    sre.CATEGORY_NOT_DIGIT,
    sre.CATEGORY_NOT_WORD,
    sre.CATEGORY_LINEBREAK,
    sre.CATEGORY_UNI_SPACE,
    sre.CATEGORY_UNI_NOT_DIGIT,
    sre.CATEGORY_UNI_NOT_WORD,
    sre.CATEGORY_UNI_LINEBREAK,
}
_BOUNDARIES = {sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY, sre.AT_UNI_BOUNDARY, sre.AT_UNI_NON_BOUNDARY}


def _set_has_newline(items: list[tuple[object, object]]) -> bool:
    negate, found = False, False
    for op, arg in items:
        if op is sre.NEGATE:
            negate = True
        elif op is sre.LITERAL:
            found |= arg == 10
        elif op is sre.RANGE:
            found |= arg[0] <= 10 <= arg[1]  # type: ignore[index]
        elif op is sre.CATEGORY:
            found |= arg in _NEWLINE_CATEGORIES
        else:
            raise AssertionError(f"unknown set item {op}")
    return found != negate


def _line_bound(parsed: object) -> list[str]:
    """Why a parsed pattern could find something else over lines joined by newlines than in each line: an
    element that can match a newline (so a match or a lookaround could cross one) or an anchor (`^`, `$`,
    which mean the string's ends, not the line's). A word boundary is fine: a newline is no word character,
    like the end of a string."""
    found = []
    for op, arg in parsed:  # type: ignore[attr-defined]
        if (op is sre.LITERAL and arg == 10) or (op is sre.NOT_LITERAL and arg != 10) or op is sre.ANY:
            found.append(f"{op} matches a newline")
        elif op is sre.IN and _set_has_newline(arg):
            found.append(f"{arg} matches a newline")
        elif op is sre.CATEGORY and arg in _NEWLINE_CATEGORIES:
            found.append(f"{arg} matches a newline")
        elif op is sre.AT and arg not in _BOUNDARIES:
            found.append(f"anchor {arg}")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            found += _line_bound(arg[2])
        elif op is sre.SUBPATTERN:
            found += _line_bound(arg[3])
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found += _line_bound(arg[1])
        elif op is sre.ATOMIC_GROUP:
            found += _line_bound(arg)
        elif op is sre.BRANCH:
            for branch in arg[1]:
                found += _line_bound(branch)
        elif op is sre.GROUPREF_EXISTS:
            found += _line_bound(arg[1]) + (_line_bound(arg[2]) if arg[2] else [])
        elif op not in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.CATEGORY, sre.AT, sre.GROUPREF):
            found.append(f"unknown {op}")
    return found


def _parsed(pattern: re.Pattern[str]) -> object:
    return parser.parse(pattern.pattern, pattern.flags)


@pytest.mark.parametrize("index", range(len(RULES)), ids=[f"{i}-{r.kind}" for i, r in enumerate(RULES)])
def test_a_rule_not_anchored_matches_no_newline(index: int) -> None:
    """Rules run over many chosen lines joined by newlines unless `anchored`: then they must find in the
    joined text exactly what they find in each line, which holds when nothing in them matches a newline."""
    rule = RULES[index]
    problems = _line_bound(_parsed(rule.pattern))
    assert bool(problems) == rule.anchored, problems or "anchored, yet it could run over joined lines"


@pytest.mark.parametrize("pattern", [_KEYWORD_ASSIGNMENT, _XML_SETTING], ids=["assignment", "xml-setting"])
def test_the_assignment_patterns_match_no_newline(pattern: re.Pattern[str]) -> None:
    assert _line_bound(_parsed(pattern)) == []


def test_the_check_sees_newlines_and_anchors() -> None:
    for source in (r"^a", r"a$", r"a\Z", r"[^x]", r"\s", r"\D", r"a.b", r"[\n]", r"(?<=\W)a"):
        assert _line_bound(parser.parse(source)), source
    assert _line_bound(parser.parse(r"\ba[^\n]{0,9}(?<![a-z])(?=[ \t])\S\w")) == []


# --- the keyword scans -------------------------------------------------------------------------------------


@SETTINGS
@given(TEXTS)
def test_the_keyword_scan_finds_what_the_alternation_finds(text: str) -> None:
    """Leftmost-longest Aho-Corasick over bytes ("replace": one byte per character) is the trie alternation."""
    lowered = text.replace("\u0130", "i").lower()
    matches = _KEYWORD_SCAN.find_matches_as_indexes(lowered.encode("ascii", "replace"))
    assert [(s, e) for _, s, e in matches] == [m.span() for m in _KEYWORDS.finditer(lowered)]
    assert [_ALL_KEYWORDS[k] for k, _, _ in matches] == _KEYWORDS.findall(lowered)


def _trigger_reference(lowered: str) -> list[int]:
    starts, offset = [], 0
    for line in lowered.split("\n"):
        if any(word in line for word in _TRIGGER_WORDS):
            starts.append(offset)
        offset += len(line) + 1
    return starts


@pytest.mark.parametrize("shift", [-30, -7, -3, -1, 0, 1, 5])
def test_trigger_lines_across_the_search_chunks(shift: int) -> None:
    """Triggers straddling the chunk boundary, lines running over it, and lines with many triggers."""
    filler = "x" * (_TRIGGER_CHUNK + shift)
    texts = [
        filler + "password" + "y" * 100 + "\nabc\nkey\n",
        "a\n" + filler[:-2] + "secret" + "\n" + "token " * 30_000 + "\nz\n" + filler + "\npwd",
        ("q" * 300 + "\n") * (_TRIGGER_CHUNK // 301) + "x" * (shift + 30) + "bearer\nkey",
        "key" * (_TRIGGER_CHUNK // 3 + shift) + "\n" + "b" * _TRIGGER_CHUNK + "\nsecret",
    ]
    for text in texts:
        expected = _trigger_reference(text)
        assert _trigger_lines(text, len(text)) == (expected, len(text))
        for limit in (0, 1, 2):
            cut = expected[limit] if len(expected) > limit else len(text)
            assert _trigger_lines(text, limit) == (expected[:limit], cut)


@SETTINGS
@given(TEXTS)
def test_trigger_lines_are_the_lines_holding_a_trigger(text: str) -> None:
    lowered = text.replace("\u0130", "i").lower()
    assert _trigger_lines(lowered, len(text) + 1) == (_trigger_reference(lowered), len(text))


# --- the assignments -----------------------------------------------------------------------------------


@SETTINGS
@given(TEXTS)
def test_the_assignment_loop_that_skips_nothing_finds_what_the_skipping_one_finds(text: str) -> None:
    """Text with no long run between blanks takes the loop without the skip; appending such a run on a line
    of its own sends the same text through the skipping loop, which must find the same hits in it."""
    lowered = text.replace("\u0130", "i").lower()
    plain = list(_assignment_hits(text, lowered))
    run = "\n" + "z" * 800
    skipped = [hit for hit in _assignment_hits(text + run, lowered + run) if hit[0] < len(text)]
    assert plain == skipped


@SETTINGS
@given(TEXTS)
def test_the_keyword_starts_are_the_same_by_regex_and_by_one_pass(text: str) -> None:
    """Short texts find where an assignment keyword starts by regex, long ones by one Aho-Corasick pass."""
    lowered = text.replace("\u0130", "i").lower()
    found = _STARTS.find_matches_as_indexes(lowered.encode("ascii", "replace"), True)
    searched, pos = [], 0
    while (hit := _ASSIGNMENT_START.search(lowered, pos)) is not None:
        searched.append(hit.start())
        pos = hit.start() + 1
    assert sorted(start for _, start, _ in found) == searched


def test_the_skipping_loop_skips_only_places_no_match_starts_from() -> None:
    text = "password=" * 2000 + " token = 'abc' " + "password=" * 100
    expected, pos = [], 0
    for start in [m.start() for m in re.finditer("pass|token", text)]:
        if start >= pos and (m := _KEYWORD_ASSIGNMENT.match(text, start)) is not None:
            expected.append(m.span())
            pos = m.end()
    assert [m.span() for m in _skipping_matches(text, text.lower())] == expected


def test_a_long_line_of_keyword_starts_takes_memory_linear_in_its_size() -> None:
    """A line of words that start no keyword of the prefilter but start the assignment pattern ("auth"): a
    list of every place they start would take ~100 bytes each (the list of a one-pass search)."""
    import tracemalloc

    def peak(size: int) -> int:
        text = "x = 1 # token\n" + "auth " * (size // 5) + "token = 'abc'"
        tracemalloc.start()
        Redactor().redact(text)
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used // size

    assert peak(1 << 20) < 12  # bytes per character: the text's few copies (lowercased, encoded)


# --- the chosen lines a chunk at a time ------------------------------------------------------------------


@SETTINGS
@given(st.lists(TEXTS, max_size=12).map("\n".join))
def test_chunks_of_lines_find_what_single_lines_find(text: str) -> None:
    assert _batched(text) == _line_by_line(text)


def _generated(seed: int, lines: int) -> str:
    """Lines of every length class: short, long enough to be scanned alone, dense with keywords."""
    rng = random.Random(seed)
    out = []
    for _ in range(lines):
        line = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))).replace("\n", " ")
        roll = rng.random()
        if roll < 0.02:
            line = line + " password=x" * (_LONG // 10) + f" token = '{'gh' + 'p_' + 'Q1w2E3r4' * 5}'"
        elif roll < 0.04:
            line = "key=1 " * 20 + line
        elif roll < 0.05:
            line = " ".join(_ALL_KEYWORDS)[: _LONG + 50]
        out.append(line)
    return "\n".join(out)


@pytest.mark.parametrize("seed", range(4))
def test_chunks_past_the_chunk_size_find_what_single_lines_find(seed: int) -> None:
    text = _generated(seed, 6000)
    assert len(text) > 2 * _CHUNK
    assert _batched(text) == _line_by_line(text)


def test_a_long_or_dense_line_in_a_chunk_is_withheld_as_alone() -> None:
    dense = "key=1 " * 20
    long = "x" * _LONG + " password=hunter22 " + " ".join(_ALL_KEYWORDS)
    out = Redactor().redact_lines(["token = 'abc'", dense, "ok", long, "password = 'hunter2x'"])
    assert out[1:4] == ["<<SECRET:dense:1>>", "ok", "<<SECRET:dense:2>>"]
    assert "hunter2x" not in out[4]


def test_the_budget_running_out_in_a_chunk_falls_back_to_line_by_line() -> None:
    """Over budget, the line where it runs out decides what is withheld: the chunks give up, and the
    line-by-line scan withholds from that line on."""
    lines = [f"token_{i} = 'value{i}'" for i in range(3000)]
    text = "\n".join(lines)
    lowered = text.lower()
    starts, _ = _candidate_lines(text, lowered, len(text))
    assert _chunked_hits(text, lowered, starts, 100) is None
    out = Redactor().redact("\n".join(lines)).split("\n")
    assert ":dense:" in out[-1] and ":dense:" not in out[0]
