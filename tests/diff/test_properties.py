"""Properties of the diff stage: hostile input only ever raises DiffError, and diffs made by difflib
from random texts parse back to exactly those texts and line numbers (checked against unidiff too).
new_side_texts (the secret scan's parse-free read) gives parse_file's new side exactly, or None, and
hunk_views (the renderer's) parse_file's lines exactly, or None."""

from __future__ import annotations

import difflib
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qodo_review.diff import RawFile, decode_diff, new_side_texts, parse_file, raw_files_from_api, split_diff
from qodo_review.diff.regions import hunk_views, line_numbers, plain_regions
from qodo_review.errors import DiffError
from qodo_review.models import FileDiff
from qodo_review.redact import Redactor
from qodo_review.rows import MAX_CONTEXT_LINES, _hidden_context, _render_hunks

from .test_diff import unidiff_hunks

# Lines that look like diff syntax, or that str.splitlines() would break, are the interesting content.
TRICKY = [
    "",
    " ",
    "x",
    "-- x",
    "--- a/f",
    "+++ b/f",
    "++ y",
    "@@ -1 +1 @@",
    "diff --git a/x b/x",
    "\\ No newline",
    "Binary files a and b differ",
    "GIT binary patch",
    "rename from x",
    "a\rb",
    "x\r",
    "\r",
    "\x0b\x0c\x1c",
    "\x85",
    "\u2028\u2029",
    "日本語",
    "\t\tindent",
    '"quoted\\303"',
    "new file mode 100644",
]
LINE = st.sampled_from(TRICKY) | st.text(st.characters(blacklist_characters="\n"), max_size=12)
FRAGMENTS = (
    st.sampled_from(
        [
            "diff --git a/f b/f",
            'diff --git "a/\\303\\244" "b/\\303\\244"',
            "diff --git a/x y b/x y",
            "--- a/f",
            "+++ b/f",
            "--- /dev/null",
            "+++ /dev/null",
            "@@ -1,2 +1,2 @@",
            "@@ -0,0 +1 @@",
            "@@ -1 +0,0 @@",
            "@@ -1,99999999999 +1 @@",
            "@@ -1,3 +1,3 @@ f",
            "+a",
            "-b",
            " c",
            "",
            "\\ No newline at end of file",
            "new file mode 100644",
            "deleted file mode 100644",
            "old mode 100644",
            "new mode 100755",
            "rename from x",
            'rename to "y\\',
            "copy from",
            "similarity index 90%",
            "index 1..2 160000",
            "Binary files a/x and b/x differ",
            "Binary file x has changed",
            "GIT binary patch",
            "literal 5",
            "\r",
            "-- ",
            "Index: f",
            "=" * 67,
        ]
    )
    | LINE
)


def check_no_crash(text: str) -> None:
    """split_diff and parse_file may refuse with DiffError, nothing else; sections stay in order."""
    try:
        raws = split_diff(text)
    except DiffError:
        return
    position = 0
    for raw in raws:
        found = text.find(raw.text, position)
        assert found != -1
        position = found + len(raw.text)
        assert raw.added >= 0 and raw.removed >= 0 and raw.path
        quick = new_side_texts(raw)
        try:
            file = parse_file(raw)
        except DiffError as exc:
            assert raw.path in str(exc)
            assert quick is None  # a malformed file is never passed over unparsed
            assert hunk_views(raw) is None
            continue
        assert (file.added, file.removed) == (raw.added, raw.removed)
        assert quick is None or quick == [ln.text for h in file.hunks for ln in h.lines if ln.kind != "-"]
        check_views(raw, file)


def check_views(raw: RawFile, file: FileDiff) -> None:
    """hunk_views reads the lines parse_file gives (numbers on the side a line has), or gives None; a file
    split_diff marks plain is read the same without counting its hunks again."""
    if raw.plain:
        assert plain_regions(raw) == plain_regions(replace(raw, plain=False)) is not None
    views = hunk_views(raw)
    if views is None:
        return
    assert len(views) == len(file.hunks)
    for view, hunk in zip(views, file.hunks, strict=True):
        assert (view.old_start, view.old_len, view.new_start, view.new_len) == (
            hunk.old_start,
            hunk.old_len,
            hunk.new_start,
            hunk.new_len,
        )
        assert view.section == hunk.section
        assert view.kinds == "".join(ln.kind for ln in hunk.lines)
        assert view.texts == [ln.text for ln in hunk.lines]
        olds, news = line_numbers(view)
        for kind, old, new, ln in zip(view.kinds, olds, news, hunk.lines, strict=True):
            assert (old if kind != "+" else ln.old) == ln.old
            assert (new if kind != "-" else ln.new) == ln.new
    for path in (file.path, "x.py", "x.c"):  # both renderings, with and without re-indented hunks folded
        assert _render_hunks(views, Redactor(), path) == _render_hunks(file.hunks, Redactor(), path)


@given(st.text())
def test_arbitrary_text_only_raises_diff_error(text: str) -> None:
    check_no_crash(text)


@given(st.lists(FRAGMENTS, max_size=40), st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_diff_shaped_garbage_only_raises_diff_error(lines: list[str], newline: str) -> None:
    check_no_crash(newline.join(lines))


@given(st.binary())
def test_arbitrary_bytes_decode_and_only_raise_diff_error(data: bytes) -> None:
    text = decode_diff(data)
    assert isinstance(text, str) and not text.startswith("\ufeff")
    check_no_crash(text)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["filename", "status", "additions", "deletions", "patch", "previous_filename"]),
            st.none() | st.integers() | st.text(max_size=30) | st.booleans(),
        )
    )
)
def test_api_entries_never_crash(entries: list[dict[str, object]]) -> None:
    for raw in raw_files_from_api(entries):  # type: ignore[arg-type]
        assert isinstance(raw.path, str) and raw.path
        try:
            parse_file(raw)
        except DiffError as exc:
            assert raw.path in str(exc)


@given(
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=30),
    st.sampled_from(["modified", "added", "removed", "renamed"]),
)
def test_api_header_reads_back_any_filename(name: str, status: str) -> None:
    entry = {
        "filename": name,
        "previous_filename": "old " + name,
        "status": status,
        "additions": 1,
        "deletions": 1,
        "patch": "@@ -1 +1 @@\n-a\n+b",
    }
    (raw,) = raw_files_from_api([entry])
    (again,) = split_diff(raw.text)
    assert (again.path, again.old_path, again.status) == (raw.path, raw.old_path, raw.status)
    assert raw.path == name


# ---------------------------------------------------------------------------------------------
# Round trip through difflib


def unified(old: list[str], new: list[str], name: str, context: int, eol: tuple[bool, bool]) -> str:
    """difflib's unified diff of two line lists, with git's marker where a side lacks a final newline."""
    a = [line + "\n" for line in old]
    b = [line + "\n" for line in new]
    if a and not eol[0]:
        a[-1] = a[-1][:-1]
    if b and not eol[1]:
        b[-1] = b[-1][:-1]
    out = []
    for line in difflib.unified_diff(a, b, f"a/{name}", f"b/{name}", n=context):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def check_reconstructs(file: FileDiff, old: list[str], new: list[str]) -> None:
    """Each hunk's old/new sides are exactly the texts' lines at the numbers the header gives."""
    for hunk in file.hunks:
        old_side = [ln for ln in hunk.lines if ln.kind in "- "]
        new_side = [ln for ln in hunk.lines if ln.kind in "+ "]
        first_old = hunk.old_start - 1 if hunk.old_len else hunk.old_start
        first_new = hunk.new_start - 1 if hunk.new_len else hunk.new_start
        old_texts = old[first_old : first_old + hunk.old_len]
        new_texts = new[first_new : first_new + hunk.new_len]
        assert [ln.text for ln in old_side] == [t.removesuffix("\r") for t in old_texts]
        assert [ln.text for ln in new_side] == [t.removesuffix("\r") for t in new_texts]
        assert [ln.old for ln in old_side] == list(range(first_old + 1, first_old + 1 + hunk.old_len))
        assert [ln.new for ln in new_side] == list(range(first_new + 1, first_new + 1 + hunk.new_len))
        assert all(ln.new is None for ln in hunk.lines if ln.kind == "-")
        assert all(ln.old is None for ln in hunk.lines if ln.kind == "+")


PAIRS = st.lists(
    st.tuples(
        st.lists(LINE, max_size=25),
        st.lists(LINE, max_size=25),
        st.integers(0, 3),
        st.tuples(st.booleans(), st.booleans()),
    ),
    min_size=1,
    max_size=4,
)


@given(PAIRS, st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_difflib_diffs_round_trip(pairs: list[tuple[list[str], list[str], int, tuple[bool, bool]]], git: bool) -> None:
    text, expected = "", []
    for i, (old, new, context, eol) in enumerate(pairs):
        body = unified(old, new, f"f{i}", context, eol)
        if not body:
            continue  # identical texts: difflib prints nothing
        text += (f"diff --git a/f{i} b/f{i}\nindex 1..2 100644\n" if git else "") + body
        expected.append((f"f{i}", old, new, body))
    if not expected:
        return
    raws = split_diff(text)
    assert [raw.path for raw in raws] == [path for path, *_ in expected]
    for raw, (_, old, new, body) in zip(raws, expected, strict=True):
        lines = body.split("\n")
        assert raw.added == sum(1 for ln in lines[2:] if ln.startswith("+"))
        assert raw.removed == sum(1 for ln in lines[2:] if ln.startswith("-"))
        file = parse_file(raw)
        assert (file.added, file.removed) == (raw.added, raw.removed)
        check_reconstructs(file, old, new)
        assert file.hunks == unidiff_hunks(raw.text)
        quick = new_side_texts(raw)
        assert quick is None or quick == [ln.text for h in file.hunks for ln in h.lines if ln.kind != "-"]
        check_views(raw, file)
        if "\r" not in raw.text and "\n\n" not in raw.text and raw.text.endswith("\n"):
            assert quick is not None  # a plain diff takes the quick path
            assert hunk_views(raw) is not None
            # split_diff marks it plain (not a plain diff: its last hunk runs to the next file's header, walked)
            assert raw.plain or not git or "\r" in text


@given(st.text(st.sampled_from("+- "), max_size=40))
def test_hidden_context_is_every_long_context_run_but_its_shown_edges(kinds: str) -> None:
    """_hidden_context skips its regex on a hunk with no run of context longer than what is shown: the runs
    it returns are those a walk over every line finds."""
    hidden, start = [], 0
    while start < len(kinds):
        end = start
        while end < len(kinds) and kinds[end] == kinds[start]:
            end += 1
        if kinds[start] == " " and (start > 0 or end < len(kinds)):
            first = start + MAX_CONTEXT_LINES if start > 0 else start
            last = end - MAX_CONTEXT_LINES if end < len(kinds) else end
            if last > first:
                hidden.append((first, last))
        start = end
    assert _hidden_context(kinds) == hidden
