"""engine.run_task's cost on the secret scan, by operation counts: what is sent passes the redactor once
(the scan reads again only the hunks the rendering redacted something in), and a file left out of the plan
is parsed only when the redactor finds something in its raw new side or it is not plainly well-formed. The
findings, and a malformed file's error, are the same as when every file was parsed and scanned."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import pytest

from qodo_review import engine, parts
from qodo_review.config import ReviewConfig
from qodo_review.diff import RawFile, split_diff
from qodo_review.errors import DiffError
from qodo_review.models import FileDiff, PullRequest
from qodo_review.redact import Redactor
from qodo_review.review import review_diff

PR = PullRequest(number=1, title="t", body="", base_sha="a" * 40, head_sha="b" * 40)
TOKEN = "ghp_R7tkQ2mZ9xW4bN8vL3pY6sD1fH5jK0cG2aE8"  # a GitHub token shape


class Counting(Redactor):
    """Counts the lines the rendering redacts and the lines the secret scan locates secrets in."""

    def __init__(self) -> None:
        super().__init__()
        self.redacted_lines = 0
        self.located_lines = 0

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        self.redacted_lines += len(lines)
        return super().redact_lines(lines)

    def _locate(self, lines: Sequence[str]) -> list[tuple[int, str, str, int]]:
        self.located_lines += len(lines)
        return super()._locate(lines)


def file_diff(path: str, hunks: list[list[str]]) -> str:
    out = [f"diff --git a/{path} b/{path}\nindex 1..2 100644\n--- a/{path}\n+++ b/{path}\n"]
    start = 1
    for body in hunks:
        old = sum(1 for ln in body if ln[0] in " -")
        new = sum(1 for ln in body if ln[0] in " +")
        out.append(f"@@ -{start},{old} +{start},{new} @@\n" + "".join(ln + "\n" for ln in body))
        start += 100
    return "".join(out)


def review(text: str, redactor: Redactor, max_calls: int = 8) -> tuple[list[RawFile], list[str]]:
    files = split_diff(text)
    outcome = review_diff(
        PR, files, ReviewConfig(max_calls=max_calls), provider=None, redactor=redactor, nonce="0" * 16
    )
    return files, [f"{f.path}:{f.line}" for f in outcome.findings if f.source == "secret-scan"]


def test_sent_lines_pass_the_redactor_once() -> None:
    quiet = [[" a", "-b", "+c", " d"]] * 5
    text = file_diff("a.py", quiet) + file_diff("b.py", [*quiet, [" x", f"+key = '{TOKEN}'", " y"]])
    redactor = Counting()
    _, found = review(text, redactor)
    assert found == ["b.py:502"]
    sent = 5 * 4 + 5 * 4 + 3
    assert redactor.redacted_lines == sent  # each sent line once, by the rendering
    assert redactor.located_lines == 3  # the scan reads again the one hunk with a secret: its new side


def test_a_left_out_file_is_parsed_only_when_it_may_hold_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    real = engine.parse_file

    def counting(raw: RawFile) -> FileDiff:
        parsed.append(raw.path)
        return real(raw)

    for module in (engine, parts):  # the engine parses a withheld or odd file; parts the rest
        monkeypatch.setattr(module, "parse_file", counting)
    big = [[f"+line {i} of a big file {j}" for i in range(60)] for j in range(20)]  # 1,200 lines: over one call
    secret = [*big[:10], [" x", f"+token = '{TOKEN}'", " y"], *big[10:]]
    text = file_diff("small.py", [["+a"]]) + file_diff("quiet.txt", big) + file_diff("leaky.txt", secret)
    _, found = review(text, Counting(), max_calls=1)
    assert found == ["leaky.txt:1002"]  # the secret in a file left out is found as before
    # the quiet file is never parsed; the leaky one only its hunk with the secret (diff.hunk_views), if at all
    assert "quiet.txt" not in parsed


def test_a_malformed_file_left_out_still_stops_the_run() -> None:
    big = [[f"+line {i}" for i in range(60)] for j in range(20)]
    text = file_diff("small.py", [["+a"]]) + file_diff("cut.txt", big)
    text = text.replace("@@ -1901,0 +1901,60 @@", "@@ -1901,0 +1901,61 @@")  # the last hunk is one line short
    with pytest.raises(DiffError, match=r"cut\.txt is malformed"):
        review(text, Redactor(), max_calls=1)


def test_files_sent_whole_are_rendered_and_placed_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file sent whole is rendered from its raw text (diff.hunk_views) and its findings placed by its
    hunks' headers; only the hunks the rendering redacted in get Line objects, for the secret scan."""
    from qodo_review import rows
    from qodo_review.diff import parse

    parsed: list[str] = []

    def counting(real):  # type: ignore[no-untyped-def]
        def parse_file(raw: RawFile) -> FileDiff:
            parsed.append(raw.path)
            return real(raw)  # type: ignore[no-any-return]

        return parse_file

    for module in (engine, parts, rows, parse):
        monkeypatch.setattr(module, "parse_file", counting(module.parse_file))
    quiet = [[" a", "-b", "+c", " d"]] * 5
    text = file_diff("a.py", quiet) + file_diff("b.py", [*quiet, [" x", f"+key = '{TOKEN}'", " y"]])
    _, found = review(text, Redactor())
    assert found == ["b.py:502"]  # found and placed inline as before
    assert parsed == []  # no file parsed whole


class Calls(Redactor):
    """Counts the redactor's calls by entry point."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = {"redact": 0, "redact_lines": 0}

    def redact(self, text: str) -> str:
        self.calls["redact"] += 1
        return super().redact(text)

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        self.calls["redact_lines"] += 1
        return super().redact_lines(lines)


def with_sections(text: str, sections: list[str]) -> str:
    """The diff with each hunk header's section (the function name git puts after `@@`) set, in order."""
    parts = text.split(" @@\n")
    assert len(parts) == len(sections) + 1
    return "".join(part + f" @@ {section}\n" for part, section in zip(parts, sections, strict=False)) + parts[-1]


def prompt_of(text: str, redactor: Redactor) -> str:
    outcome = review_diff(PR, split_diff(text), ReviewConfig(), provider=None, redactor=redactor, nonce="0" * 16)
    assert len(outcome.prompts) == 1
    return outcome.prompts[0].user


def test_a_file_sent_whole_passes_the_redactor_in_one_call_its_sections_included() -> None:
    quiet = [[" a", "-b", "+c", " d"]] * 5
    text = file_diff("a.py", quiet) + file_diff("b.py", quiet)
    plain, named = Calls(), Calls()
    prompt_of(text, plain)
    prompt_of(with_sections(text, [f"def f{i}():" for i in range(10)]), named)
    assert named.calls["redact_lines"] == 2  # one per file, where it was one per hunk
    assert named.calls == plain.calls  # the sections went with the lines, not alone


def test_sections_and_lines_are_numbered_in_the_order_the_hunks_hold_them() -> None:
    other = "ghp_Q1wE2rT3yU4iO5pA6sD7fG8hJ9kL0zX1cV2"
    text = file_diff("a.py", [[" x", f"+token = '{TOKEN}'", " y"], [" x", "+z", " y"]])
    text = with_sections(text, ["def first():", f"def second(key='{other}'):"])
    user = prompt_of(text, Redactor())
    assert TOKEN not in user and other not in user
    assert "R2 + | token = '<<SECRET:github-token:1>>'" in user
    assert re.search(r"@@ def second\(key='<<SECRET:[a-z-]+:2>>'\):\n", user)


def test_a_section_with_escaping_is_seen_through_as_redact_does() -> None:
    """Markdown escaping hides a token from a line reader, not from Redactor.redact: such a section goes
    there alone, in its turn (before the lines of its hunk, after those of the hunks before it)."""
    escaped = TOKEN.replace("_", "\\_")
    text = file_diff("a.py", [[" x", "+a = 1", " y"], [" x", "+b = 2", " y"]])
    text = with_sections(text, ["def first():", f"def second(): # {escaped}"])
    user = prompt_of(text, Redactor())
    assert escaped not in user and TOKEN[8:] not in user
    assert "def second(): # <<SECRET:github-token:1>>" in user


class Threads(Redactor):
    """Notes the thread each rendering's redactor call runs in."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        self.threads.add(threading.get_ident())
        return super().redact_lines(lines)


def test_a_dry_run_builds_its_parts_in_one_worker_in_order() -> None:
    # A dry run waits on nothing, so threads would only take turns at the GIL, and number the placeholders
    # in whatever order they ran: one worker numbers them in the parts' order, every time.
    tokens = [f"ghp_R7tkQ2mZ9xW4bN8vL3pY6sD1fH5jK0c{i:04d}" for i in range(12)]
    body = [" a", *(f"+x{j} = {j}" for j in range(60))]
    text = "".join(file_diff(f"f{i}.py", [[*body, f"+key = '{t}'"]]) for i, t in enumerate(tokens))
    redactor = Threads()
    outcome = review_diff(
        PR,
        split_diff(text),
        ReviewConfig(max_calls=20, max_input_tokens=1_500, parallel_calls=4),
        provider=None,
        redactor=redactor,
        nonce="0" * 16,
    )
    assert len(outcome.prompts) > 4
    assert len(redactor.threads) == 1
    numbers = [int(n) for p in outcome.prompts for n in re.findall(r"<<SECRET:[a-z-]+:(\d+)>>", p.user)]
    assert numbers == sorted(numbers) and len(set(numbers)) == 12
