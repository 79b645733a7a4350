"""Config: defaults < base branch .qodo.yml < inputs; clear errors naming the key and the file."""

from __future__ import annotations

import pytest

from qodo_review.config import ReviewConfig, merge, parse_config_text
from qodo_review.errors import ConfigError
from qodo_review.models import Severity

SRC = ".qodo.yml (base branch)"


def test_full_config() -> None:
    text = """
model: gpt-4o
fail-on: high
publish: [inline, summary]
ignore: ["docs/**", "*.generated.ts"]
instructions: Focus on concurrency.
max-findings: 12
language: German
"""
    config = merge(parse_config_text(text, SRC), {})
    assert config.model == "gpt-4o" and config.fail_on is Severity.HIGH
    assert config.publish == frozenset({"inline", "summary"}) and config.ignore == ("docs/**", "*.generated.ts")
    assert (config.max_findings, config.language) == (12, "German")


def test_inputs_override_file() -> None:
    config = merge(parse_config_text("fail-on: high\nmodel: a", SRC), {"model": "b"})
    assert (config.model, config.fail_on) == ("b", Severity.HIGH)


def test_empty_file_is_defaults() -> None:
    assert merge(parse_config_text("", SRC), {}) == ReviewConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fail-on: sometimes", "'fail-on' must be one of none, critical, high, medium, low"),
        ("max-findings: lots", "'max-findings' must be a whole number"),
        ("max-findings: 100000", "'max-findings' must be between 0 and 500"),
        ("publish: inline,email", "'publish' unknown channel 'email'"),
        ("ignore: {a: 1}", "'ignore' must be a list of strings"),
        ("colour: blue", "unknown key 'colour'"),
        ("- a\n- b", "must be a mapping"),
        ("a: [", "is not valid YAML at line"),
        ("base-url: https://evil.example", "key 'base-url' is not allowed here"),
        ("provider: openai", "key 'provider' is not allowed here"),
        ("auto-review: maybe", "'auto-review' must be true or false"),
    ],
)
def test_errors_name_key_and_file(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, SRC)
    assert SRC in str(info.value) and message in str(info.value)


def test_size_cap_and_bombs() -> None:
    with pytest.raises(ConfigError, match="larger than 64 KB"):
        parse_config_text("instructions: " + "x" * 70_000, SRC)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")
    )
    with pytest.raises(ConfigError):
        parse_config_text(bomb, SRC)
    with pytest.raises(ConfigError):
        parse_config_text("!!python/object/apply:os.system ['echo hi']", SRC)
