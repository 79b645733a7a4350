"""The review configuration: defaults < the base branch's .qodo.yml < the workflow's inputs.

Only settings about *what* to review live here. Where data goes and how it is protected
(provider, base-url, keys) are trusted workflow inputs only (see inputs.py): a PR cannot
reach them, and .qodo.yml cannot name them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import yaml

from .errors import ConfigError
from .models import Severity

# A config file is a handful of lines; anything bigger is a mistake or an attack (YAML bombs).
MAX_CONFIG_BYTES = 64 * 1024
PUBLISH_CHANNELS = ("inline", "comment", "summary", "check")
FAIL_ON_VALUES = ("none", "critical", "high", "medium", "low", "info")
# Keys that decide where data goes or how it is protected: workflow inputs only, never .qodo.yml.
TRUSTED_ONLY_KEYS = ("provider", "base-url", "api-key", "github-token", "redact", "redaction")


@dataclass(frozen=True)
class ReviewConfig:
    model: str = ""
    fail_on: Severity | None = None
    publish: frozenset[str] = frozenset(PUBLISH_CHANNELS)
    ignore: tuple[str, ...] = ()
    instructions: str = ""
    max_findings: int = 30
    language: str = "English"
    max_input_tokens: int | None = None
    max_calls: int = 8
    parallel_calls: int = 4
    auto_review: bool = True
    review_drafts: bool = False
    review_bots: bool = False
    unauthorized_reply: bool = True
    allow_secrets: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    max_suggestions: int = 10
    # Accept a gated review that could not show some content for a reason the PR controls (binary source,
    # generated marker, long lines, built-in ignores of code, unverified files): coverage.py. A .qodo.yml
    # key only (read from the base branch), never an input: never a failed call, max-calls or a cost cap.
    allow_partial: bool = False
    related_code_lines: int = 800  # lines of related code per model call (context/); 0 sends none
    extra: Mapping[str, Any] = field(default_factory=dict)


def _fail_on(value: object) -> Severity | None:
    text = str(value).strip().lower()
    if text not in FAIL_ON_VALUES:
        raise ValueError(f"must be one of {', '.join(FAIL_ON_VALUES)}")
    return None if text == "none" else Severity(text)


def _publish(value: object) -> frozenset[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    chosen = {str(v).strip().lower() for v in items if str(v).strip()}
    bad = sorted(chosen - set(PUBLISH_CHANNELS))
    if bad:
        raise ValueError(f"unknown channel {bad[0]!r}; use a comma list of {', '.join(PUBLISH_CHANNELS)}")
    return frozenset(chosen)


def _str_list(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", "\n").splitlines()]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _text(value: object) -> str:
    if not isinstance(value, str | int | float):
        raise ValueError("must be a string")
    return str(value)


def _bounded_int(low: int, high: int) -> Callable[[object], int]:
    def convert(value: object) -> int:
        if isinstance(value, bool):
            raise ValueError("must be a whole number")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("must be a whole number") from None
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return convert


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be true or false")


# kebab-case key -> (dataclass field, converter). The same names are the action's inputs.
KEYS: dict[str, tuple[str, Callable[[object], Any]]] = {
    "model": ("model", _text),
    "fail-on": ("fail_on", _fail_on),
    "publish": ("publish", _publish),
    "ignore": ("ignore", _str_list),
    "instructions": ("instructions", _text),
    "max-findings": ("max_findings", _bounded_int(0, 500)),
    "language": ("language", _text),
    "max-input-tokens": ("max_input_tokens", _bounded_int(1000, 10_000_000)),
    "max-calls": ("max_calls", _bounded_int(1, 200)),
    "parallel-calls": ("parallel_calls", _bounded_int(1, 32)),
    "auto-review": ("auto_review", _bool),
    "review-drafts": ("review_drafts", _bool),
    "review-bots": ("review_bots", _bool),
    "unauthorized-reply": ("unauthorized_reply", _bool),
    "allow-secrets": ("allow_secrets", _str_list),
    "labels": ("labels", _str_list),
    "max-suggestions": ("max_suggestions", _bounded_int(0, 100)),
    "allow-partial": ("allow_partial", _bool),
    "related-code-lines": ("related_code_lines", _bounded_int(0, 5000)),
}
assert {f for f, _ in KEYS.values()} <= {f.name for f in fields(ReviewConfig)}


class _PlainLoader(yaml.SafeLoader):
    """yaml.safe_load, minus aliases and duplicate keys: a review config needs neither, `*alias` trees are how
    YAML bombs grow (a few hundred bytes that expand to billions of nodes), and a repeated key silently wins."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in a review config "
                "(they are how YAML bombs grow); write the value out",
                mark,
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key '{key}' appears twice; keep one", key_node.start_mark
                )
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_config_text(text: str, source: str) -> dict[str, Any]:
    """Validate a .qodo.yml document; return field overrides. Errors name the key and the file."""
    if len(text.encode("utf-8", "replace")) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source} is larger than {MAX_CONFIG_BYTES // 1024} KB; a review config is a few lines.")
    try:
        data = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader, without aliases
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        problem = str(getattr(exc, "problem", None) or exc)
        if "constructor for the tag" in problem:  # !!python/object and friends: valid YAML, never allowed
            tag = problem.rsplit("tag:yaml.org,2002:", 1)[-1].rstrip("'")
            raise ConfigError(
                f"{source}{at} uses the YAML tag !!{tag}, which a review config may not use: "
                "write plain values (text, numbers, lists)."
            ) from None
        if "aliases" in problem or "appears twice" in problem:  # valid YAML that _PlainLoader refuses
            raise ConfigError(f"{source}{at}: {problem}.") from None
        raise ConfigError(
            f"{source} is not valid YAML{at}: {problem}. Fix the syntax or delete the file to use the defaults."
        ) from None
    except RecursionError:
        raise ConfigError(f"{source} nests too deeply to be a review config.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source} must be a mapping of keys to values (like 'fail-on: high'), not a {type(data).__name__}."
        )
    return convert_settings(data, source, is_file=True)


def convert_settings(data: Mapping[Any, Any], source: str, *, is_file: bool) -> dict[str, Any]:
    """Check keys and types; return {field name: value}."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key)
        if is_file and name in TRUSTED_ONLY_KEYS:
            raise ConfigError(
                f"{source}: key '{name}' is not allowed here. Where code is sent and how it is "
                f"protected is set only by the workflow's inputs (with: {name}: ...)."
            )
        if name not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(f"{source}: unknown key '{name}'. Known keys: {known}.")
        attr, convert = KEYS[name]
        try:
            out[attr] = convert(value)
        except ValueError as exc:
            shown = str(value)[:60]
            raise ConfigError(f"{source}: '{name}' {exc} (got {shown!r}).") from None
    return out


def merge(file_overrides: Mapping[str, Any], input_overrides: Mapping[str, Any]) -> ReviewConfig:
    """Defaults, then the base branch's file, then the workflow's inputs."""
    return replace(ReviewConfig(), **{**file_overrides, **input_overrides})
