"""Config: defaults < base branch .qodo.yml < inputs; clear errors naming the key and the file."""

from __future__ import annotations

import pytest

from qodo_review.config import KEYS, PathInstruction, ReviewConfig, merge, parse_config_text
from qodo_review.errors import ConfigError, UsageError
from qodo_review.inputs import parse_inputs
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


# --- the team's rules: path-instructions, repo-rules; did you mean -------------------------------------------

EXAMPLE = (
    'path-instructions:\n  - path: "src/db/**"\n    instructions: Use parameterised queries; flag string-built SQL.'
)


def test_path_instructions_and_repo_rules() -> None:
    text = """
path-instructions:
  - path: "src/db/**"
    instructions: Use parameterised queries.
  - {path: "*.tsx", instructions: "Check hooks rules."}
repo-rules: false
"""
    config = merge(parse_config_text(text, SRC), {})
    assert config.path_instructions == (
        PathInstruction("src/db/**", "Use parameterised queries."),
        PathInstruction("*.tsx", "Check hooks rules."),
    )
    assert config.repo_rules is False and ReviewConfig().repo_rules is True and config.rule_files == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "path-instructions: src/**",
            f"{SRC}: 'path-instructions' must be a list of {{path: glob, instructions: text}} entries, like:\n"
            + EXAMPLE,
        ),
        (
            "path-instructions: [src/**]",
            f"{SRC}: 'path-instructions' entry 1 must be a mapping with 'path' and 'instructions', like:\n" + EXAMPLE,
        ),
        (
            "path-instructions: [{path: a, instructions: b}, {path: c, instruction: d}]",
            f"{SRC}: 'path-instructions' entry 2: unknown key 'instruction'; did you mean 'instructions'? "
            "An entry has 'path' (a glob, like 'ignore') and 'instructions' (text).",
        ),
        (
            "path-instructions: [{path: a, instructions: b, when: c}]",
            f"{SRC}: 'path-instructions' entry 1: unknown key 'when'. "
            "An entry has 'path' (a glob, like 'ignore') and 'instructions' (text).",
        ),
        (
            "path-instructions: [{path: a}]",
            f"{SRC}: 'path-instructions' entry 1 needs 'instructions' as non-empty text "
            "(what to look for in those files).",
        ),
        (
            "path-instructions: [{path: '', instructions: b}]",
            f"{SRC}: 'path-instructions' entry 1 needs 'path' as non-empty text (a glob, like 'src/db/**').",
        ),
        (
            "path-instructions: [{path: [a, b], instructions: b}]",
            f"{SRC}: 'path-instructions' entry 1 needs 'path' as non-empty text (a glob, like 'src/db/**').",
        ),
        ("repo-rules: sometimes", f"{SRC}: 'repo-rules' must be true or false (got 'sometimes')."),
    ],
)
def test_path_instruction_errors_say_the_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, SRC)
    assert str(info.value) == message


# every key, sorted (other issues add keys: the list is the table's, the sentence around it is checked)
KNOWN = f"Known keys: {', '.join(sorted(KEYS))}."
assert KNOWN.startswith("Known keys: allow-partial, allow-secrets, auto-review, fail-on, ignore, ")


@pytest.mark.parametrize(
    ("key", "guess"),
    [
        ("max_findings", "max-findings"),
        ("maxFindings", "max-findings"),
        ("MAX_FINDINGS", "max-findings"),
        ("max-finding", "max-findings"),
        ("lables", "labels"),
        ("failon", "fail-on"),
        ("path_instructions", "path-instructions"),
        ("repo_rules", "repo-rules"),
        ("instruction", "instructions"),
        ("colour", None),
        ("x", None),
    ],
)
def test_did_you_mean(key: str, guess: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(f"{key}: 1", SRC)
    hint = f"; did you mean '{guess}'?" if guess else "."
    assert str(info.value) == f"{SRC}: unknown key '{key}'{hint} {KNOWN}"


def test_a_near_miss_of_a_trusted_key_is_refused_as_one() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text("base_url: https://evil.example", SRC)
    assert str(info.value).startswith(f"{SRC}: key 'base-url' is not allowed here.")


def test_a_long_hostile_key_is_cut_in_the_message() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config_text(f"'@everyone {'x' * 500}': 1", SRC)
    assert str(info.value).startswith(f"{SRC}: unknown key '@everyone {'x' * 50}…'. Known keys:")


@pytest.mark.parametrize(
    ("var", "message"),
    [
        ("INPUT_FAIL_ON", "Input 'fail_on' is not an input of qodo-review; did you mean 'fail-on'?"),
        ("INPUT_API_KEY", "Input 'api_key' is not an input of qodo-review; did you mean 'api-key'?"),
        (
            "INPUT_MAX-FINDINGS",
            "Input 'max-findings' is not an input of qodo-review: 'max-findings' is a .qodo.yml key; "
            "set it in the base branch's .qodo.yml.",
        ),
    ],
)
def test_a_misspelt_input_says_the_fix(var: str, message: str) -> None:
    """The runner passes every `with:` entry as INPUT_<NAME> and only warns about undeclared ones."""
    with pytest.raises(UsageError) as info:
        parse_inputs({var: "high"})
    assert str(info.value) == message


def test_declared_and_unrelated_inputs_pass() -> None:
    assert parse_inputs({"INPUT_FAIL-ON": "high", "INPUT_GITHUB-TOKEN": "x", "INPUT_SOMETHING-ELSE": "1"})
