"""Huge pull requests: chunking invariants on generated diffs, compression that keeps meaning (context
trimmed, re-indentations shown once where indentation is not syntax, renames listed, long lines on
continuation rows, huge files split at hunk boundaries),
removed code that matters reaching the model, and the action end to end on a 406 PR and a git checkout."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM
from hypothesis import given, settings
from hypothesis import strategies as st
from test_fetch import large_pull, make_repo

from qodo_review.budget import (
    MAX_LINE_CHARS,
    MAX_SHOWN_LINE_CHARS,
    UNKNOWN_MODEL,
    Piece,
    estimate_raw,
    estimate_tokens,
    model_limits,
    plan_budget,
)
from qodo_review.config import ReviewConfig
from qodo_review.diff import RawFile, parse_file, split_diff
from qodo_review.models import Hunk, PullRequest
from qodo_review.redact import Redactor
from qodo_review.review import review_diff
from qodo_review.rows import PREFIXED_LINES, render_chunk, render_hunks
from qodo_review.select import select_files

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from gen_diff import generate_diff

PR = PullRequest(number=7, title="Big change", body="", base_sha=SHA_BASE, head_sha=SHA_HEAD)
LIMITS = model_limits("gpt-4.1")


def plan(files: list[RawFile], call_tokens: int, max_calls: int = 1000):  # type: ignore[no-untyped-def]
    return plan_budget(files, call_tokens=call_tokens, output_tokens=1000, limits=LIMITS, max_calls=max_calls)


def line_ids(pieces: list[Piece]) -> list[tuple[str, str, int | None, int | None]]:
    out = []
    for piece in pieces:
        hunks = piece.hunks if piece.hunks is not None else parse_file(piece.raw).hunks
        out.extend((piece.raw.path, ln.kind, ln.old, ln.new) for h in hunks for ln in h.lines)
    return out


@pytest.fixture(scope="module")
def generated() -> list[RawFile]:
    """A deterministic 300-file, 60,000-line PR with a heavy tail (a few giant files)."""
    text, shape = generate_diff(files=300, changed_lines=60_000, seed=3)
    files = select_files(split_diff(text)).reviewable
    assert sum(f.changed for f in files) > 50_000 and shape.files == 300
    return list(files)


@pytest.mark.parametrize("call_tokens", [3_000, 20_000, 60_000])
def test_every_reviewable_line_is_in_exactly_one_chunk_and_none_is_over_budget(
    generated: list[RawFile], call_tokens: int
) -> None:
    p = plan(generated, call_tokens)

    assert p.not_reviewed == ()
    assert all(chunk.tokens <= call_tokens for chunk in p.chunks)
    sent = line_ids([piece for c in p.chunks for piece in c.pieces])
    expected = [(f.path, ln.kind, ln.old, ln.new) for f in generated for h in parse_file(f).hunks for ln in h.lines]
    assert Counter(sent) == Counter(expected)
    again = plan(generated, call_tokens)
    assert [[(pc.raw.path, pc.part) for pc in c.pieces] for c in again.chunks] == [
        [(pc.raw.path, pc.part) for pc in c.pieces] for c in p.chunks
    ]


@pytest.mark.parametrize("max_calls", [1, 3, 8])
def test_max_calls_leaves_out_exact_line_counts(generated: list[RawFile], max_calls: int) -> None:
    p = plan(generated, 20_000, max_calls)

    assert len(p.chunks) == max_calls and all(c.tokens <= 20_000 for c in p.chunks)
    placed = sum(piece.lines for c in p.chunks for piece in c.pieces)
    assert placed + sum(s.lines for s in p.not_reviewed) == sum(f.changed for f in generated)
    assert all(s.kind == "not-reviewed" and f"max-calls budget ({max_calls} calls)" in s.reason for s in p.not_reviewed)
    # the most important files come first: nothing left out ranks before something placed whole
    first_left = min(i for i, f in enumerate(generated) if f.path in {s.path for s in p.not_reviewed})
    assert {f.path for f in generated[:first_left]} <= {pc.raw.path for c in p.chunks for pc in c.pieces}


def huge_file(hunks: int, lines: int, path: str = "src/huge.py") -> RawFile:
    out = [f"diff --git a/{path} b/{path}", f"--- a/{path}", f"+++ b/{path}"]
    for h in range(hunks):
        start = 1 + h * 1000
        out.append(f"@@ -{start},2 +{start},{lines + 2} @@ def f{h}():")
        out.append(" before")
        out.extend(f"+    total_{h}_{i} = compute(total_{h}_{i - 1}, {i})" for i in range(lines))
        out.append(" after")
    (raw,) = split_diff("\n".join(out) + "\n")
    return raw


def test_a_single_huge_file_is_split_at_hunk_boundaries() -> None:
    raw = huge_file(hunks=40, lines=60)
    original = parse_file(raw).hunks
    assert estimate_raw(raw) > 20_000

    p = plan([raw], 5_000)

    pieces = [piece for c in p.chunks for piece in c.pieces]
    assert len(pieces) > 3 and [pc.part for pc in pieces] == list(range(1, len(pieces) + 1))
    assert all(pc.parts == len(pieces) and pc.tokens <= 5_000 for pc in pieces)
    assert all(pc.hunks is None for pc in pieces)  # sized on the raw text: parsed when the prompt is built
    assert [h for pc in pieces for h in parse_file(pc.raw).hunks] == list(original)  # whole hunks, in order
    assert sum(pc.lines for pc in pieces) == raw.changed
    (first,) = render_chunk(p.chunks[0], Redactor())
    assert first.text.startswith(f"### File: src/huge.py (modified, part 1 of {len(pieces)})")


def test_a_file_whose_text_does_not_match_its_counts_is_split_by_parsing() -> None:
    """Text after the hunks that the counts skip (a mail signature) makes raw spans unreliable: parse."""
    raw = huge_file(hunks=10, lines=60)
    signed = RawFile(raw.path, None, raw.status, raw.added, raw.removed, raw.text + "-- \n2.39.0\n")

    pieces = [piece for c in plan([signed], 2_000).chunks for piece in c.pieces]

    assert len(pieces) > 1 and all(pc.hunks is not None for pc in pieces)
    assert sum(pc.lines for pc in pieces) == raw.changed == 600


def test_a_hunk_larger_than_a_call_is_cut_between_lines_with_right_numbers() -> None:
    raw = huge_file(hunks=1, lines=3_000)

    p = plan([raw], 4_000)

    pieces = [piece for c in p.chunks for piece in c.pieces]
    assert len(pieces) > 2 and all(c.tokens <= 4_000 for c in p.chunks)
    news = [ln.new for pc in pieces for h in pc.hunks or () for ln in h.lines]
    assert news == [ln.new for h in parse_file(raw).hunks for ln in h.lines]
    second = pieces[1].hunks[0]  # type: ignore[index]
    assert second.new_start == second.lines[0].new


def test_long_lines_continue_on_rows_and_are_budgeted_whole() -> None:
    """Issue 10: a clipped line hid its tail from the model. A long line now continues on `↪` rows, every
    character shown, and the plan counts each row; a line past MAX_SHOWN_LINE_CHARS makes the file not
    reviewed (a content reason) instead of being sent as hundreds of rows."""
    long_line = "var a=" + "x" * 4_990 + ";evil();"
    (raw,) = split_diff(
        f"diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -1 +1,2 @@\n ctx\n+{long_line}\n+ok();\n"
    )
    p = plan([raw], 4_000)

    (chunk,) = p.chunks
    assert p.not_reviewed == ()
    (rendered,) = render_chunk(chunk, Redactor())
    rows = [r for r in rendered.text.splitlines() if r.startswith("R2 ")]
    assert len(rows) == -(-len(long_line) // MAX_LINE_CHARS) and all(r.startswith("R2 ↪ | ") for r in rows[1:])
    assert "".join(r.split(" | ", 1)[1] for r in rows) == long_line
    assert chunk.tokens >= estimate_tokens(rendered.text)

    minified = "var a=" + "x" * (MAX_SHOWN_LINE_CHARS + 1) + ";"
    (huge,) = split_diff(f"diff --git a/app.js b/app.js\n--- a/app.js\n+++ b/app.js\n@@ -1 +1 @@\n-a\n+{minified}\n")
    (skipped,) = select_files([huge]).skipped
    assert (skipped.kind, skipped.content, skipped.reason) == (
        "not-reviewed",
        True,
        f"long lines (over {MAX_SHOWN_LINE_CHARS:,} characters)",
    )


def numbered(lines: list[tuple[str, str]], old: int = 1, new: int = 1) -> Hunk:
    (raw,) = split_diff(
        f"diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n"
        f"@@ -{old},{sum(k != '+' for k, _ in lines)} +{new},{sum(k != '-' for k, _ in lines)} @@\n"
        + "".join(f"{k}{t}\n" for k, t in lines)
    )
    (hunk,) = parse_file(raw).hunks
    return hunk


def test_context_is_trimmed_to_three_lines_around_each_change() -> None:
    """A diff made with -U10 shows the model what -U3 would: the far context is elided, numbers kept."""
    lines = (
        [(" ", f"c{i}") for i in range(10)]
        + [("-", "old"), ("+", "new")]
        + [(" ", f"d{i}") for i in range(12)]
        + [("+", "added")]
        + [(" ", f"e{i}") for i in range(10)]
    )
    text, sent = render_hunks([numbered(lines, 11, 11)], Redactor())

    assert sent == 3
    assert text.splitlines() == [
        "@@ -11,33 +11,34 @@",
        "(… 7 unchanged lines not shown)",
        "R18   | c7",
        "R19   | c8",
        "R20   | c9",
        "L21 - | old",
        "R21 + | new",
        "R22   | d0",
        "R23   | d1",
        "R24   | d2",
        "(… 6 unchanged lines not shown)",
        "R31   | d9",
        "R32   | d10",
        "R33   | d11",
        "R34 + | added",
        "R35   | e0",
        "R36   | e1",
        "R37   | e2",
        "(… 7 unchanged lines not shown)",
    ]


@pytest.mark.parametrize("start", [1, PREFIXED_LINES - 2, 3 * PREFIXED_LINES])
def test_rows_are_numbered_alike_below_and_past_the_prefixes_kept(start: int) -> None:
    """Rows reuse prefixes formatted once per process up to PREFIXED_LINES line numbers, and format the rest."""
    lines = [(" ", "a"), ("-", "b"), ("-", "c"), ("+", "d"), ("+", "e"), ("+", "f"), (" ", "g")]
    text, _ = render_hunks([numbered(lines, start, start)], Redactor(), "m.c")
    n = start
    assert text.splitlines()[1:] == [
        f"R{n}   | a",
        f"L{n + 1} - | b",
        f"L{n + 2} - | c",
        f"R{n + 1} + | d",
        f"R{n + 2} + | e",
        f"R{n + 3} + | f",
        f"R{n + 4}   | g",
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(" +-"), min_size=1, max_size=40))
def test_trimmed_context_keeps_every_change_and_only_near_context(kinds: list[str]) -> None:
    lines = [(kind, f"t{i}") for i, kind in enumerate(kinds)]
    text, _ = render_hunks([numbered(lines, 100, 100)], Redactor())
    rows = text.splitlines()[1:]
    shown = [int(r.split("| t")[1]) for r in rows if "| t" in r]
    changes = [i for i, kind in enumerate(kinds) if kind != " "]
    near = [i for i in range(len(kinds)) if not changes or any(abs(i - c) <= 3 for c in changes)]
    assert shown == near  # every change, the context within 3 lines of one, in order
    elided = sum(int(r.split()[1]) for r in rows if r.startswith("(… "))
    assert elided + len(shown) == len(kinds)


def test_indentation_changes_are_shown_where_indentation_is_syntax() -> None:
    """Issue 10: re-indenting Python moves code in or out of a block; it was folded as "whitespace only"."""
    hunk = numbered([("-", "if x:  return 1"), ("+", "if x:"), ("+", "    return 1")])
    text, sent = render_hunks([hunk], Redactor(), "m.py")
    assert text.splitlines()[1:] == ["L1 - | if x:  return 1", "R1 + | if x:", "R2 + |     return 1"] and sent == 3
    indent = numbered(
        [("-", "if x:"), ("-", "    a()"), ("-", "b()"), ("+", "if x:"), ("+", "    a()"), ("+", "    b()")]
    )
    for path in ("m.py", "ci.yml", "Makefile", "lib.hs", ""):
        text, _ = render_hunks([indent], Redactor(), path)
        assert "L3 - | b()" in text and "R3 + |     b()" in text, path


def test_a_reindentation_elsewhere_shows_the_new_lines_once() -> None:
    """Where indentation is not syntax, a hunk that only re-indents shows its added lines exactly, once; any
    other whitespace change (inside a line, lines joined or split) is shown in full."""
    hunk = numbered([("-", "if (x) {"), ("-", "a();"), ("-", "}"), ("+", "if (x) {"), ("+", "    a();"), ("+", "}")])
    text, sent = render_hunks([hunk], Redactor(), "m.c")
    assert (
        text.splitlines()[1:]
        == ["(re-indented only: 3 lines, shown once as `~` rows)", "R1 ~ | if (x) {", "R2 ~ |     a();", "R3 ~ | }"]
        and sent == 6
    )
    for lines in ([("-", 's = "a b";'), ("+", 's = "a  b";')], [("-", "return x;"), ("+", "return"), ("+", "x;")]):
        text, _ = render_hunks([numbered(lines)], Redactor(), "m.js")
        assert "L1 - | " in text and "~" not in text


def test_pure_renames_are_listed_without_content_and_edited_renames_are_sent() -> None:
    files = split_diff(
        "diff --git a/old/a.py b/new/a.py\nsimilarity index 100%\nrename from old/a.py\nrename to new/a.py\n"
        "diff --git a/old/b.py b/new/b.py\nsimilarity index 90%\nrename from old/b.py\nrename to new/b.py\n"
        "--- a/old/b.py\n+++ b/new/b.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
    )
    selection = select_files(files)

    assert [(s.path, s.reason, s.lines) for s in selection.skipped] == [("new/a.py", "renamed without changes", 0)]
    (renamed,) = selection.reviewable
    p = plan([renamed], 5_000)
    (rendered,) = render_chunk(p.chunks[0], Redactor())
    assert rendered.text.startswith("### File: new/b.py (renamed from old/b.py)")


# --- removed code that matters is not invisible -------------------------------------------------------------

REMOVED_CHECK = """\
diff --git a/app/views.py b/app/views.py
--- a/app/views.py
+++ b/app/views.py
@@ -10,7 +10,5 @@ def delete_user(request, user_id):
     user = request.user
     target = User.objects.get(pk=user_id)
-    if not user.has_perm("users.delete"):
-        raise PermissionDenied("not allowed")
     target.delete()
     audit.log(user, "delete", target)
     return redirect("/users")
"""


def deleted(path: str, lines: int) -> str:
    body = "".join(f"-line {i} of {path}\n" for i in range(lines))
    return (
        f"diff --git a/{path} b/{path}\ndeleted file mode 100644\n--- a/{path}\n+++ /dev/null\n"
        f"@@ -1,{lines} +0,0 @@\n{body}"
    )


def filler(path: str, lines: int) -> str:
    body = "".join(f"+value_{i} = compute({i})\n" for i in range(lines))
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{lines} @@\n{body}"
    )


def test_a_deleted_authorization_check_reaches_the_prompt_before_bulk_changes() -> None:
    """Deletion-only hunks are sent, and a deleted security-sensitive file outranks new code: with room
    for one call, the removed permission check and the deleted auth module are what the model sees."""
    diff = (
        filler("src/feature_a.py", 150)
        + filler("src/feature_b.py", 150)
        + deleted("src/legacy.py", 150)
        + REMOVED_CHECK
        + deleted("src/auth/permissions.py", 20)
    )
    config = ReviewConfig(max_calls=1, max_input_tokens=3_500)

    report = review_diff(
        PR, split_diff(diff), config, provider=None, redactor=Redactor(), nonce="n0nce", model="gpt-4.1"
    )

    (prompt,) = report.prompts
    assert "### File: src/auth/permissions.py (deleted)" in prompt.user
    assert "L1 - | line 0 of src/auth/permissions.py" in prompt.user
    assert 'L12 - |     if not user.has_perm("users.delete"):' in prompt.user
    assert 'L13 - |         raise PermissionDenied("not allowed")' in prompt.user
    left_out = {s.path for s in report.skipped if s.kind == "not-reviewed"}
    assert "src/legacy.py" in left_out and "src/auth/permissions.py" not in left_out
    assert not report.complete


# --- the model table: an unknown model works, with a clear notice --------------------------------------------


@pytest.mark.parametrize(
    ("name", "context", "output"),
    [
        ("gpt-5-mini", 400_000, 128_000),
        ("gpt-5-chat-latest", 128_000, 16_384),
        ("gpt-4.1-nano", 1_047_576, 32_768),
        ("gpt-4o-mini", 128_000, 16_384),
        ("gpt-4", 8_192, 8_192),
        ("o1-mini", 128_000, 65_536),
        ("o3-mini", 200_000, 100_000),
        ("claude-opus-4-1-20250805", 200_000, 32_000),
        ("claude-opus-4-5", 200_000, 64_000),
        ("claude-sonnet-4-6", 200_000, 64_000),
        ("us.anthropic.claude-3-5-sonnet-20241022-v2:0", 200_000, 8_192),
        ("claude-haiku-4-5@20251001", 200_000, 64_000),
        ("openrouter/google/gemini-2.5-pro", 1_048_576, 65_536),
        ("deepseek-chat", 128_000, 8_000),
    ],
)
def test_known_models(name: str, context: int, output: int) -> None:
    limits = model_limits(name)
    assert (limits.context, limits.max_output, limits.known) == (context, output, True)


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def test_an_unknown_model_is_reviewed_within_the_assumed_limit_and_says_so(tmp_path: Path, llm: FakeLLM) -> None:
    text, _ = generate_diff(files=40, changed_lines=12_000, seed=5)
    with FakeGitHub() as github:
        github.add_pull(7, "Big", "", SHA_BASE, SHA_HEAD, text)
        run = run_action(
            tmp_path,
            github_url=github.url,
            llm_url=llm.url,
            inputs={"provider": "openai-compatible", "model": "my-local-llama", "max-calls": "50"},
        )

    assert run.code == 0, run.stdout + run.stderr
    assert (
        "Model 'my-local-llama' is not in the built-in table of model limits; assuming a 32,000-token "
        "context window with 4,096 tokens for the answer." in run.summary.replace("\\", "")
    )  # Markdown escapes
    assert len(llm.requests) > 1
    for request in llm.requests:
        body = request.json
        assert body["model"] == "my-local-llama" and body["max_tokens"] == UNKNOWN_MODEL.max_output
        prompt = sum(estimate_tokens(m["content"]) for m in body["messages"])  # never under the real count
        assert prompt + UNKNOWN_MODEL.max_output <= UNKNOWN_MODEL.context


# --- end to end: a 406 PR read once through the files list; omitted patches read from a checkout, verified ---


def many_files(count: int) -> str:
    return "".join(filler(f"pkg/m{i:03}.py", 3) for i in range(count))


def test_a_406_pr_is_read_once_and_reviewed_whole(tmp_path: Path, llm: FakeLLM) -> None:
    with FakeGitHub() as github:
        github.add_pull(7, "Many files", "", SHA_BASE, SHA_HEAD, many_files(350), diff_too_large=True)
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
        pages = github.find("GET", r"pulls/7/files")

    assert run.code == 0, run.stdout + run.stderr
    assert len(pages) == 4  # 350 files, 100 a page: each page fetched once for the whole run
    assert "| ✅ Reviewed | 350 | 1,050 |" in run.summary
    assert "Diff read from GitHub's files list (the PR is too large for its diff)" in run.summary
    assert run.findings is not None and run.findings["complete"] is True


def test_omitted_patches_are_read_from_a_git_checkout_in_the_workspace(tmp_path: Path, llm: FakeLLM) -> None:
    """A PR too large for GitHub's diff whose files list omits every patch: the checkout gives them, each
    checked against GitHub's blob ids, and the removed check reaches the model."""
    root, base, head = make_repo(tmp_path)
    with FakeGitHub() as github:
        large_pull(github, root, base, head)
        run = run_action(root.parent, github_url=github.url, llm_url=llm.url)

    assert run.code == 0, run.stdout + run.stderr
    assert "6 were read from the git checkout, checked against GitHub's blob ids" in run.stdout
    assert "Diff read from GitHub's files list" in run.summary
    user = json.dumps([r.json for r in llm.requests])
    assert "if not user.is_admin:" in user  # the removed check, read from git


@pytest.mark.parametrize(
    ("inputs", "loaded"),
    [
        ({"provider": "openai"}, {"openai"}),
        ({"provider": "anthropic"}, {"anthropic"}),
        ({"provider": "openai", "dry-run": "true"}, set()),
    ],
)
def test_only_the_chosen_providers_sdk_is_imported(
    tmp_path: Path, llm: FakeLLM, inputs: dict[str, str], loaded: set[str]
) -> None:
    """A cold start pays for one SDK (imported in the background while GitHub is read), a dry run for none."""
    if inputs["provider"] == "anthropic":
        inputs = {**inputs, "base-url": llm.url}
    with FakeGitHub() as github:
        github.add_pull(7, "Small", "", SHA_BASE, SHA_HEAD, filler("src/a.py", 5))
        run = run_action(
            tmp_path, github_url=github.url, llm_url=llm.url, inputs=inputs, extra_env={"PYTHONPROFILEIMPORTTIME": "1"}
        )

    assert run.code == 0, run.stdout + run.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported & {"openai", "anthropic"} == loaded
    assert len(llm.requests) == (1 if loaded else 0)
