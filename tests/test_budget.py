"""Budget: model limits, the conservative estimate, and the chunking invariants."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qodo_review import budget
from qodo_review.budget import UNKNOWN_MODEL, call_budget, estimate_raw, model_limits, plan_budget, sized_file
from qodo_review.diff import RawFile, parse_file, split_diff
from qodo_review.models import FileStatus
from qodo_review.tokens import (
    MAX_LINE_CHARS,
    class_counts,
    continuation_rows,
    counted_tokens,
    estimate_tokens,
    long_lines,
    piece_counts,
)


def make_diff(path: str, hunks: int, lines_per_hunk: int, width: int = 40) -> str:
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    line = 1
    for h in range(hunks):
        out.append(f"@@ -{line},1 +{line},{lines_per_hunk + 1} @@ def f{h}():")
        out.append(f" context {h}")
        out.extend(f"+{'x' * width} {h}-{i}" for i in range(lines_per_hunk))
        line += 100
    return "\n".join(out) + "\n"


def raws(*specs: tuple[str, int, int]) -> list[RawFile]:
    return split_diff("".join(make_diff(p, h, n) for p, h, n in specs))


def test_known_and_unknown_models() -> None:
    assert model_limits("gpt-4o-mini").context == 128_000
    assert model_limits("openai/gpt-4.1").context == 1_047_576
    assert model_limits("claude-sonnet-4-5-20250929").max_output == 64_000
    assert model_limits("my-local-llama") == UNKNOWN_MODEL


def test_unknown_model_gets_a_notice_and_override() -> None:
    tokens, output, limits, notices = call_budget("my-local-llama", None, 1000)
    assert not limits.known and notices and "max-input-tokens" in notices[0]
    assert tokens + output + 1000 <= UNKNOWN_MODEL.context
    tokens, _, _, notices = call_budget("my-local-llama", 100_000, 1000)
    assert tokens == 99_000 and notices == []


def test_call_never_exceeds_context_minus_output() -> None:
    for model in ("gpt-4o", "claude-3-5-haiku", "unknown"):
        tokens, output, limits, _ = call_budget(model, 10_000_000, 500)
        assert tokens + 500 + output <= limits.context or not limits.known


def plan(files: list[RawFile], call_tokens: int, max_calls: int = 100):  # type: ignore[no-untyped-def]
    return plan_budget(
        files, call_tokens=call_tokens, output_tokens=1000, limits=model_limits("gpt-4o"), max_calls=max_calls
    )


def line_ids(p) -> list[tuple[str, str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    out = []
    for chunk in p.chunks:
        for piece in chunk.pieces:
            hunks = piece.hunks if piece.hunks is not None else parse_file(piece.raw).hunks
            out.extend((piece.raw.path, ln.kind, ln.old, ln.new) for h in hunks for ln in h.lines)
    return out


def test_small_files_share_one_call() -> None:
    p = plan(raws(("a.py", 2, 5), ("b.py", 2, 5)), 10_000)
    assert len(p.chunks) == 1 and p.not_reviewed == ()


@pytest.mark.parametrize("seed", range(5))
def test_chunking_invariants(seed: int) -> None:
    rng = random.Random(seed)
    specs = [(f"src/m{i}.py", rng.randint(1, 6), rng.randint(1, 80)) for i in range(30)]
    files = raws(*specs)
    budget = 2_000
    p = plan(files, budget)
    assert all(c.tokens <= budget for c in p.chunks)  # no chunk over budget
    ids = line_ids(p)
    expected = [(f.path, ln.kind, ln.old, ln.new) for f in files for h in parse_file(f).hunks for ln in h.lines]
    assert sorted(ids, key=str) == sorted(expected, key=str)  # every diff line in exactly one chunk
    assert len(ids) == len(set(ids))
    assert line_ids(plan(files, budget)) == ids  # deterministic


def test_large_file_split_at_hunk_boundaries() -> None:
    (raw,) = raws(("big.py", 10, 60))
    assert estimate_raw(raw) > 4_000
    p = plan([raw], 4_000)
    parts = [piece for c in p.chunks for piece in c.pieces]
    assert len(parts) > 1 and all(piece.parts == len(parts) for piece in parts)
    assert sum(len(piece.hunks or parse_file(piece.raw).hunks) for piece in parts) == 10


def test_single_huge_hunk_is_cut_at_line_boundaries() -> None:
    (raw,) = raws(("huge.py", 1, 2_000))
    p = plan([raw], 3_000)
    pieces = [piece for c in p.chunks for piece in c.pieces]
    assert len(pieces) > 1 and all(c.tokens <= 3_000 for c in p.chunks)
    assert sum(h.added for piece in pieces for h in piece.hunks or ()) == 2_000


def test_module_and_test_travel_together() -> None:
    files = raws(("src/pay.py", 1, 30), ("docs/x.md", 1, 30), ("tests/test_pay.py", 1, 30))
    p = plan(files, estimate_raw(files[0]) + estimate_raw(files[2]) + 10)
    together = [c for c in p.chunks if {pc.raw.path for pc in c.pieces} >= {"src/pay.py", "tests/test_pay.py"}]
    assert together


def test_max_calls_reports_what_was_not_reviewed() -> None:
    files = raws(*[(f"f{i}.py", 1, 50) for i in range(6)])
    p = plan(files, estimate_raw(files[0]) + 10, max_calls=2)
    assert len(p.chunks) == 2
    reviewed = {pc.raw.path for c in p.chunks for pc in c.pieces}
    missing = {s.path: s.lines for s in p.not_reviewed}
    assert reviewed.isdisjoint(missing) and reviewed | set(missing) == {f.path for f in files}
    assert all(lines == 50 for lines in missing.values())
    assert all("max-calls" in s.reason for s in p.not_reviewed)


def test_rawfile_status_sanity() -> None:
    (raw,) = raws(("a.py", 1, 1))
    assert raw.status is FileStatus.MODIFIED


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0, 1, 2, 399, 400, 401, 402, 799, 800, 801, 1203]), min_size=1, max_size=8),
    st.data(),
)
def test_continuation_rows_count_every_long_line_of_a_span(lengths: list[int], data: st.DataObject) -> None:
    """long_lines probes the text instead of reading every character: it finds what reading every line does."""
    text = "\n".join("x" * n for n in lengths)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    lines = text[start:end].split("\n")
    assert continuation_rows(text, start, end) == sum(max(len(line) - 1, 0) // MAX_LINE_CHARS for line in lines)
    assert long_lines(text, MAX_LINE_CHARS, start, end) == [len(ln) for ln in lines if len(ln) > MAX_LINE_CHARS]


def reference_tokens(text: str) -> float:
    """The estimate read character by character (what class_counts does in C), before the ceiling."""
    total = 0.0
    for byte in text.encode("utf-8", "replace"):
        char = chr(byte)
        if char.isascii() and char.isalpha():
            total += 1 / 2.5
        elif char.isascii() and char.isdigit():
            total += 1 / 2.0
        elif char == "\n":
            total += 1
        elif char == " ":
            total += 0.15
        elif byte >= 0x80:
            total += 1 / 1.5
        else:
            total += 1.1
    return total


texts = st.text(st.sampled_from(["a", "Z", "7", " ", "\n", "\t", "{", "é", "€", "𝄞", "\ud800", "\x00", "\x7f"]))


@settings(max_examples=300, deadline=None)
@given(texts, texts)
def test_class_counts_add_up_over_the_pieces_of_a_text(first: str, second: str) -> None:
    """A file's estimate is summed from its hunks' counts (sized_file): the counts of a text are the sum of
    its pieces' (non-ASCII and lone surrogates included), and give the estimate read character by character."""
    text = first + second
    whole = class_counts(text)
    pieces = piece_counts(text, [0, len(first), len(text)])
    assert whole == tuple(map(sum, zip(*pieces, strict=True))) and pieces[0] == class_counts(first)
    assert piece_counts(text.encode("ascii", "replace").decode(), [0, len(first), len(text)]) == [
        class_counts(first.encode("ascii", "replace").decode()),
        class_counts(second.encode("ascii", "replace").decode()),
    ]
    assert abs(counted_tokens(class_counts(first)) - reference_tokens(first)) < 1 + 1e-6
    assert estimate_tokens(first) == counted_tokens(class_counts(first))


def varied_diff(path: str, hunks: int, seed: int) -> str:
    """Hunks with long lines (continuation rows), non-ASCII text and a header line of their own."""
    rng = random.Random(seed)
    out = [f"diff --git a/{path} b/{path}", "index 1234567..89abcde 100644", f"--- a/{path}", f"+++ b/{path}"]
    for h in range(hunks):
        lines = [rng.choice(["+", "-", " "]) + rng.choice(["x = 1", "é€ " * 150, "y" * 900, ""]) for _ in range(5)]
        old = sum(line[0] != "+" for line in lines)
        new = sum(line[0] != "-" for line in lines)
        out.append(f"@@ -{h * 10 + 1},{old} +{h * 10 + 1},{new} @@ def f{h}():")
        out.extend(lines)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", range(5))
def test_a_file_sized_hunk_by_hunk_has_its_whole_estimate(seed: int) -> None:
    (raw,) = split_diff(varied_diff("a.py", 12, seed))
    sized = sized_file(raw)
    assert sized.tokens == estimate_raw(raw)
    for (start, end), cost in zip(sized.spans, sized.costs, strict=True):
        hunk = raw.text[start:end]
        assert cost == estimate_tokens(hunk) + 1 + 5 * hunk.count("\n") + 6 * continuation_rows(hunk)


def test_a_file_too_large_for_a_call_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sized whole and then again hunk by hunk, a file over one call had its text counted twice."""
    (raw,) = split_diff(make_diff("big.py", 10, 3, width=2_000))  # few changed lines: not over at a glance
    read: list[int] = []
    for name in ("piece_counts", "estimate_tokens", "estimate_raw"):
        original = getattr(budget, name)

        def spy(text: str | RawFile, *rest: Any, original: Any = original) -> Any:
            read.append(len(text if isinstance(text, str) else text.text))
            return original(text, *rest)

        monkeypatch.setattr(budget, name, spy)
    p = plan([raw], 4_000)
    assert len([piece for c in p.chunks for piece in c.pieces]) > 1
    assert sum(read) <= len(raw.text)
