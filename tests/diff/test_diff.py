"""The diff stage: split_diff (headers, counts), parse_file (hunks, line numbers), API entries, anchors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import unidiff

from qodo_review.diff import (
    RawFile,
    decode_diff,
    hunk_for,
    new_line_sets,
    parse_diff,
    parse_file,
    raw_files_from_api,
    split_diff,
)
from qodo_review.errors import DiffError
from qodo_review.models import FileDiff, FileStatus, Hunk, Line

A, M, D, R, C, B = (
    FileStatus.ADDED,
    FileStatus.MODIFIED,
    FileStatus.DELETED,
    FileStatus.RENAMED,
    FileStatus.COPIED,
    FileStatus.BINARY,
)


def d(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def unidiff_hunks(text: str) -> tuple[Hunk, ...]:
    """The cross-check: the hunks of one RawFile.text as unidiff parses them, in our types.

    unidiff is fed the hunk part only (behind a neutral ---/+++ pair) and lines split on "\\n" only.
    """
    start = 0 if text.startswith("@@ ") else text.find("\n@@ ") + 1
    if start == 0 and not text.startswith("@@ "):
        return ()
    lines = text[start:].split("\n")
    last = lines.pop()
    patch = unidiff.PatchSet(["--- a\n", "+++ b\n", *(ln + "\n" for ln in lines), *([last] if last else [])])
    assert len(patch) == 1
    return tuple(
        Hunk(
            h.source_start,
            h.source_length,
            h.target_start,
            h.target_length,
            h.section_header.removesuffix("\r"),
            tuple(
                Line(ln.line_type, ln.source_line_no, ln.target_line_no, ln.value.removesuffix("\n").removesuffix("\r"))
                for ln in h
                if ln.line_type in ("+", "-", " ")
            ),
        )
        for h in patch[0]
    )


def facts(raw: RawFile) -> tuple[Any, ...]:
    flags = (("b", raw.binary), ("m", raw.mode_only), ("s", raw.submodule))
    return raw.path, raw.old_path, raw.status, raw.added, raw.removed, "".join(f for f, on in flags if on)


# ---------------------------------------------------------------------------------------------
# split_diff: one case per header feature

SPLIT_CASES: list[tuple[str, str, list[tuple[Any, ...]]]] = [
    (
        "modified",
        d(
            "diff --git a/src/app.py b/src/app.py",
            "index 83db48f..bf269f4 100644",
            "--- a/src/app.py",
            "+++ b/src/app.py",
            "@@ -1,3 +1,4 @@ def main():",
            " a",
            "-b",
            "+B",
            "+c",
            " d",
        ),
        [("src/app.py", None, M, 2, 1, "")],
    ),
    (
        "added",
        d(
            "diff --git a/new.txt b/new.txt",
            "new file mode 100644",
            "index 0000000..e69de29",
            "--- /dev/null",
            "+++ b/new.txt",
            "@@ -0,0 +1,2 @@",
            "+x",
            "+y",
        ),
        [("new.txt", None, A, 2, 0, "")],
    ),
    (
        "deleted",
        d(
            "diff --git a/old.txt b/old.txt",
            "deleted file mode 100644",
            "index e69de29..0000000",
            "--- a/old.txt",
            "+++ /dev/null",
            "@@ -1,3 +0,0 @@",
            "-x",
            "-y",
            "-z",
        ),
        [("old.txt", None, D, 0, 3, "")],
    ),
    (
        "pure rename",
        d("diff --git a/a/x.go b/b/x.go", "similarity index 100%", "rename from a/x.go", "rename to b/x.go"),
        [("b/x.go", "a/x.go", R, 0, 0, "")],
    ),
    (
        "rename with changes",
        d(
            "diff --git a/old name.py b/new name.py",
            "similarity index 90%",
            "rename from old name.py",
            "rename to new name.py",
            "index 1..2 100644",
            "--- a/old name.py\t",
            "+++ b/new name.py\t",
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [("new name.py", "old name.py", R, 1, 1, "")],
    ),
    (
        "copy",
        d(
            "diff --git a/x.c b/y.c",
            "similarity index 66%",
            "copy from x.c",
            "copy to y.c",
            "index 1..2 100644",
            "--- a/x.c",
            "+++ b/y.c",
            "@@ -1,2 +1,2 @@",
            " k",
            "-a",
            "+b",
        ),
        [("y.c", "x.c", C, 1, 1, "")],
    ),
    (
        "quoted octal path (core.quotepath)",
        d(
            'diff --git "a/\\303\\244 \\346\\227\\245.txt" "b/\\303\\244 \\346\\227\\245.txt"',
            "new file mode 100644",
            "index 0000000..1",
            "--- /dev/null",
            '+++ "b/\\303\\244 \\346\\227\\245.txt"',
            "@@ -0,0 +1 @@",
            "+hi",
        ),
        [("ä 日.txt", None, A, 1, 0, "")],
    ),
    (
        "quoted C escapes: tab, quote, backslash, newline",
        d(
            'diff --git "a/t\\tq\\"b\\\\n\\n.txt" "b/t\\tq\\"b\\\\n\\n.txt"',
            "index 1..2 100644",
            '--- "a/t\\tq\\"b\\\\n\\n.txt"',
            '+++ "b/t\\tq\\"b\\\\n\\n.txt"',
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [('t\tq"b\\n\n.txt', None, M, 1, 1, "")],
    ),
    (
        "quoted only on one side of a rename",
        d(
            'diff --git a/plain.txt "b/\\303\\274.txt"',
            "similarity index 100%",
            "rename from plain.txt",
            'rename to "\\303\\274.txt"',
        ),
        [("ü.txt", "plain.txt", R, 0, 0, "")],
    ),
    (
        "unquoted unicode and spaces (core.quotepath=false)",
        d(
            "diff --git a/日本 語/a b.md b/日本 語/a b.md",
            "index 1..2 100644",
            "--- a/日本 語/a b.md\t",
            "+++ b/日本 語/a b.md\t",
            "@@ -1 +1,2 @@",
            " x",
            "+y",
        ),
        [("日本 語/a b.md", None, M, 1, 0, "")],
    ),
    (
        "mode only",
        d("diff --git a/run.sh b/run.sh", "old mode 100644", "new mode 100755"),
        [("run.sh", None, M, 0, 0, "m")],
    ),
    (
        "mode change with content",
        d(
            "diff --git a/run.sh b/run.sh",
            "old mode 100644",
            "new mode 100755",
            "index 1..2",
            "--- a/run.sh",
            "+++ b/run.sh",
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [("run.sh", None, M, 1, 1, "")],
    ),
    (
        "submodule updated",
        d(
            "diff --git a/vendor/lib b/vendor/lib",
            "index 0f1e2d3..4c5b6a7 160000",
            "--- a/vendor/lib",
            "+++ b/vendor/lib",
            "@@ -1 +1 @@",
            "-Subproject commit 0f1e2d3",
            "+Subproject commit 4c5b6a7",
        ),
        [("vendor/lib", None, M, 1, 1, "s")],
    ),
    (
        "submodule added",
        d(
            "diff --git a/ext b/ext",
            "new file mode 160000",
            "index 0000000..4c5b6a7",
            "--- /dev/null",
            "+++ b/ext",
            "@@ -0,0 +1 @@",
            "+Subproject commit 4c5b6a7",
        ),
        [("ext", None, A, 1, 0, "s")],
    ),
    (
        "binary modified, added, deleted",
        d(
            "diff --git a/logo.png b/logo.png",
            "index 1..2 100644",
            "Binary files a/logo.png and b/logo.png differ",
            "diff --git a/new.png b/new.png",
            "new file mode 100644",
            "index 0000000..2",
            "Binary files /dev/null and b/new.png differ",
            "diff --git a/gone.png b/gone.png",
            "deleted file mode 100644",
            "index 1..0000000",
            "Binary files a/gone.png and /dev/null differ",
        ),
        [("logo.png", None, B, 0, 0, "b"), ("new.png", None, A, 0, 0, "b"), ("gone.png", None, D, 0, 0, "b")],
    ),
    (
        "GIT binary patch, payload skipped",
        d(
            "diff --git a/1x1.png b/1x1.png",
            "new file mode 100644",
            "index 0000000..1914264",
            "GIT binary patch",
            "literal 95",
            "zcmeAS@N?(olHy`uVBq!ia0vp^j3CU&3?x-=hn)ga%mF?ju0VQumF+E",
            "",
            "literal 0",
            "HcmV?d00001",
            "",
            "diff --git a/a.txt b/a.txt",
            "index 1..2 100644",
            "--- a/a.txt",
            "+++ b/a.txt",
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [("1x1.png", None, A, 0, 0, "b"), ("a.txt", None, M, 1, 1, "")],
    ),
    (
        "empty new and deleted files (header only)",
        d(
            "diff --git a/empty space.txt b/empty space.txt",
            "new file mode 100644",
            "index 0000000..e69de29",
            "diff --git a/gone b/gone",
            "deleted file mode 100644",
            "index e69de29..0000000",
        ),
        [("empty space.txt", None, A, 0, 0, ""), ("gone", None, D, 0, 0, "")],
    ),
    (
        "no newline at end of file, both sides",
        d(
            "diff --git a/f b/f",
            "index 1..2 100644",
            "--- a/f",
            "+++ b/f",
            "@@ -1,2 +1,2 @@",
            " x",
            "-a",
            "\\ No newline at end of file",
            "+b",
            "\\ No newline at end of file",
        ),
        [("f", None, M, 1, 1, "")],
    ),
    (
        "CRLF line endings everywhere",
        d(
            "diff --git a/w.txt b/w.txt\r",
            "index 1..2 100644\r",
            "--- a/w.txt\r",
            "+++ b/w.txt\r",
            "@@ -1,2 +1,2 @@\r",
            " a\r",
            "-b\r",
            "+c\r",
            "diff --git a/v.txt b/v.txt\r",
            "deleted file mode 100644\r",
            "--- a/v.txt\r",
            "+++ /dev/null\r",
            "@@ -1 +0,0 @@\r",
            "-z\r",
        ),
        [("w.txt", None, M, 1, 1, ""), ("v.txt", None, D, 0, 1, "")],
    ),
    (
        "line separators other than \\n are content",
        d(
            "diff --git a/s b/s",
            "index 1..2 100644",
            "--- a/s",
            "+++ b/s",
            "@@ -1,2 +1,2 @@",
            " a\rb\x0bc\x0cd\x1ce\x1df\x1eg\x85h\u2028i\u2029j",
            "-x\ry",
            "+x\r\ny\r",
        ),
        [("s", None, M, 1, 1, "")],
    ),
    (
        "a diff inside a diff's content is content",
        d(
            "diff --git a/t.diff b/t.diff",
            "new file mode 100644",
            "index 0000000..1",
            "--- /dev/null",
            "+++ b/t.diff",
            "@@ -0,0 +1,6 @@",
            "+diff --git a/x b/x",
            "+--- a/x",
            "++++ b/x",
            "+@@ -1 +1 @@",
            "+-old",
            "++new",
        ),
        [("t.diff", None, A, 6, 0, "")],
    ),
    (
        "--no-prefix",
        d(
            "diff --git a/x a/x",
            "index 1..2 100644",
            "--- a/x",
            "+++ a/x",
            "@@ -1 +1 @@",
            "-p",
            "+q",
            "diff --git gone gone",
            "deleted file mode 100644",
            "--- gone",
            "+++ /dev/null",
            "@@ -1 +0,0 @@",
            "-z",
        ),
        [("a/x", None, M, 1, 1, ""), ("gone", None, D, 0, 1, "")],
    ),
    (
        "mnemonic prefixes",
        d(
            "diff --git i/lib/x.py w/lib/x.py",
            "index 1..2 100644",
            "--- i/lib/x.py",
            "+++ w/lib/x.py",
            "@@ -1 +1 @@",
            "-p",
            "+q",
        ),
        [("lib/x.py", None, M, 1, 1, "")],
    ),
    (
        "hunk header without counts, blank context line",
        d(
            "diff --git a/f b/f",
            "index 1..2 100644",
            "--- a/f",
            "+++ b/f",
            "@@ -3 +3 @@",
            "-a",
            "+b",
            "@@ -10,3 +10,3 @@",
            " k",
            "",
            "-x",
            "+y",
        ),
        [("f", None, M, 2, 2, "")],
    ),
    (
        "format-patch mail around the diff",
        d(
            "From 62ea0eaf Mon Sep 17 00:00:00 2001",
            "From: A <a@example.com>",
            "Subject: [PATCH] fix",
            "",
            "body",
            "---",
            " f | 2 +-",
            " 1 file changed",
            "",
            "diff --git a/f b/f",
            "index 1..2 100644",
            "--- a/f",
            "+++ b/f",
            "@@ -1,2 +1,2 @@",
            "-a",
            "+b",
            " c",
            "-- ",
            "2.38.1",
            "",
        ),
        [("f", None, M, 1, 1, "")],
    ),
    (
        "plain diff -u with timestamps",
        d(
            "--- lib/old.c\t2024-11-18 09:48:11.000000000 +0000",
            "+++ lib/new.c\t2024-11-18 09:48:12.000000000 +0000",
            "@@ -1,3 +1,3 @@",
            " a",
            "-b",
            "+c",
            " d",
        ),
        [("lib/new.c", None, M, 1, 1, "")],
    ),
    (
        "plain: a removed '-- x' line is not a header",
        d(
            "--- f.sql",
            "+++ f.sql",
            "@@ -1,3 +1 @@",
            " select 1;",
            "--- comment",
            "-+++ not a header",
            "--- g.sql",
            "+++ g.sql",
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [("f.sql", None, M, 0, 2, ""), ("g.sql", None, M, 1, 1, "")],
    ),
    (
        "plain svn with Index lines; added and deleted by hunk",
        d(
            "Index: m",
            "===================================================================",
            "--- m\t(revision 1)",
            "+++ m\t(working copy)",
            "@@ -1 +1 @@",
            "-a",
            "+b",
            "Index: gone",
            "===================================================================",
            "--- gone\t(revision 1)",
            "+++ gone\t(working copy)",
            "@@ -1,2 +0,0 @@",
            "-x",
            "-y",
            "Index: new",
            "===================================================================",
            "--- new\t(revision 0)",
            "+++ new\t(revision 0)",
            "@@ -0,0 +1 @@",
            "+n",
        ),
        [("m", None, M, 1, 1, ""), ("gone", None, D, 0, 2, ""), ("new", None, A, 1, 0, "")],
    ),
    (
        "plain hg with a/ b/ prefixes and /dev/null",
        d(
            "diff -r 44299fd3d1a8 n",
            "--- /dev/null\tThu Jan 01 00:00:00 1970 +0000",
            "+++ b/n\tSun Oct 13 20:51:40 2013 -0300",
            "@@ -0,0 +1 @@",
            "+x",
            "diff -r 44299fd3d1a8 m",
            "--- a/m\tSun Oct 13",
            "+++ b/m\tSun Oct 13",
            "@@ -1 +1 @@",
            "-a",
            "+b",
        ),
        [("n", None, A, 1, 0, ""), ("m", None, M, 1, 1, "")],
    ),
    (
        "plain binary lines (diff -r, hg)",
        d("Binary files old/a.png and new/a.png differ", "Binary file b.png has changed"),
        [("new/a.png", None, B, 0, 0, "b"), ("b.png", None, B, 0, 0, "b")],
    ),
    (
        "git then plain in one input",
        d(
            "diff --git a/f b/f",
            "index 1..2 100644",
            "--- a/f",
            "+++ b/f",
            "@@ -1 +1 @@",
            "-a",
            "+b",
            "--- g",
            "+++ g",
            "@@ -1 +1,2 @@",
            " a",
            "+b",
        ),
        [("f", None, M, 1, 1, ""), ("g", None, M, 1, 0, "")],
    ),
    ("old git rename old/new", d("diff --git a/p b/q", "rename old p", "rename new q"), [("q", "p", R, 0, 0, "")]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SPLIT_CASES], ids=[c[0] for c in SPLIT_CASES])
def test_split_diff(text: str, expected: list[tuple[Any, ...]]) -> None:
    raws = split_diff(text)
    assert [facts(raw) for raw in raws] == expected
    for raw in raws:  # the fast counts agree with the full parse
        parsed = parse_file(raw)
        assert (parsed.added, parsed.removed) == (raw.added, raw.removed)


@pytest.mark.parametrize("text", ["", "\n", "  \n\t\n"])
def test_empty_input_has_no_files(text: str) -> None:
    assert split_diff(text) == []
    assert parse_diff(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "hello world\n",
        "@@ -1 +1 @@\n-a\n+b\n",  # a bare hunk (the API's `patch`) has no file header
        '{"json": true}',
        "+++ b/x\n--- a/x\n",
    ],
)
def test_input_without_a_file_header_is_rejected(text: str) -> None:
    with pytest.raises(DiffError) as caught:
        split_diff(text)
    message = str(caught.value)
    assert "not a unified diff" in message
    assert "git diff origin/main...HEAD > pr.diff" in message
    assert repr(text.strip().split("\n")[0][:80]) in message


def test_section_text_is_the_file_header_and_hunks_without_trailing_garbage() -> None:
    (raw,) = split_diff(
        d(
            "Subject: x",
            "",
            "diff --git a/f b/f",
            "index 1..2 100644",
            "--- a/f",
            "+++ b/f",
            "@@ -1 +1 @@",
            "-a",
            "+b",
            "\\ No newline at end of file",
            "-- ",
            "2.38.1",
            "",
        )
    )
    assert raw.text == d(
        "diff --git a/f b/f",
        "index 1..2 100644",
        "--- a/f",
        "+++ b/f",
        "@@ -1 +1 @@",
        "-a",
        "+b",
        "\\ No newline at end of file",
    )
    assert raw.size == len(raw.text)


def test_git_binary_patch_payload_is_not_kept() -> None:
    (raw,) = split_diff(
        d(
            "diff --git a/x.bin b/x.bin",
            "index 1..2 100644",
            "GIT binary patch",
            "delta 12",
            "zcmV?d00001",
            "",
            "delta 9",
            "HcmV?d00001",
            "",
        )
    )
    assert raw.text == d("diff --git a/x.bin b/x.bin", "index 1..2 100644", "GIT binary patch")
    assert (raw.status, raw.binary, parse_file(raw).hunks) == (B, True, ())


def test_sections_are_split_at_column_zero_only() -> None:
    inner = d("diff --git a/x b/x", "--- a/x", "+++ b/x", "@@ -1 +1 @@", "-a", "+b")
    outer = "diff --git a/doc.md b/doc.md\n--- a/doc.md\n+++ b/doc.md\n@@ -0,0 +1,6 @@\n" + "".join(
        "+" + line + "\n" for line in inner.splitlines()
    )
    (raw,) = split_diff(outer)
    assert raw.text == outer
    assert [ln.text for ln in parse_file(raw).hunks[0].lines] == inner.splitlines()


# ---------------------------------------------------------------------------------------------
# parse_file: hunks and numbered lines


def test_parse_file_numbers_lines_on_both_sides() -> None:
    (file,) = parse_diff(
        d(
            "diff --git a/f.py b/f.py",
            "index 1..2 100644",
            "--- a/f.py",
            "+++ b/f.py",
            "@@ -10,4 +10,5 @@ class A:",
            " ctx",
            "-old",
            "+new",
            "+more",
            " tail",
            " end",
            "@@ -30,2 +31,0 @@",
            "-x",
            "-y",
        )
    )
    assert file == FileDiff(
        path="f.py",
        old_path=None,
        status=M,
        added=2,
        removed=3,
        hunks=(
            Hunk(
                10,
                4,
                10,
                5,
                "class A:",
                (
                    Line(" ", 10, 10, "ctx"),
                    Line("-", 11, None, "old"),
                    Line("+", None, 11, "new"),
                    Line("+", None, 12, "more"),
                    Line(" ", 12, 13, "tail"),
                    Line(" ", 13, 14, "end"),
                ),
            ),
            Hunk(30, 2, 31, 0, "", (Line("-", 30, None, "x"), Line("-", 31, None, "y"))),
        ),
    )


@pytest.mark.parametrize(
    ("body", "lines"),
    [
        pytest.param(
            ["@@ -1,2 +1,2 @@", " a", "-b", "\\ No newline at end of file", "+c", "\\ No newline at end of file"],
            [(" ", 1, 1, "a"), ("-", 2, None, "b"), ("+", None, 2, "c")],
            id="no-newline markers",
        ),
        pytest.param(
            ["@@ -1,2 +1,2 @@", " a\r", "-b\r", "+b"],
            [(" ", 1, 1, "a"), ("-", 2, None, "b"), ("+", None, 2, "b")],
            id="CRLF stripped",
        ),
        pytest.param(
            ["@@ -0,0 +1,2 @@", '+ "x" +\r\t\t"y"', "+\x0c\u2028\x85"],
            [("+", None, 1, ' "x" +\r\t\t"y"'), ("+", None, 2, "\x0c\u2028\x85")],
            id="lone CR kept",
        ),
        pytest.param(
            ["@@ -1,3 +1,3 @@", " a", "", "\r", "@@ -9 +9 @@", "-x", "+y"],
            [(" ", 1, 1, "a"), (" ", 2, 2, ""), (" ", 3, 3, ""), ("-", 9, None, "x"), ("+", None, 9, "y")],
            id="empty and CR-only context lines",
        ),
        pytest.param(
            ["@@ -5,0 +6,1 @@ ctx", "+--- a/not-a-header"],
            [("+", None, 6, "--- a/not-a-header")],
            id="content that looks like a header",
        ),
    ],
)
def test_parse_file_lines(body: list[str], lines: list[tuple[Any, ...]]) -> None:
    (file,) = parse_diff(d("diff --git a/f b/f", "index 1..2 100644", "--- a/f", "+++ b/f", *body))
    assert [(ln.kind, ln.old, ln.new, ln.text) for h in file.hunks for ln in h.lines] == lines
    assert file.hunks == unidiff_hunks(split_diff(d("--- a/f", "+++ b/f", *body))[0].text)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (["@@ -1,3 +1,3 @@", " a", "-b"], "ends before all the lines its header announces (line 5 "),
        (["@@ -1,2 +1,2 @@", " a", "@@ -5 +5 @@", "-x", "+y"], "does not match its header at '@@ -5 +5 @@' (line 7"),
        (["@@ -1 +1 @@", "-a", "-b"], "ends before"),
    ],
)
def test_malformed_hunk_names_the_file(body: list[str], problem: str) -> None:
    (raw,) = split_diff(
        d("diff --git a/src/x.py b/src/x.py", "index 1..2 100644", "--- a/src/x.py", "+++ b/src/x.py", *body)
    )
    with pytest.raises(DiffError, match=r"src/x\.py") as caught:
        parse_file(raw)
    assert problem in str(caught.value)


def test_binary_and_missing_patch_have_no_hunks_and_keep_counts() -> None:
    raw = RawFile("big.sql", None, M, 5000, 10, "", patch_missing=True)
    assert parse_file(raw) == FileDiff("big.sql", None, M, (), 5000, 10, patch_missing=True)
    assert parse_file(RawFile("a.png", None, B, 0, 0, "", binary=True)).hunks == ()


# ---------------------------------------------------------------------------------------------
# decode_diff


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfdiff --git a/x b/x\n", "diff --git a/x b/x\n"),
        (b"+caf\xe9 \xff\r\n", "+caf\ufffd \ufffd\r\n"),
        ("+ä\n".encode(), "+ä\n"),
        (b"", ""),
    ],
)
def test_decode_diff(data: bytes, text: str) -> None:
    assert decode_diff(data) == text


# ---------------------------------------------------------------------------------------------
# raw_files_from_api: GitHub's GET /pulls/{n}/files entries

PATCH = "@@ -1,2 +1,2 @@ def f():\n a\n-b\n+c"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            {"filename": "m.py", "status": "modified", "additions": 1, "deletions": 1, "changes": 2, "patch": PATCH},
            ("m.py", None, M, 1, 1, False, False),
        ),
        (
            {"filename": "n.py", "status": "added", "additions": 1, "deletions": 0, "patch": "@@ -0,0 +1 @@\n+x"},
            ("n.py", None, A, 1, 0, False, False),
        ),
        (
            {"filename": "r.py", "status": "removed", "additions": 0, "deletions": 1, "patch": "@@ -1 +0,0 @@\n-x"},
            ("r.py", None, D, 0, 1, False, False),
        ),
        (
            {
                "filename": "new.py",
                "previous_filename": "old.py",
                "status": "renamed",
                "additions": 1,
                "deletions": 1,
                "patch": PATCH,
            },
            ("new.py", "old.py", R, 1, 1, False, False),
        ),
        (
            {
                "filename": "new.py",
                "previous_filename": "old.py",
                "status": "renamed",
                "additions": 0,
                "deletions": 0,
                "changes": 0,
            },
            ("new.py", "old.py", R, 0, 0, False, False),
        ),
        (
            {
                "filename": "c.py",
                "previous_filename": "o.py",
                "status": "copied",
                "additions": 1,
                "deletions": 1,
                "patch": PATCH,
            },
            ("c.py", "o.py", C, 1, 1, False, False),
        ),
        (
            {"filename": "logo.png", "status": "modified", "additions": 0, "deletions": 0, "changes": 0},
            ("logo.png", None, B, 0, 0, True, False),
        ),
        (
            {"filename": "logo.png", "status": "added", "additions": 0, "deletions": 0},
            ("logo.png", None, A, 0, 0, True, False),
        ),
        (
            {"filename": "dump.sql", "status": "modified", "additions": 30000, "deletions": 2, "changes": 30002},
            ("dump.sql", None, M, 30000, 2, False, True),
        ),
        (
            {"filename": "x.sh", "status": "changed", "additions": 0, "deletions": 0},
            ("x.sh", None, M, 0, 0, False, False),
        ),
    ],
)
def test_raw_files_from_api(entry: dict[str, Any], expected: tuple[Any, ...]) -> None:
    (raw,) = raw_files_from_api([entry])
    got = (raw.path, raw.old_path, raw.status, raw.added, raw.removed, raw.binary, raw.patch_missing)
    assert got == expected
    if "patch" in entry:
        assert raw.text.endswith(entry["patch"] + "\n")
        file = parse_file(raw)
        assert (file.added, file.removed) == (raw.added, raw.removed)
        assert [facts(r) for r in split_diff(raw.text)] == [facts(raw)]  # the synthetic header reads back
    else:
        assert raw.text == ""


def test_api_mode_change_is_mode_only() -> None:
    (raw,) = raw_files_from_api([{"filename": "x.sh", "status": "changed", "additions": 0, "deletions": 0}])
    assert raw.mode_only


@pytest.mark.parametrize(
    "name",
    ["a b/c d.txt", 'q"uote.txt', "back\\slash", "tab\there", "new\nline", "日本語.md", "-- x", "@@ y", "diff --git z"],
)
def test_api_header_round_trips_odd_names(name: str) -> None:
    (raw,) = raw_files_from_api(
        [{"filename": name, "status": "modified", "additions": 1, "deletions": 0, "patch": "@@ -1 +1,2 @@\n a\n+b"}]
    )
    (again,) = split_diff(raw.text)
    assert facts(again) == facts(raw) == (name, None, M, 1, 0, "")
    assert parse_file(raw).hunks[0].lines[1] == Line("+", None, 2, "b")


def test_api_entries_are_validated_defensively() -> None:
    hostile: list[Any] = [
        None,
        3,
        "x",
        [],
        {},
        {"filename": None},
        {"filename": 7},
        {"filename": ""},
        {"filename": "ok1", "status": ["modified"], "additions": "12", "deletions": -3, "patch": 123},
        {
            "filename": "ok2",
            "status": "renamed",
            "previous_filename": {"x": 1},
            "additions": True,
            "deletions": 2.5,
            "patch": None,
        },
        {"filename": "ok3", "status": "weird", "additions": 2, "deletions": 0, "patch": "not a hunk"},
        {"filename": "ok4", "status": "modified", "additions": 1, "deletions": 0, "patch": "@@ -1 +1 @@\n+x"},
    ]
    raws = raw_files_from_api(hostile)
    assert [(r.path, r.status, r.added, r.removed, r.binary, r.patch_missing) for r in raws] == [
        ("ok1", B, 0, 0, True, False),
        ("ok2", M, 0, 0, False, False),
        ("ok3", M, 0, 0, False, False),
        ("ok4", M, 1, 0, False, False),
    ]
    assert parse_file(raws[2]).hunks == ()
    with pytest.raises(DiffError, match="ok4"):  # a truncated patch fails for that file only
        parse_file(raws[3])
    assert raw_files_from_api({"filename": "x"}) == []  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Anchors


def test_new_line_sets_and_hunk_for() -> None:
    (file,) = parse_diff(
        d(
            "diff --git a/f b/f",
            "--- a/f",
            "+++ b/f",
            "@@ -10,3 +10,3 @@",
            " a",
            "-b",
            "+c",
            " d",
            "@@ -40,1 +40,2 @@",
            " x",
            "+y",
        )
    )
    right, left = new_line_sets(file)
    assert right == {10, 11, 12, 40, 41}
    assert left == {10, 11, 12, 40}
    assert hunk_for(file, 11) is file.hunks[0]
    assert hunk_for(file, 41, "right") is file.hunks[1]
    assert hunk_for(file, 41, "LEFT") is None
    assert hunk_for(file, 40, "LEFT") is file.hunks[1]
    assert hunk_for(file, 13) is None
    with pytest.raises(ValueError, match="side"):
        hunk_for(file, 1, "BOTH")


def test_pure_deletion_hunk_has_no_right_lines() -> None:
    (file,) = parse_diff(d("--- a/f", "+++ b/f", "@@ -3,2 +2,0 @@", "-x", "-y"))
    assert new_line_sets(file) == (frozenset(), frozenset({3, 4}))
    assert hunk_for(file, 2) is None


# ---------------------------------------------------------------------------------------------
# Real, externally-authored diffs (../shared/realdata/diffs; skipped when absent)

_GIT_STATUS = {"A": A, "D": D, "M": M, "R": R, "C": C}


def _real_cases(realdata: Path) -> list[dict[str, Any]]:
    manifest = json.loads((realdata / "diffs/real-commits/MANIFEST.json").read_text())
    cases: list[dict[str, Any]] = manifest["cases"]
    assert len(cases) == 16
    return cases


def test_real_commits_match_git_numstat_and_raw(realdata: Path) -> None:
    for case in _real_cases(realdata):
        oracle = case["git_oracle"]
        raws = split_diff(decode_diff((realdata / "diffs/real-commits" / case["file"]).read_bytes()))
        by_path = {raw.path: raw for raw in raws}
        assert len(raws) == len(by_path) == len(oracle["files"]), case["file"]
        numstat = {entry["path"]: entry for entry in oracle["numstat"]}
        for entry in oracle["files"]:
            path = entry["old_path"] if entry["status"] == "D" else entry["new_path"]
            raw = by_path[path]
            status = _GIT_STATUS[entry["status"][0]]
            numbers = numstat[path]
            status = B if status is M and numbers["binary"] else status
            old = entry["old_path"] if status in (R, C) else None
            counts = (0, 0) if numbers["binary"] else (numbers["added"], numbers["deleted"])
            mode_only = status is M and counts == (0, 0) and entry["old_mode"] != entry["new_mode"]
            expected = (
                path,
                old,
                status,
                *counts,
                numbers["binary"],
                mode_only,
                "160000" in (entry["old_mode"], entry["new_mode"]),
            )
            assert (*facts(raw)[:5], raw.binary, raw.mode_only, raw.submodule) == expected, case["file"]
        assert sum(r.added for r in raws) == oracle["total_added"]
        assert sum(r.removed for r in raws) == oracle["total_deleted"]


def _all_real_diffs(realdata: Path) -> list[Path]:
    root = realdata / "diffs"
    return sorted(
        [
            *root.glob("real-commits/*.diff"),
            *root.glob("unidiff-samples/*.diff"),
            *root.glob("reviewdog-testdata/*.diff"),
        ]
    )


MALFORMED = {"sample1.diff", "sample2.diff", "sample6.diff", "sample7.diff"}  # the oracle's "expect reject"


def test_every_real_diff_parses_and_agrees_with_split_and_unidiff(realdata: Path) -> None:
    checked = 0
    for path in _all_real_diffs(realdata):
        for raw in split_diff(decode_diff(path.read_bytes())):
            try:
                file = parse_file(raw)
            except DiffError:
                assert path.name in MALFORMED
                with pytest.raises(unidiff.UnidiffParseError):
                    unidiff_hunks(raw.text)
                continue
            assert (file.added, file.removed) == (raw.added, raw.removed), (path.name, raw.path)
            if not raw.binary:
                assert file.hunks == unidiff_hunks(raw.text), (path.name, raw.path)
            checked += 1
    assert checked > 400


def test_unidiff_samples_match_the_oracle(realdata: Path) -> None:
    root = realdata / "diffs/unidiff-samples"
    oracle = json.loads((root / "EXPECTED.oracle.json").read_text())["cases"]
    for name, case in oracle.items():
        text = decode_diff((root / name).read_bytes())
        if name in MALFORMED:
            assert split_diff(text)  # the split is lenient; the full parse refuses
            with pytest.raises(DiffError, match="is malformed: hunk"):
                parse_diff(text)
            continue
        files = parse_diff(text)
        expected = case["unidiff"]["files"]
        assert len(files) == len(expected), name
        git_numstat = case["git_apply_numstat"]
        git_paths = [row[2] for row in git_numstat] if isinstance(git_numstat, list) else None
        use_git = git_paths is not None and "diff --git" in text and len(git_paths) == len(files)
        for i, (file, want) in enumerate(zip(files, expected, strict=True)):
            assert file.path == (git_paths[i] if use_git and git_paths else want["path"]), name
            hunks = [[h.old_start, h.old_len, h.new_start, h.new_len] for h in file.hunks]
            assert hunks == want["hunks"], name
            assert (file.added, file.removed) == (want["added"], want["removed"]), name
            assert (file.status is A) == want["is_added_file"], name
            assert (file.status is D) == want["is_removed_file"], name
            if use_git:
                assert git_numstat[i][:2] == (
                    ["-", "-"] if want["is_binary_file"] else [str(file.added), str(file.removed)]
                ), name


def test_reviewdog_golden_parses(realdata: Path) -> None:
    kinds = {0: " ", 1: "+", 2: "-"}
    cases = sorted((realdata / "diffs/reviewdog-testdata").glob("*.diff"))
    assert len(cases) == 15
    for path in cases:
        golden = json.loads(path.with_name(path.name + ".json").read_text()) or []
        files = parse_diff(decode_diff(path.read_bytes()))
        assert len(files) == len(golden), path.name
        for file, want in zip(files, golden, strict=True):
            if want["PathNew"]:
                assert file.path == want["PathNew"].removeprefix("b/"), path.name
            expected = [
                (
                    (h["StartLineOld"], h["LineLengthOld"], h["StartLineNew"], h["LineLengthNew"], h["Section"]),
                    [
                        (kinds[ln["Type"]], ln["LnumOld"] or None, ln["LnumNew"] or None, ln["Content"])
                        for ln in h["Lines"]
                    ],
                )
                for h in want["Hunks"] or []
            ]
            got = [
                (
                    (h.old_start, h.old_len, h.new_start, h.new_len, h.section),
                    [(ln.kind, ln.old, ln.new, ln.text) for ln in h.lines],
                )
                for h in file.hunks
            ]
            assert got == expected, path.name
