"""Redact last, match everything: escaping never hides a secret from the last pass, tokens are found after
any separator, a refusal never echoes the comment, and the CLI treats every key it could use as a secret.

Samples are built at run time (see test_secrets.py); none is sent anywhere but the fake provider on 127.0.0.1.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.llm_server import FakeLLM, chat_completion, openai_error
from tool_helpers import SAMPLE_DIFF

from qodo_review import cli
from qodo_review.config import ReviewConfig
from qodo_review.event import Activity
from qodo_review.models import PullRequest
from qodo_review.output import Out
from qodo_review.policy import REJECTED_REPLY, REPLY_MARKER, decide
from qodo_review.redact import RULES, Redactor
from qodo_review.sanitize import inline_code, plain

from .test_secrets import ALNUM, POSITIVES, rnd
from .test_secrets import assert_no_leak as _assert_no_leak

PLACEHOLDER = re.compile(r"<<SECRET(?::|%3A)[a-z0-9-]+(?::|%3A)[0-9]+>>")


def assert_no_leak(secret: str, *texts: str | None) -> None:
    """No 8-character piece of the secret in any text; a placeholder names a kind (rubygems-key), not a piece."""
    _assert_no_leak(secret, *(PLACEHOLDER.sub("", t) for t in texts if t))


# Token rules whose secret carries its own keyword (a prefix such as ghp_, or a fixed mark such as NRAL):
# one sample of each such kind. The others need a keyword or a place around the secret.
_SELF_MARKED = {r.kind for r in RULES if not r.by_keyword}
TOKENS = {
    kind: secret
    for kind, _, secret in reversed(POSITIVES)
    if kind in _SELF_MARKED and any(k in secret.lower() for r in RULES if r.kind == kind for k in r.keywords)
}
SEPARATED = [
    "rotated-{s}.md",
    "https://example.com/keys/{s}",
    "KEY={s}",
    "v1.{s}",
    "key:{s}",
    "old_{s}",
    "{s}-rotated.md",
    "{s}_old",
    "{s}.txt",
    "a/{s}/b",
]


@pytest.mark.parametrize("kind", sorted(TOKENS))
@pytest.mark.parametrize("context", SEPARATED)
def test_a_token_next_to_a_separator_is_found(kind: str, context: str) -> None:
    secret = TOKENS[kind]
    at = context.index("{s}")
    if kind == "azure-ad-secret" and {context[at - 1 : at], context[at + 3 : at + 4]} & set("._~-"):
        pytest.skip("its alphabet holds . _ ~ -: one of them next to it makes it part of a longer run")
    assert_no_leak(secret, Redactor().redact(context.format(s=secret)))


def _samples(tokens_only: bool = False) -> list[object]:
    return [
        pytest.param(template.format(s=secret), secret, id=f"{i}-{kind}")
        for i, (kind, template, secret) in enumerate(POSITIVES)
        if not tokens_only or kind in TOKENS
    ]


ESCAPINGS = {
    "plain": lambda text: plain(text, 10_000),
    "plain, cut": lambda text: plain(text, len(text) // 2 + 3),
    "inline code": inline_code,
    "quoted in a refusal": lambda text: plain(f"/review does not take arguments ({text[:400]!r}). Try /help."),
    "backslash before every punctuation": lambda text: "".join("\\" + c if c in "!-/:_.=~+" else c for c in text),
}
# Escapings that change a secret's surroundings (a code span's backticks, a repr's escaped quotes) can change
# whether a context rule (`password = "..."`) applies: they are checked with the self-marked tokens only.
_CONTEXT_FREE = ("plain", "plain, cut", "backslash before every punctuation")


@pytest.mark.parametrize("escape", _CONTEXT_FREE)
@pytest.mark.parametrize(("line", "secret"), _samples())
def test_escaping_first_never_hides_a_secret_from_the_last_pass(escape: str, line: str, secret: str) -> None:
    """Every rule's sample, escaped as the renderers escape it before the last pass: the pass still finds it."""
    check_escaped(escape, line, secret)


@pytest.mark.parametrize("escape", ["inline code", "quoted in a refusal"])
@pytest.mark.parametrize(("line", "secret"), _samples(tokens_only=True))
def test_escaping_that_changes_the_context_never_hides_a_token(escape: str, line: str, secret: str) -> None:
    check_escaped(escape, line, secret)


def check_escaped(escape: str, line: str, secret: str) -> None:
    redactor = Redactor()
    unescaped = redactor.redact(line)
    escaped = redactor.redact(ESCAPINGS[escape](line))
    assert_no_leak(secret, unescaped, escaped)


def _out(tmp_path: Path, redactor: Redactor) -> tuple[Out, io.StringIO]:
    stream = io.StringIO()
    return Out(stream, redactor, str(tmp_path / "summary.md"), str(tmp_path / "output"), in_actions=True), stream


@pytest.mark.parametrize(("line", "secret"), _samples())
def test_every_channel_of_out_redacts_escaped_and_unescaped_text(tmp_path: Path, line: str, secret: str) -> None:
    redactor = Redactor(run_secrets=["run-secret-" + rnd(24)])
    out, stream = _out(tmp_path, redactor)
    for text in (line, plain(line, 10_000)):
        out.log(text)
        out.error(text)
        out.warning(text)
        out.notice(text)
        out.annotate("warning", text, file="src/app.py", line=3, title=text)
        if secret in TOKENS.values():  # a token in a file name the PR chose
            out.annotate("notice", text, file=f"src/rotated-{secret}.md", line=4)
        out.summary(f"## Summary\n\n- {text}\n")
        out.outputs({"summary": text})
    written = [stream.getvalue(), (tmp_path / "summary.md").read_text(), (tmp_path / "output").read_text()]
    assert_no_leak(secret, *written)


def test_publishers_last_pass_sees_through_escaping() -> None:
    """Context.scrub is the last pass of the summary comment, the check run, inline comments and replies."""
    from qodo_review.channels import Context

    secret = TOKENS["github-token"]
    ctx = Context(facts=None, github=None, out=None, redactor=Redactor())  # type: ignore[arg-type]
    for text in (f"| {plain('rotated-' + secret + '.md')} |", f"#### {plain(secret, 20)}", secret):
        assert_no_leak(secret, ctx.scrub(text))


def test_a_refused_command_reply_never_quotes_the_comment() -> None:
    secret = TOKENS["github-token"]
    reason = f"/review does not take arguments ({'--token ' + secret + ' @everyone'!r}). Try /help."
    reject = Activity("reject", reason=reason, pr_number=7, comment_id=5, commenter="bob")
    pr = PullRequest(number=7, title="t", body="", base_sha="a" * 40, head_sha="b" * 40)
    decision = decide(reject, pr, ReviewConfig(), authorized=True)
    assert decision.reply == f"{REPLY_MARKER}\n{REJECTED_REPLY}"
    assert secret[:8] not in decision.reply and "@everyone" not in decision.reply


def test_plain_never_cuts_a_token_in_two() -> None:
    secret = TOKENS["github-token"]
    for limit in range(20, 60):
        shown = plain(f"Rotate the key {secret} now", limit)
        assert secret[:8] not in shown or secret in shown.replace("\\", "")


# --- the CLI: every key it could use is a run secret --------------------------------------------------------


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


KEY = "key-under-test-" + rnd(32, ALNUM, seed="cli")
OTHER = {"OPENAI_API_KEY": "sk-o-" + rnd(30)}
CASES = {
    "QODO_API_KEY": ([], {"QODO_API_KEY": KEY}),
    "--api-key": (["--api-key", KEY], {}),
    "OPENAI_API_KEY": ([], {"OPENAI_API_KEY": KEY}),
    "ANTHROPIC_API_KEY (openai provider chosen)": ([], {"ANTHROPIC_API_KEY": KEY, **OTHER}),
    "--fallback-api-key": (["--fallback-api-key", KEY, "--fallback-model", "m2"], OTHER),
    "QODO_FALLBACK_API_KEY": (["--fallback-model", "m2"], {"QODO_FALLBACK_API_KEY": KEY, **OTHER}),
}


@pytest.mark.parametrize("echo", ["provider error", "model answer"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_cli_never_prints_a_key_it_could_use(
    tmp_path: Path, llm: FakeLLM, case: str, echo: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args, env = CASES[case]
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    said = f"Incorrect API key provided: {KEY}. Escaped: {plain(KEY)} base64-free."
    answer = {
        "summary": said,
        "findings": [
            {
                "path": "app/users.py",
                "line": 12,
                "end_line": 12,
                "side": "RIGHT",
                "severity": "low",
                "category": "security",
                "title": f"Key {KEY}",
                "body": said,
            }
        ],
    }
    for _ in range(8):
        if echo == "provider error":
            llm.enqueue(status=401, json=openai_error(said, code="invalid_api_key"))
        else:
            llm.enqueue(json=chat_completion(json.dumps(answer)))
    for fmt in ("markdown", "json"):
        out = io.StringIO()
        cli.main(
            [
                "review",
                "--diff",
                str(diff),
                "--provider",
                "openai",
                "--base-url",
                f"{llm.url}/v1",
                "--format",
                fmt,
                *args,
            ],
            env=env,
            stdout=out,
        )
        captured = capsys.readouterr()
        assert_no_leak(KEY, out.getvalue(), captured.out, captured.err)
    assert sys.stderr is not None
