"""The sanitizer against hostile PR content and hostile model answers: every rule with exact outputs,
properties over generated input (idempotency, length, fences, logs, mentions), and 200 KB inputs handled
in a constant number of linear passes (counted, never timed against a limit)."""

from __future__ import annotations

import gc
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qodo_review.sanitize.markdown as sanitize_module
from qodo_review.sanitize import (
    HIDDEN_MARKER_PREFIX,
    TRUNCATION_NOTE,
    fence,
    inline_code,
    log_safe,
    plain,
    strip_markers,
    suggestion_block,
    workflow_escape_data,
    workflow_escape_property,
)
from qodo_review.sanitize import sanitize_markdown as _sanitize_markdown

Z = "\u200b"  # the zero-width space the sanitizer inserts
REPO = "github.com/o/r"  # links into this repository are kept; the tests' default


def sanitize_markdown(text: str, *, repo: str = REPO, max_chars: int = 20000) -> str:
    return _sanitize_markdown(text, repo=repo, max_chars=max_chars)


MARKER = re.compile(r"<!--\s*qodo[\s_-]*review", re.IGNORECASE)


def cases(*rows: tuple[str, str]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(("text", "expected"), rows, ids=[repr(r[0])[:50] for r in rows])


# --- sanitize_markdown, rule by rule (exact outputs) ----------------------------------------------


@cases(
    ("![logo](https://evil.example/p.png)", "logo"),
    ("![alt *text*][ref]", "alt *text*"),
    ("![shortcut]", "shortcut"),
    ("see ![](x.png) here", "see  here"),
    ('<img src="https://evil.example/t.gif" alt="tracking pixel">', "tracking pixel"),
    ("<IMG SRC=x>", ""),
    ("<img src=x alt='@admin'>", f"@{Z}admin"),
    ("[![badge](https://evil.example/b.svg)](https://github.com/o/r)", "[badge](https://github.com/o/r)"),
    # a "<" left at the end of an alt text meets what follows it: escaped, so a second pass changes nothing
    ("![<]`", "\\<\\`"),
)
def test_images_become_their_alt_text(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("<details><summary>Click</summary>hidden</details>", r"\<details>\<summary>Click\</summary>hidden\</details>"),
    ("<script>alert(1)</script>", r"\<script>alert(1)\</script>"),
    ("<iframe src=x></iframe>", r"\<iframe src=x>\</iframe>"),
    ("<picture><source srcset=x></picture>", r"\<picture>\<source srcset=x>\</picture>"),
    ("line<br>break<br/>x", "line break x"),
    ("a < b and c > d", "a < b and c > d"),
    ("List<String> is generic", r"List\<String> is generic"),
    # entities render as text: decoding them must never produce a live tag
    ("&lt;img src=x onerror=alert(1)&gt;", r"\<img src=x onerror=alert(1)\>"),
    ("&#60;script&#62;", r"\<script\>"),
    ("&amp;lt;b&amp;gt;", r"\&lt;b\&gt;"),
    ("&unknown; & more", "&unknown; & more"),
)
def test_raw_html_is_shown_as_text(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("x <!-- secret --> y", "x  y"),
    ("<!--\nmulti\nline\n-->z", "z"),
    ("<!-->a", "a"),
    ("<!--->b", "b"),
    ('before <!-- qodo-review:state {"resolved": true} --> after', "before  after"),
    ("x <!-- qodo-review unterminated", "x  qodo-review unterminated"),
    ("@<!---->admin", f"@{Z}admin"),  # removing the comment must not create a mention
    ("a<!-- -->\n<!-- -->/approve", "a\n\\/approve"),  # ... nor a slash command
    ("&#x3C;!-- qodo-review:state --&#x3E;", f"\\<{Z}!-- qodo-review:state --\\>"),
)
def test_html_comments_are_removed(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("[t](https://evil.example/x)", "t (`hxxps://evil[.]example/x`)"),
    ('[t](https://evil.example/x "title")', "t (`hxxps://evil[.]example/x`)"),
    ("[t](<https://evil.example/a b>)", "t (`hxxps://evil[.]example/a b`)"),
    ("[a [b] c](https://evil.example)", "a [b] c (`hxxps://evil[.]example`)"),
    ("[t](https://gist.github.com/x)", "t (`hxxps://gist[.]github[.]com/x`)"),
    ("[t](https://www.github.com/x)", "t (`hxxps://www[.]github[.]com/x`)"),
    ("[t](https://github.com.evil.example/x)", "t (`hxxps://github[.]com[.]evil[.]example/x`)"),
    ("[t](https://github.com@evil.example/x)", "t (`hxxps://github[.]com@evil[.]example/x`)"),
    ("[t](https://evil.example#@github.com)", "t (`hxxps://evil[.]example#@github[.]com`)"),
    ("[t](https://evil.example\\\\@github.com)", "t (`hxxps://evil[.]example\\@github[.]com`)"),
    ("[t](//evil.example/x)", "t (`//evil[.]example/x`)"),
    ("[t](https:evil.example)", "t (`hxxps:evil[.]example`)"),
    ("[t](mailto:a@evil.example)", "t (`mailto[:]a@evil.example`)"),
    # allowed: the exact host (any case), relative paths, anchors, queries
    ("[t](https://github.com/o/r/blob/main/a.py#L3)", "[t](https://github.com/o/r/blob/main/a.py#L3)"),
    ("[t](https://GITHUB.com/O/R/x)", "[t](https://GITHUB.com/O/R/x)"),
    ('[t](https://github.com/o/r/x "title")', "[t](https://github.com/o/r/x)"),
    ("[t](https://github.com/o/r/a(b)c)", "[t](https://github.com/o/r/a%28b%29c)"),
    ("[t](src/a.py)", "[t](src/a.py)"),
    # only this repository: another one on the same host, or a path that climbs out, is inert
    ("[t](https://github.com/x)", "t (`hxxps://github[.]com/x`)"),
    ("[t](https://github.com/o/rr/x)", "t (`hxxps://github[.]com/o/rr/x`)"),
    ("[t](https://github.com/o/r/../../evil/x)", "t (`hxxps://github[.]com/o/r/../../evil/x`)"),
    ("[t](https://github.com/o/r/%2e%2e/%2E%2E/evil)", "t (`hxxps://github[.]com/o/r/%2e%2e/%2E%2E/evil`)"),
    ("[t](/other/repo)", "t (`/other/repo`)"),
    ("[t](../src/a.py)", "t (`[.][.]/src/a.py`)"),
    ("[t](a/%2e%2e/%2e%2e/%2e%2e/x)", "t (`a/%2e%2e/%2e%2e/%2e%2e/x`)"),
    ("[t](#section)", "[t](#section)"),
    ("[t](/o/r/issues)", "[t](/o/r/issues)"),
    ("[t](?q=1)", "[t](?q=1)"),
)
def test_inline_links_to_other_hosts_keep_their_text_and_show_an_inert_url(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("[t](javascript:alert(1))", "t"),
    ("[t](JavaScript:alert(1))", "t"),
    ("[t](  javascript:alert(1))", "t"),
    ("[t](jav&#x61;script:alert(1))", "t"),
    ("[t](javascript&colon;alert(1))", "t"),
    ("[t](&#106;&#97;vascript:alert(1))", "t"),
    ("[t](<javascript:alert(1)>)", "t"),
    ("[t](vbscript:msgbox)", "t"),
    ("[t](data:text/html;base64,PHNjcmlwdD4=)", "t"),
    ("[t](DATA:image/png;base64,x)", "t"),
    ("<javascript:alert(1)>", ""),
    ("[r]: javascript:alert(1)", "[r]\\: "),
)
def test_script_and_data_urls_are_removed(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("[t][r]\n\n[r]: https://evil.example/x", "[t][r]\n\n[r]\\: `hxxps://evil[.]example/x`"),
    ("[r]: <https://evil.example> 'x'", "[r]\\: `hxxps://evil[.]example` 'x'"),
    ('[t][r]\n\n[r]: https://github.com/o/r/x "T"', '[t][r]\n\n[r]: <https://github.com/o/r/x> "T"'),
    ("[r]: relative", "[r]: relative"),
    ("[r]: ../relative", "[r]\\: ../relative"),
    ("[r]: https://github.com/other/repo", "[r]\\: `hxxps://github[.]com/other/repo`"),
    ("[r]:\n  https://evil.example", "[r]:\n  `hxxps://evil[.]example`"),
    # a bare www. destination is rewritten as a URL, so it is no definition either (idempotency found it)
    ("]:www.evil.example", "]\\:`hxxp://www[.]evil[.]example`"),
)
def test_reference_definitions_to_other_hosts_are_broken(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("<https://evil.example/x>", "`hxxps://evil[.]example/x`"),
    ("<https://github.com/o/r/x>", "<https://github.com/o/r/x>"),
    ("<https://github.com/x>", "`hxxps://github[.]com/x`"),
    ("see https://evil.example/x.", "see `hxxps://evil[.]example/x`."),
    ("(https://evil.example/x)", "(`hxxps://evil[.]example/x`)"),
    ("HTTPS://EVIL.EXAMPLE", "`hxxps://EVIL[.]EXAMPLE`"),
    ("ftp://evil.example/f", "`fxp://evil[.]example/f`"),
    ("www.evil.example/x", "`hxxp://www[.]evil[.]example/x`"),
    ("h&#116;tps://evil.example/y", "`hxxps://evil[.]example/y`"),
    # an allowed bare URL is closed with <...> so that GitHub's autolink cannot run over what follows
    ("https://github.com/o/r/pull/1", "<https://github.com/o/r/pull/1>"),
    ("https://github.com/o/r/x\u00a0<b>", "<https://github.com/o/r/x>\u00a0\\<b>"),
    ("https://github.com/o/r/x`@evil.example`", "<https://github.com/o/r/x>`@evil.example`"),
    ("\\https://github.com/o/r", "\\ <https://github.com/o/r>"),  # a backslash must not escape our "<"
    # e-mail addresses would be mailto links: a ZWSP after "@" keeps them text
    ("mail a@b.example now", f"mail a@{Z}b.example now"),
    ("<a@b.example>", f"\\<a@{Z}b.example>"),
    ("mailto:first.last+tag@sub.b-c.example", f"mailto:first.last+tag@{Z}sub.b-c.example"),
)
def test_bare_and_angle_autolinks(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


def test_allowed_host_is_configurable_and_exact() -> None:
    text = "[a](https://ghe.corp.example/o/r/x) [b](https://github.com/o/r/x) [c](https://sub.ghe.corp.example/o/r)"
    assert sanitize_markdown(text, repo="GHE.corp.example/o/r") == (
        "[a](https://ghe.corp.example/o/r/x) b (`hxxps://github[.]com/o/r/x`) "
        "c (`hxxps://sub[.]ghe[.]corp[.]example/o/r`)"
    )
    # without a repository, no absolute URL is kept; relative ones are
    assert sanitize_markdown("[a](https://github.com/o/r) [b](x.py)", repo="") == (
        "a (`hxxps://github[.]com/o/r`) [b](x.py)"
    )


@cases(
    ("@octocat", f"@{Z}octocat"),
    ("@org/team-name", f"@{Z}org/team-name"),
    ("hi @a, @b.", f"hi @{Z}a, @{Z}b."),
    ("(@x)", f"(@{Z}x)"),
    ("é@x", f"é@{Z}x"),  # GitHub's \W is ASCII: é does not protect the mention
    ("＠user", f"＠{Z}user"),  # fullwidth look-alike
    ("﹫user", f"﹫{Z}user"),
    ("&#64;user", f"@{Z}user"),
    ("&commat;user", f"@{Z}user"),
    ("\\@user", f"@{Z}user"),  # the escape renders as a bare @
    ("[@user](https://github.com/o/r)", f"[@{Z}user](https://github.com/o/r)"),
    # a URL is kept whole inside a link, but once the link is gone its "@name" would be live text
    (
        "[https://github.com/o/r/@u](https://github.com/o/r)",
        f"[https\\://github.com/o/r/@{Z}u](https://github.com/o/r)",
    ),
    ("[https://github.com/o/r/@u](https://evil.example)", "<https://github.com/o/r/@u> (`hxxps://evil[.]example`)"),
    ("user@example.com", f"user@{Z}example.com"),  # an e-mail address, a mailto link for GitHub
    # a rewrite that joins "@" and a name (the link around the name is undone) defuses what it made
    ("@[t](https://evil.example)", f"@{Z}t (`hxxps://evil[.]example`)"),
    ("@[](javascript:x)t", f"@{Z}t"),
    # already harmless: a zero-width joiner, characters GitHub does not accept after @
    ("@\u200duser", "@\u200duser"),
    (f"@{Z}user", f"@{Z}user"),
    ("@-x", "@-x"),
    ("_@x", "_@x"),
)
def test_mentions_are_neutralised(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("/approve", "\\/approve"),
    ("  /lgtm", "  \\/lgtm"),
    ("\t/retest", "\t\\/retest"),
    ("> /merge", "> \\/merge"),
    ("- /retest", "- \\/retest"),
    ("1. /close", "1. \\/close"),
    ("&#47;approve", "\\/approve"),
    ("a\u2028/approve", "a\n\\/approve"),  # JavaScript's /^/m starts a line at U+2028
    ("a\r/approve", "a\n\\/approve"),
    ("```\n/deploy prod\n```", f"```\n{Z}/deploy prod\n```"),
    ("text /approve", "text /approve"),
    ("//comment", "//comment"),
    ("/ space", "/ space"),
)
def test_slash_commands_at_line_start_are_neutralised(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("fixes #1", f"fixes {Z}#1"),
    ("Closes #2", f"Closes {Z}#2"),
    ("resolves owner/repo#3", f"resolves {Z}owner/repo#3"),
    ("FIXED: #4", f"FIXED: {Z}#4"),
    ("fix:#5", f"fix:{Z}#5"),
    ("close GH-6", f"close {Z}GH-6"),
    ("fixes https://github.com/o/r/issues/7", f"fixes {Z}<https://github.com/o/r/issues/7>"),
    ("fix\n#8", f"fix\n{Z}#8"),
    ("see #9 and owner/repo#10", "see #9 and owner/repo#10"),
    ("hotfix #11", "hotfix #11"),
)
def test_closing_keywords_are_neutralised(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    ("a\u202eb\u2066c\u200ed\u061ce", "abcde"),
    ("a\x00b\x07c\x1b[31md\x7fe\x9bf", "abc[31mdef"),
    ("a\r\nb\rc", "a\nb\nc"),
    ("tab\tkept", "tab\tkept"),
    ("```\nif x:\u202e\u2066 # comment\n```", "```\nif x: # comment\n```"),  # Trojan Source in code too
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),
)
def test_control_and_bidi_characters_are_removed(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "`[x](https://evil.example)`",
        "`<img src=x>`",
        "`@user`",
        "`List<String>`",
        "`a < b`",
        "``a`b``",
        "` `` `",
        "`/approve`",
        "`fixes #1`",
        "`&lt;`",
        "```\n<img src=x>\n@user\n[x](https://evil.example)\nfixes #1\n&lt;\n```",
        "~~~\n``` not a closer\n~~~",
        "```\n~~~\n```",
        "````\n```\n````",
        "1. step\n   ```sh\n   ls <dir>\n   ```",
        "| a | b |\n|---|---|\n| `x\\|y` | z |",
    ],
)
def test_code_spans_and_blocks_are_left_alone(text: str) -> None:
    assert sanitize_markdown(text) == text


@cases(
    ("```\nunclosed <b>", "```\nunclosed <b>\n```"),
    ('```python title="<b>"\n1\n```', "```python\n1\n```"),
    ("```suggestion\nrm -rf /\n```", "```\nrm -rf /\n```"),  # only suggestion_block makes suggestions
    ("```\n```` \n<b>", "```\n```\n\\<b>"),  # a longer closer still closes; we write our own
    # fences GitHub reads inside containers are shown as text rather than risk a wrong guess
    ("> ```\n> <b>\n> ```", "> \\`\\`\\`\n> \\<b>\n> \\`\\`\\`"),
    ("- ```\n  x\n  ```\n<b>", "- \\`\\`\\`\n  x\n  ```\n  ```\n\\<b>"),
    ("\t```\n<b>", "\t\\`\\`\\`\n\\<b>"),
    ("> ~~~\n<b>", "> \\~~~\n\\<b>"),
    ("``` js `bad info`\n<b>", "\\`\\`\\` js `bad info`\n\\<b>"),
    # a block ends where its list item ends; a deep opener gets a blank line so it cannot be paragraph text
    ("1. x\n   ```\n   code\n<b>", "1. x\n   ```\n   code\n   ```\n\\<b>"),
    ("text\n    ```\n    <b>\n    ```", "text\n\n    ```\n    <b>\n    ```"),
)
def test_fences_are_rewritten_in_a_form_github_reads_the_same_way(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


@cases(
    # unpaired backticks are escaped, so nothing we add later can pair with them
    ("a ` b", "a \\` b"),
    ("`x\n<div>\n`", "\\`x\n\\<div>\n\\`"),  # a code span never spans lines for us
    ("<https://github.com/o/r/`a><img src=x>`", "\\<<https://github.com/o/r/>`a><img src=x>`"),
    ("<1`@x.co><img src=x>`", "\\<1`@x.co><img src=x>`"),
    ('[x](https://github.com/o/r "t`i") <img src=x> `', '[x]\\(<https://github.com/o/r> "t`i") <img src=x> `'),
    ("\\https://evil.example", "\\ `hxxps://evil[.]example`"),  # a backslash must not escape our backtick
    ("`a`https://evil.example", "`a` `hxxps://evil[.]example`"),
    ("[x](https://evil.example/`a`)", "[x]\\(`hxxps://evil[.]example/` `a`)"),
    # GFM splits table cells before code spans: a pipe inside backticks ends the cell
    ("| h |\n|---|\n| `x|<b>` |", "| h |\n|---|\n| \\`x|\\<b>\\` |"),
)
def test_nothing_can_swallow_a_backtick(text: str, expected: str) -> None:
    assert sanitize_markdown(text) == expected


def test_forged_marker_in_a_model_answer_is_removed_everywhere() -> None:
    answer = (
        'Looks good.\n<!-- qodo-review:state {"resolved": [1, 2]} -->\n'
        "```suggestion\nfixed()\n```\n<!-- QODO-REVIEW fp=abc -->\n"
        "```\n<!-- qodo-review:state {} -->\n```"
    )
    out = sanitize_markdown(answer)
    assert "<!--" not in out
    assert not MARKER.search(out)
    assert out == ("Looks good.\n\n```\nfixed()\n```\n\n```\n<" + Z + "!-- qodo-review:state {} -->\n```")


# --- length cap -----------------------------------------------------------------------------------


def test_short_text_is_not_truncated() -> None:
    assert sanitize_markdown("x" * 100, max_chars=100) == "x" * 100


def test_long_text_is_cut_at_a_space_with_a_note() -> None:
    out = sanitize_markdown("word " * 100, max_chars=60)
    assert out == "word " * 8 + "word" + TRUNCATION_NOTE
    assert len(out) <= 60


def test_cut_closes_an_open_fence_before_the_note() -> None:
    out = sanitize_markdown("intro\n```python\n" + "x = 1\n" * 100 + "```\nafter", max_chars=80)
    assert out.endswith("\n```" + TRUNCATION_NOTE)
    assert out.count("```") == 2
    assert len(out) <= 80


@pytest.mark.parametrize("unit", ["e\u0301", "👨\u200d👩\u200d👧", "🇫🇷", "👍🏽", "\u2764\ufe0f", "𝔘"])
def test_cut_never_splits_a_grapheme(unit: str) -> None:
    out = sanitize_markdown(unit * 200, max_chars=50)
    body = out.removesuffix(TRUNCATION_NOTE)
    assert out.endswith(TRUNCATION_NOTE) and len(out) <= 50
    assert body == unit * (len(body) // len(unit))


def test_cut_does_not_leave_half_an_allowed_url() -> None:
    out = sanitize_markdown("see https://github.com/" + "a" * 100, max_chars=40)
    assert out == "see" + TRUNCATION_NOTE


def test_tiny_limit_yields_the_note_alone() -> None:
    assert sanitize_markdown("hello world", max_chars=3) == TRUNCATION_NOTE


# --- fence, suggestion_block, inline_code ----------------------------------------------------------


def test_fence_outruns_the_longest_backtick_run() -> None:
    assert fence("a ``` b\n`````", "py") == "``````py\na ``` b\n`````\n``````"
    assert fence("plain") == "```\nplain\n```"
    assert fence("") == "```\n```"


@cases(
    ("python", "python"),
    ("c++", "c++"),
    ("C#", "C#"),
    ("py thon", "py"),
    ("x`y", "xy"),
    ("<b>onclick=1", "bonclick1"),
    ("suggestion", ""),  # a file extension must not turn code into a one-click commit
    ("SUGGESTION", ""),
)
def test_fence_language_is_cleaned(text: str, expected: str) -> None:
    assert fence("x", text) == f"```{expected}\nx\n```"


def test_model_answer_cannot_close_the_suggestion_block_or_forge_a_marker() -> None:
    answer = 'fixed()\n```\n<!-- qodo-review:state {"resolved": true} -->\n@admin /approve\n```'
    out = suggestion_block(answer)
    assert out == (
        "````suggestion\nfixed()\n```\n<" + Z + '!-- qodo-review:state {"resolved": true} -->\n'
        "@admin /approve\n```\n````"
    )
    assert not MARKER.search(out)
    assert strip_markers(out) == out


def test_suggestion_block_keeps_code_exactly_apart_from_unsafe_characters() -> None:
    assert suggestion_block("a\r\n\tb <!-- c -->") == "```suggestion\na\n\tb <!-- c -->\n```"
    assert suggestion_block("x = '\u202e'") == "```suggestion\nx = ''\n```"
    assert suggestion_block("") == "```suggestion\n```"


@cases(
    ("src/a.py", "`src/a.py`"),
    ("we`ird.py", "``we`ird.py``"),
    ("`start", "`` `start ``"),
    ("end`", "`` end` ``"),
    ("a``b", "`a``b`"),
    ("pipe|name", "`pipe\\|name`"),
    ("already\\|escaped", "`already\\|escaped`"),
    ("two\\\\|x", "`two\\\\\\|x`"),
    (" padded ", "`  padded  `"),
    ("line\nbreak\n\nx", "`line break  x`"),
    ("<!-- qodo-review -->.md", "`<" + Z + "!-- qodo-review -->.md`"),
    ("", "` `"),
)
def test_inline_code(text: str, expected: str) -> None:
    assert inline_code(text) == expected


# --- plain ----------------------------------------------------------------------------------------


@cases(
    ("Fix the thing", "Fix the thing"),
    ("a\nb\r\nc\u2028d", "a b c d"),
    ("we`ird|name.py", "we\\`ird\\|name\\.py"),
    ("**bold** [x](https://evil.example)", "\\*\\*bold\\*\\* \\[x\\]\\(https\\:\\/\\/evil\\.example\\)"),
    ("<img src=x>", "\\<img src\\=x\\>"),
    ("@admin please", f"@{Z}admin please"),
    ("Fixes #12", f"Fixes {Z}\\#12"),
    ("/approve", "\\/approve"),
    ("::set-output name=x::y", "\\:\\:set\\-output name\\=x\\:\\:y"),
    ("<!-- qodo-review -->", "\\<\\!\\-\\- qodo\\-review \\-\\-\\>"),
    ("$x$ and ~~y~~", "\\$x\\$ and \\~\\~y\\~\\~"),
    ("www.evil.example", "www\\.evil\\.example"),
    ("2024 release", "2024 release"),
)
def test_plain(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_plain_trims_with_an_ellipsis() -> None:
    assert plain("abcdef", max_chars=4) == "abc…"
    assert plain("ab " + "é" * 10, max_chars=5) == "ab é…"
    assert plain("x" * 300) == "x" * 300


# --- logs and workflow commands ------------------------------------------------------------------


@cases(
    ("::set-output name=x::y", f"{Z}::set-output name=x::y"),
    ("title\n::error::pwned", f"title\n{Z}::error::pwned"),
    ("  ::warning::indented", f"{Z}  ::warning::indented"),
    ("\u3000::notice::ideographic space", f"{Z}\u3000::notice::ideographic space"),
    ("##[error]legacy", f"{Z}##[error]legacy"),
    ("safe\r::add-mask::x", "safe::add-mask::x"),  # the runner would start a line at \r
    ("x\r\n::debug::y", f"x\n{Z}::debug::y"),
    ("\x1b[31mred\x1b[0m \x1b]0;title\x07 \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\", "red  link"),
    ("\x1b[2K\x1b[1A::error::after cursor tricks", f"{Z}::error::after cursor tricks"),
    ("bidi \u202eevil", "bidi evil"),
    ("a :: b", "a :: b"),
    (f"{Z}::already", f"{Z}::already"),
)
def test_log_safe(text: str, expected: str) -> None:
    assert log_safe(text) == expected


def test_workflow_command_escaping_matches_actions_core() -> None:
    assert workflow_escape_data("50% done\r\n::error::x, y") == "50%25 done%0D%0A::error::x, y"
    assert workflow_escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    hostile_file = "src/we`ird|na,me::error::.py\n::error::pwned"
    message = workflow_escape_data("msg\n::x")
    line = f"::error file={workflow_escape_property(hostile_file)},line=3::{message}"
    assert line.count("\n") == 0
    assert line == "::error file=src/we`ird|na%2Cme%3A%3Aerror%3A%3A.py%0A%3A%3Aerror%3A%3Apwned,line=3::msg%0A::x"


# --- strip_markers --------------------------------------------------------------------------------


@cases(
    ("a <!-- qodo-review:state {} --> b", "a  b"),
    ("a<!--QODO-REVIEW fp=1-->b", "ab"),
    ("a<!--\n  qodo_review -->b", "ab"),
    ("a<!-- qodo review --!>b", "ab"),
    ("a <!-- qodo-review unterminated\nnext line", "a \nnext line"),
    ("<!<!-- qodo-review -->-- qodo-review -->x", "x"),  # removal can join a new marker: removed too
    ("<!-- other comment -->", "<!-- other comment -->"),
    ("&lt;!-- qodo-review --&gt;", "&lt;!-- qodo-review --&gt;"),
)
def test_strip_markers(text: str, expected: str) -> None:
    assert strip_markers(text) == expected
    assert not MARKER.search(strip_markers(text))


def test_marker_prefix_constant() -> None:
    assert HIDDEN_MARKER_PREFIX == "<!-- qodo-review"
    assert MARKER.match(HIDDEN_MARKER_PREFIX)


# --- properties -------------------------------------------------------------------------------------

HOSTILE = [
    "`",
    "``",
    "```",
    "~~~",
    "\n",
    "\n\n",
    " ",
    "    ",
    "\t",
    "<",
    ">",
    "<!--",
    "-->",
    "<img src=x alt='@a'>",
    "<br>",
    "<details>",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "]:",
    "!",
    "\\",
    "|",
    "|---|",
    "- ",
    "> ",
    "1. ",
    "https://evil.example/p",
    "https://github.com/o/r",
    "www.evil.example",
    "<https://evil.example>",
    "javascript:",
    "@user",
    "@",
    "＠b",
    "&#64;",
    "&lt;",
    "&amp;",
    "&#96;",
    "&#x3C;",
    "fixes #1",
    "closes ",
    "#2",
    "/approve",
    "a",
    "b",
    "\u202e",
    "\x00",
    "\r",
    "\u2028",
    Z,
    "\u200d",
    "e\u0301",
    "🇫🇷",
    "👨\u200d👩\u200d👧",
    "qodo-review",
    "<!-- qodo-review:x -->",
    '"',
    "'",
    "*",
    "_",
    "$",
    "::",
    "[x]: https://evil.example",
    "```py\n",
    "\n```\n",
    "[t](https://evil.example)",
    "[t](https://github.com/x)",
    "```suggestion\n",
]
MARKDOWN = st.lists(st.sampled_from(HOSTILE) | st.text(max_size=4), max_size=30).map("".join)
# Without backticks or tildes the only code in the output is what the sanitizer wrote.
NO_CODE = st.lists(
    st.sampled_from([h for h in HOSTILE if "`" not in h and "~" not in h and "&#96;" not in h])
    | st.text(st.characters(blacklist_characters="`~"), max_size=4),
    max_size=30,
).map("".join)
LIMITS = st.sampled_from([20000, 200, 50, 16, 5])
SLOW = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(MARKDOWN, LIMITS)
def test_sanitize_is_idempotent(text: str, limit: int) -> None:
    once = sanitize_markdown(text, max_chars=limit)
    assert sanitize_markdown(once, max_chars=limit) == once


@SLOW
@given(MARKDOWN, LIMITS)
def test_output_is_bounded_and_clean(text: str, limit: int) -> None:
    out = sanitize_markdown(text, max_chars=limit)
    assert len(out) <= max(limit, len(TRUNCATION_NOTE))
    assert "<!--" not in out
    assert not MARKER.search(out)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]", out)


def _outside_code(text: str) -> str:
    """The sanitizer's output minus its own code spans and kept links (inputs have no backticks)."""
    text = re.sub(r"(`+).*?\1", " ", text)
    return re.sub(r"<https://github\.com[^>]*>|\]\([^)\s]*\)", " ", text)


def _escaped(text: str, index: int) -> bool:
    run = len(text[:index]) - len(text[:index].rstrip("\\"))
    return run % 2 == 1


@SLOW
@given(NO_CODE)
def test_no_live_mention_tag_link_or_command_survives(text: str) -> None:
    out = sanitize_markdown(text)
    prose = _outside_code(out)
    assert not re.search(r"(?<![A-Za-z0-9_])[@＠﹫][A-Za-z0-9]", prose)
    assert all(_escaped(prose, m.start()) for m in re.finditer(r"<(?=\S)", prose))
    assert not re.search(r"(?i)https?://|www\.evil", prose)
    assert not re.search(r"(?m)^[^\S\n]*(?:>[^\S\n]*|[-+*][^\S\n]+|\d+[.)][^\S\n]+)*/\w", out)


@SLOW
@given(st.text(st.characters(blacklist_categories=["Cc", "Cs"]) | st.sampled_from("`\n\t~ ")), st.text(max_size=8))
def test_fence_round_trips_and_cannot_be_closed_early(code: str, lang: str) -> None:
    code = re.sub("[\u202a-\u202e\u2066-\u2069\u061c\u200e\u200f]", "", code)
    code = MARKER.sub("", code)
    out = fence(code, lang)
    lines = out.split("\n")
    ticks = re.match("`+", lines[0])
    assert ticks is not None and lines[-1] == ticks[0]
    assert "\n".join(lines[1:-1]) == code
    for line in lines[1:-1]:  # no content line can be read as a closing fence
        assert not re.fullmatch(rf"[ \t]*`{{{len(ticks[0])},}}[ \t]*", line)


@SLOW
@given(st.text())
def test_log_safe_leaves_no_workflow_command(text: str) -> None:
    out = log_safe(text)
    assert "\r" not in out and "\x1b" not in out
    for line in out.split("\n"):
        assert not line.lstrip().startswith(("::", "##["))


@SLOW
@given(st.text(), st.integers(min_value=1, max_value=400))
def test_plain_is_one_safe_line(text: str, limit: int) -> None:
    out = plain(text, max_chars=limit)
    assert "\n" not in out and "<!--" not in out
    assert not re.search(r"(?<!\\)\|", out)
    assert not re.search(r"(?<![A-Za-z0-9_])[@＠﹫][A-Za-z0-9]", out)
    assert len(re.sub(r"\\(.)", r"\1", out).replace(Z, "")) <= limit


@SLOW
@given(st.text())
def test_inline_code_is_one_closed_span(text: str) -> None:
    out = inline_code(text)
    ticks = re.match("`+", out)
    assert ticks is not None and out.endswith(ticks[0])
    body = out[len(ticks[0]) : -len(ticks[0])]
    assert "\n" not in body and ticks[0] not in re.findall("`+", body)
    assert not re.search(r"(?<!\\)\|", body)


# --- bounded regexes: 200 KB of hostile input ---------------------------------------------------

N = 200_000
BIG = {
    "backticks": "`a" * (N // 2),
    "backtick runs": "".join("`" * (i % 7 + 1) + "x" for i in range(N // 5)),
    "brackets": "[" * N,
    "open links": "[a](" * (N // 4),
    "open titles": '[a](b "' * (N // 7),
    "angle brackets": "<" * N,
    "img tags": "<img " * (N // 5),
    "comment openers": "<!--" * (N // 4),
    "comments": "<!-- x -->" * (N // 10),
    "entities": "&#64;" * (N // 5),
    "schemes": "https://" * (N // 8),
    "long url": "https://github.com/" + "a" * N,
    "mentions": "@a " * (N // 3),
    "keywords": "fixes " * (N // 6),
    "commands": "/x\n" * (N // 3),
    "fences": "```\n" * (N // 4),
    "indented tildes": "~~~~\n  x\n" * (N // 9),
    "table": "|a|\n|-|\n" + "|`x|y`|\n" * (N // 8),
    "delimiter rows": "|-|\n" * (N // 4),
    "backslashes": "\\" * N,
    "spaces then fence": " " * N + "```",
    "definitions": "]: " * (N // 3),
    "nested": "[[[[" * (N // 8) + "]]]]" * (N // 8),
    "markers": "<!-- qodo-review" * (N // 16),
    "ansi": "\x1b[" * (N // 2),
}


@pytest.mark.parametrize("name", list(BIG))
def test_200kb_hostile_input_takes_a_constant_number_of_passes(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Complexity by operation count, not by the clock (speed is in bench/bench_sanitize.py): the Markdown
    pass runs once, plus at most the repair passes of a cut, whatever the input."""
    passes = []
    original = sanitize_module._sanitize_once
    monkeypatch.setattr(
        sanitize_module, "_sanitize_once", lambda text, scope: passes.append(len(text)) or original(text, scope)
    )
    text = BIG[name]
    out = sanitize_markdown(text)
    for other in (plain, log_safe, strip_markers, fence, inline_code, suggestion_block):
        other(text)
    assert len(out) <= 20000
    assert 1 <= len(passes) <= 1 + sanitize_module._REPAIR_TRIES
    assert passes[0] <= sanitize_module.MAX_INPUT_CHARS


def test_time_grows_linearly_with_the_input() -> None:
    """The ratio of two sizes in the same run (best of seven each, without the cyclic GC, whose collections
    are noise here): 4x the input takes under 8x the time, where n log n over the old bisection or a
    quadratic scan would take 16x."""

    def best(text: str) -> float:
        times = []
        gc.disable()
        try:
            for _ in range(7):
                start = time.perf_counter()
                sanitize_markdown(text, max_chars=10**9)
                times.append(time.perf_counter() - start)
        finally:
            gc.enable()
        return min(times)

    for unit in ("&#64;", "@a ", "[a](", "`a", "|`x|y`|\n"):
        n = 12_000 // len(unit)
        ratio = best(unit * 4 * n) / best(unit * n)
        assert ratio < 8, f"{unit!r}: {ratio:.1f}"
