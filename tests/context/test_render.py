"""pick and render_related: the budget (lines and tokens) is never exceeded, snippets are deduplicated and
merged, best rank first; and in the engine, each call gets the context of its own files, the diff first."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from qodo_review.config import ReviewConfig
from qodo_review.context.render import pick, render_related
from qodo_review.context.resolve import Snippet
from qodo_review.diff import split_diff
from qodo_review.engine import run_task
from qodo_review.models import PullRequest
from qodo_review.redact import Redactor
from qodo_review.tasks import review

TEXTS = {"a.py": [f"line_{i} = {i}" for i in range(1, 201)], "b.py": [f"other_{i} = {i}" for i in range(1, 51)]}

snippet = st.builds(
    lambda path, start, length, rank: Snippet(path, start, start + length, rank, "why", "c.py"),
    st.sampled_from(["a.py", "b.py"]),
    st.integers(1, 60),
    st.integers(0, 40),
    st.integers(1, 4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(snippet, max_size=12), st.integers(0, 120), st.integers(0, 2000))
def test_pick_stays_within_both_budgets_and_never_repeats_a_line(
    snippets: list[Snippet], max_lines: int, max_tokens: int
) -> None:
    ordered = [Snippet(s.path, s.start, s.end, s.rank, s.why, s.serves, i) for i, s in enumerate(snippets)]
    blocks = pick(ordered, TEXTS, {"c.py"}, max_lines=max_lines, max_tokens=max_tokens)
    assert sum(b.lines for b in blocks) <= max_lines
    for path in TEXTS:
        spans = sorted((b.start, b.end) for b in blocks if b.path == path)
        assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(spans))  # merged, disjoint
        assert all(1 <= a and b <= len(TEXTS[path]) for a, b in spans)


def test_pick_takes_the_best_rank_first_and_merges_touching_snippets() -> None:
    snippets = [
        Snippet("a.py", 50, 59, 4, "a test", "c.py", 1),
        Snippet("a.py", 1, 5, 1, "enclosing", "c.py", 2),
        Snippet("a.py", 6, 8, 2, "used", "c.py", 3),
        Snippet("b.py", 1, 3, 3, "caller", "elsewhere.py", 4),  # another file's context
    ]
    blocks = pick(snippets, TEXTS, {"c.py"}, max_lines=10, max_tokens=10_000)
    assert [(b.path, b.start, b.end, b.why) for b in blocks] == [("a.py", 1, 8, ("enclosing", "used"))]


def test_render_numbers_labels_and_redacts() -> None:
    texts = {"k.py": ["def f():", '    key = "sk_live_51HabcdefGHIJKLmnopQRSTuv"', "    return key"]}
    blocks = pick([Snippet("k.py", 1, 3, 2, "`f`, used", "c.py")], texts, {"c.py"}, max_lines=9, max_tokens=999)
    text = render_related(blocks, texts, Redactor())
    assert "### k.py, lines 1-3 (`f`, used)" in text
    assert '2 |     key = "<<SECRET:stripe-key:1>>"' in text and "sk_live" not in text
    assert render_related([], texts, Redactor()) == ""


class DictReader:
    searchable = True

    def __init__(self, files: Mapping[str, str]) -> None:
        self.files = files

    def paths(self) -> Sequence[str]:
        return list(self.files)

    def read(self, paths: Sequence[str]) -> Mapping[str, str]:
        return {p: self.files[p] for p in paths}


def _module(name: str, lines: int) -> str:
    body = "".join(f"    v{i} = {i}\n" for i in range(lines))
    return f"def {name}_helper():\n{body}    return 0\n\n\ndef {name}(x):\n    return {name}_helper() + x\n"


def _diff(name: str, lines: int) -> str:
    """A change to the call in `{name}`, with a large file so the diff of each fills most of one call."""
    total = lines + 6
    added = "".join(f"+    w{i} = {name}_helper()\n" for i in range(lines * 3))
    return (
        f"diff --git a/{name}.py b/{name}.py\n--- a/{name}.py\n+++ b/{name}.py\n"
        f"@@ -{total},1 +{total},{lines * 3 + 1} @@ def {name}(x):\n"
        f"     return {name}_helper() + x\n{added}"
    )


def test_each_call_gets_the_context_of_its_own_files_and_the_diff_always_wins() -> None:
    files = {
        name: _module(name, 150) + "".join(f"    w{i} = {name}_helper()\n" for i in range(450))
        for name in ("first", "second")
    }
    files = {f"{name}.py": text for name, text in files.items()}
    raw = split_diff(_diff("first", 150) + _diff("second", 150))
    config = ReviewConfig(max_input_tokens=12_000, max_calls=4)
    pr = PullRequest(number=1, title="t", body="", base_sha="", head_sha="")
    outcome = run_task(
        review.task(config), pr, raw, config, caller=None, redactor=Redactor(), nonce="n" * 16,
        model="gpt-4.1", related=DictReader(files),
    )  # fmt: skip
    assert len(outcome.prompts) == 2
    first, second = (p.user for p in outcome.prompts)
    assert "### first.py, lines" in first and "### second.py" not in first
    assert "### second.py, lines" in second and "### first.py" not in second
    # every changed line is sent; the context gets what the diff leaves of the call, not more
    assert outcome.lines_reviewed == sum(r.added + r.removed for r in raw)
    for prompt in outcome.prompts:
        assert prompt.tokens_estimate <= 12_000
    related_lines = sum(n for _, n in outcome.manifest.related)
    assert 0 < related_lines < 2 * 150  # cut to the room left: not the whole helpers
