"""The review configuration: defaults < the base branch's .qodo.yml < the workflow's inputs.

Only settings about *what* to review live here. Where data goes and how it is protected
(provider, base-url, keys) are trusted workflow inputs only (see inputs.py): a PR cannot
reach them, and .qodo.yml cannot name them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import yaml

from .cost import Price, parse_max_cost, parse_prices
from .errors import ConfigError
from .models import Severity

# A config file is a handful of lines; anything bigger is a mistake or an attack (YAML bombs).
MAX_CONFIG_BYTES = 64 * 1024
PUBLISH_CHANNELS = ("inline", "comment", "summary", "check")
FAIL_ON_VALUES = ("none", "critical", "high", "medium", "low", "info")
INLINE_SEVERITY_VALUES = ("critical", "high", "medium", "low", "info")
# request-timeout's bounds: a second is enough to connect to a local server; an hour is a hung one.
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 3600.0
# Keys that decide where data goes or how it is protected: workflow inputs only, never .qodo.yml.
TRUSTED_ONLY_KEYS: tuple[str, ...] = ("provider", "base-url", "api-key", "github-token", "redact", "redaction")
# The cloud providers' endpoint-choosing inputs and credentials: inputs only, like the ones above.
TRUSTED_ONLY_KEYS += ("api-version", "aws-region", "gcp-project", "gcp-region", "gcp-credentials", "azure-ad-token")
PATH_INSTRUCTION_KEYS = ("path", "instructions")
PATH_INSTRUCTIONS_EXAMPLE = (
    'path-instructions:\n  - path: "src/db/**"\n    instructions: Use parameterised queries; flag string-built SQL.'
)


@dataclass(frozen=True)
class PathInstruction:
    """One `path-instructions` entry: text for the model calls that hold a file matching ``path`` (a glob with
    the semantics of `ignore`, select.matches)."""

    path: str
    instructions: str


@dataclass(frozen=True)
class RuleFile:
    """A repository rule file (AGENTS.md, CLAUDE.md …) read from the base branch: never a .qodo.yml key, set
    by the loader (guidance.read_rule_files). ``text`` is bounded; ``chars`` is the whole file's length."""

    path: str
    text: str
    chars: int
    problem: str = ""  # why it could not be read (then nothing of it is sent)

    @property
    def cut(self) -> bool:
        return len(self.text) < self.chars


@dataclass(frozen=True)
class ReviewConfig:
    model: str = ""
    fail_on: Severity | None = None
    publish: frozenset[str] = frozenset(PUBLISH_CHANNELS)
    ignore: tuple[str, ...] = ()
    instructions: str = ""
    # Inline comments per review: ten, because a review with more is skimmed, not read (README, noise control).
    max_findings: int = 10
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
    path_instructions: tuple[PathInstruction, ...] = ()
    repo_rules: bool = True  # read AGENTS.md, CLAUDE.md, .github/copilot-instructions.md from the base branch
    rule_files: tuple[RuleFile, ...] = ()  # what the loader read (not a key): guidance.py
    # Findings below this severity go to the summary only (one at or above fail-on is always inline).
    inline_min_severity: Severity = Severity.MEDIUM
    # /similar_issue (commands/similar.py): matches shown, issues read (newest first), pull requests included,
    # issues whose comments are read (one request each), the embeddings model ("" off), the chat re-rank.
    similar_max: int = 5
    similar_scan: int = 2000
    similar_include_prs: bool = False
    similar_comments: int = 0
    similar_embeddings: str = ""
    similar_rerank: bool = False
    related_code_lines: int = 800  # lines of related code per model call (context/); 0 sends none
    extra: Mapping[str, Any] = field(default_factory=dict)
    # Seconds one model call may take: CPU-served local models need minutes (providers.ProviderSettings).
    request_timeout: float = 120.0
    # Dollars a run may spend on model calls (None: no cap), and prices for models not in cost.PRICES.
    max_cost: float | None = None
    prices: Mapping[str, Price] = field(default_factory=dict)


def _fail_on(value: object) -> Severity | None:
    text = str(value).strip().lower()
    if text not in FAIL_ON_VALUES:
        raise ValueError(f"must be one of {', '.join(FAIL_ON_VALUES)}")
    return None if text == "none" else Severity(text)


def _severity(value: object) -> Severity:
    text = str(value).strip().lower()
    if text not in INLINE_SEVERITY_VALUES:
        raise ValueError(f"must be one of {', '.join(INLINE_SEVERITY_VALUES)}")
    return Severity(text)


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


def _seconds(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds")
    try:
        number = float(str(value).strip().removesuffix("s").strip())
    except ValueError:
        raise ValueError("must be a number of seconds, like 600") from None
    if not MIN_TIMEOUT <= number <= MAX_TIMEOUT:  # nan fails this too
        raise ValueError(f"must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds")
    return number


DEFAULT_EMBEDDINGS_MODEL = "text-embedding-3-small"  # OpenAI's; an OpenAI-compatible server names its own


def _embeddings(value: object) -> str:
    """true (OpenAI's text-embedding-3-small), false, or the name of the endpoint's embeddings model."""
    if isinstance(value, bool):
        return DEFAULT_EMBEDDINGS_MODEL if value else ""
    text = _text(value).strip()
    if text.lower() in ("", "false", "no", "off", "0"):
        return ""
    return DEFAULT_EMBEDDINGS_MODEL if text.lower() in ("true", "yes", "on", "1") else text


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise ValueError("must be true or false")


class Explained(ValueError):
    """A converter's complete message (it names the key and says the fix): shown without the value appended."""


def _path_instructions(value: object) -> tuple[PathInstruction, ...]:
    if not isinstance(value, list):
        raise Explained(
            f"must be a list of {{path: glob, instructions: text}} entries, like:\n{PATH_INSTRUCTIONS_EXAMPLE}"
        )
    out = []
    for number, entry in enumerate(value, 1):
        where = f"entry {number}"
        if not isinstance(entry, dict):
            raise Explained(
                f"{where} must be a mapping with 'path' and 'instructions', like:\n{PATH_INSTRUCTIONS_EXAMPLE}"
            )
        for key in entry:
            if str(key) not in PATH_INSTRUCTION_KEYS:
                raise Explained(
                    f"{where}: unknown key {_shown_key(key)}{did_you_mean(str(key), PATH_INSTRUCTION_KEYS) or '.'} "
                    "An entry has 'path' (a glob, like 'ignore') and 'instructions' (text)."
                )
        texts = {}
        for key in PATH_INSTRUCTION_KEYS:
            item = entry.get(key)
            if not isinstance(item, str | int | float) or isinstance(item, bool) or not str(item).strip():
                what = "a glob, like 'src/db/**'" if key == "path" else "what to look for in those files"
                raise Explained(f"{where} needs '{key}' as non-empty text ({what}).")
            texts[key] = str(item).strip()
        out.append(PathInstruction(texts["path"], texts["instructions"]))
    return tuple(out)


def _shown_key(key: object) -> str:
    """A key from the file, quoted and cut: it is repeated in messages posted on the PR."""
    text = str(key)
    return repr(text[:60] + ("…" if len(text) > 60 else ""))


def kebab_case(name: str) -> str:
    """``max_findings``, ``maxFindings``, ``Max Findings`` -> ``max-findings``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name.strip()).lower().replace("_", "-").replace(" ", "-")


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """The hint "; did you mean 'max-findings'?" for a near miss (``max_findings``, ``maxFindings``,
    ``max-finding``), or "". The name is compared in kebab-case, lower case; difflib's ratio 0.75 keeps
    'lables' -> 'labels' and drops unrelated words."""
    kebab = kebab_case(name)
    if kebab in known and kebab != name:
        return f"; did you mean '{kebab}'?"
    close = difflib.get_close_matches(kebab, known, n=1, cutoff=0.75)
    return f"; did you mean '{close[0]}'?" if close else ""


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
    "path-instructions": ("path_instructions", _path_instructions),
    "repo-rules": ("repo_rules", _bool),
    "inline-min-severity": ("inline_min_severity", _severity),
    "request-timeout": ("request_timeout", _seconds),
    "max-cost": ("max_cost", parse_max_cost),
    "prices": ("prices", parse_prices),
    "similar-max": ("similar_max", _bounded_int(1, 20)),
    "similar-scan": ("similar_scan", _bounded_int(1, 10_000)),
    "similar-include-prs": ("similar_include_prs", _bool),
    "similar-comments": ("similar_comments", _bounded_int(0, 100)),
    "similar-embeddings": ("similar_embeddings", _embeddings),
    "similar-rerank": ("similar_rerank", _bool),
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
        if is_file and kebab_case(name) in TRUSTED_ONLY_KEYS:  # `base_url` is refused like `base-url`
            name = kebab_case(name)
            raise ConfigError(
                f"{source}: key '{name}' is not allowed here. Where code is sent and how it is "
                f"protected is set only by the workflow's inputs (with: {name}: ...)."
            )
        if name not in KEYS:
            known = ", ".join(sorted(KEYS))
            hint = did_you_mean(name, list(KEYS))
            raise ConfigError(f"{source}: unknown key {_shown_key(name)}{hint or '.'} Known keys: {known}.")
        attr, convert = KEYS[name]
        try:
            out[attr] = convert(value)
        except Explained as exc:
            raise ConfigError(f"{source}: '{name}' {exc}") from None
        except ValueError as exc:
            shown = str(value)[:60]
            raise ConfigError(f"{source}: '{name}' {exc} (got {shown!r}).") from None
    return out


def merge(file_overrides: Mapping[str, Any], input_overrides: Mapping[str, Any]) -> ReviewConfig:
    """Defaults, then the base branch's file, then the workflow's inputs."""
    return replace(ReviewConfig(), **{**file_overrides, **input_overrides})
