"""The action's inputs, read once from the environment action.yml sets, into a typed value.

Every input is mapped explicitly under ``runs.env`` in action.yml (QODO_<NAME>); the CLI
builds the same value from its flags. Errors name the input and the fix.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import KEYS, convert_settings, did_you_mean, kebab_case
from .errors import ConfigError, UsageError
from .providers.cloud import CloudInputs

COMMANDS = ("review", "describe", "improve", "ask", "help", "similar-issue")

# input name -> environment variable set in action.yml
INPUT_ENV = {
    "github-token": "QODO_GITHUB_TOKEN",
    "provider": "QODO_PROVIDER",
    "api-key": "QODO_API_KEY",
    "model": "QODO_MODEL",
    "base-url": "QODO_BASE_URL",
    "command": "QODO_COMMAND",
    "config": "QODO_CONFIG",
    "fail-on": "QODO_FAIL_ON",
    "pr-number": "QODO_PR_NUMBER",
    "publish": "QODO_PUBLISH",
    "max-input-tokens": "QODO_MAX_INPUT_TOKENS",
    "max-calls": "QODO_MAX_CALLS",
    "dry-run": "QODO_DRY_RUN",
    "question": "QODO_QUESTION",
    "findings-file": "QODO_FINDINGS_FILE",
    "sarif-file": "QODO_SARIF_FILE",
    "fallback-model": "QODO_FALLBACK_MODEL",
    "fallback-provider": "QODO_FALLBACK_PROVIDER",
    "fallback-api-key": "QODO_FALLBACK_API_KEY",
    "fallback-base-url": "QODO_FALLBACK_BASE_URL",
    "use-proxy-env": "QODO_USE_PROXY_ENV",
    "request-timeout": "QODO_REQUEST_TIMEOUT",
    "max-cost": "QODO_MAX_COST",
    "api-version": "QODO_API_VERSION",
    "model-family": "QODO_MODEL_FAMILY",
    "aws-region": "QODO_AWS_REGION",
    "gcp-project": "QODO_GCP_PROJECT",
    "gcp-region": "QODO_GCP_REGION",
    # Credentials: read by main() with the environment's (providers/cloud.py CloudCredentials), masked first.
    "azure-ad-token": "QODO_AZURE_AD_TOKEN",
    "gcp-credentials": "QODO_GCP_CREDENTIALS",
    "issue-number": "QODO_ISSUE_NUMBER",
}
# inputs that are also .qodo.yml keys: a non-empty input overrides the file
CONFIG_INPUTS = ("model", "fail-on", "publish", "max-input-tokens", "max-calls", "request-timeout", "max-cost")


@dataclass(frozen=True)
class Inputs:
    github_token: str = field(default="", repr=False)
    provider: str = "auto"
    api_key: str = field(default="", repr=False)
    base_url: str = ""
    command: str = "review"
    command_args: str = ""
    config_path: str = ".qodo.yml"
    pr_number: int | None = None
    dry_run: bool = False
    findings_file: str = "qodo-findings.json"
    sarif_file: str = "qodo-review.sarif"  # "" (input "false"): none written
    overrides: Mapping[str, Any] = field(default_factory=dict)
    # The model used when the primary keeps failing (resolved against the primary in providers.resolve_fallback).
    fallback_model: str = ""
    fallback_provider: str = ""
    fallback_api_key: str = field(default="", repr=False)
    fallback_base_url: str = ""
    # Honour HTTP(S)_PROXY, ALL_PROXY, SSL_CERT_FILE/DIR, REQUESTS_CA_BUNDLE: only when the workflow says so.
    use_proxy_env: bool = False
    # The cloud providers' provider-choosing inputs (api-version, model-family, aws-region, gcp-*).
    cloud: CloudInputs = field(default_factory=CloudInputs)
    issue_number: int | None = None  # command similar-issue: the issue (or PR) to find similar issues for


def _bool_input(name: str, value: str) -> bool:
    text = value.strip().lower()
    if text in ("", "false", "no", "0", "off"):
        return False
    if text in ("true", "yes", "1", "on"):
        return True
    raise UsageError(f"Input '{name}' is {value!r}; use true or false.")


def parse_inputs(env: Mapping[str, str]) -> Inputs:
    """Read and validate every input; raise UsageError naming the input on a bad value."""
    _refuse_misspelt_inputs(env)
    raw = {name: env.get(var, "").strip() for name, var in INPUT_ENV.items()}
    command = (raw["command"] or "review").lower()
    if command not in COMMANDS:
        raise UsageError(f"Input 'command' is {raw['command']!r}; use one of {', '.join(COMMANDS)}.")
    pr_number = None
    if raw["pr-number"]:
        if not raw["pr-number"].isdigit() or int(raw["pr-number"]) <= 0:
            raise UsageError(f"Input 'pr-number' is {raw['pr-number']!r}; it must be a pull request number like 42.")
        pr_number = int(raw["pr-number"])
    issue_number = None
    if raw["issue-number"]:
        if not raw["issue-number"].isdigit() or int(raw["issue-number"]) <= 0:
            raise UsageError(f"Input 'issue-number' is {raw['issue-number']!r}; it must be an issue number like 42.")
        issue_number = int(raw["issue-number"])
    settings = {name: raw[name] for name in CONFIG_INPUTS if raw[name]}
    try:
        overrides = convert_settings(settings, "the workflow inputs", is_file=False)
    except ConfigError as exc:
        raise UsageError(str(exc).replace("the workflow inputs: '", "Input '")) from None
    config_path = raw["config"] or ".qodo.yml"
    if config_path.startswith("/") or ".." in config_path.split("/"):
        raise UsageError(f"Input 'config' is {config_path!r}; give a path inside the repository, like .qodo.yml.")
    return Inputs(
        github_token=raw["github-token"],
        provider=raw["provider"] or "auto",
        api_key=raw["api-key"],
        base_url=raw["base-url"],
        command=command,
        command_args=env.get(INPUT_ENV["question"], ""),
        config_path=config_path,
        pr_number=pr_number,
        dry_run=_bool_input("dry-run", raw["dry-run"]),
        findings_file=findings_path(raw["findings-file"]),
        sarif_file=sarif_path(raw["sarif-file"]),
        overrides=overrides,
        fallback_model=raw["fallback-model"],
        fallback_provider=raw["fallback-provider"],
        fallback_api_key=raw["fallback-api-key"],
        fallback_base_url=raw["fallback-base-url"],
        use_proxy_env=_bool_input("use-proxy-env", raw["use-proxy-env"]),
        cloud=CloudInputs(
            api_version=raw["api-version"],
            model_family=raw["model-family"],
            aws_region=raw["aws-region"],
            gcp_project=raw["gcp-project"],
            gcp_region=raw["gcp-region"],
        ),
        issue_number=issue_number,
    )


def _refuse_misspelt_inputs(env: Mapping[str, str]) -> None:
    """The runner passes every `with:` entry as INPUT_<NAME> (upper case, spaces as `_`) and only warns about
    one the action does not declare: `fail_on: high` would silently leave the gate off. A near miss of an
    input, or a .qodo.yml key given as an input, is an error that says the fix; other strays are left to the
    runner's own warning."""
    declared = {name.upper().replace(" ", "_") for name in INPUT_ENV}
    for var in sorted(env):
        if not var.startswith("INPUT_") or var[6:] in declared:
            continue
        name = var[6:].lower()
        hint = did_you_mean(name, list(INPUT_ENV))
        if hint:
            raise UsageError(f"Input '{name[:60]}' is not an input of qodo-review{hint}")
        if kebab_case(name) in KEYS:
            raise UsageError(
                f"Input '{name[:60]}' is not an input of qodo-review: '{kebab_case(name)}' is a .qodo.yml key; "
                "set it in the base branch's .qodo.yml."
            )


def sarif_path(value: str) -> str:
    """The SARIF file's place (input sarif-file), checked like the findings file's; "false" turns it off."""
    if value.lower() == "false":
        return ""
    return findings_path(value or "qodo-review.sarif", name="sarif-file", example="qodo-review.sarif")


def findings_path(value: str, *, name: str = "findings-file", example: str = "qodo-findings.json") -> str:
    """The findings file's place, decided once: a normalised path relative to the workspace. The step
    output is this same relative path, which a later step (whose working directory is the workspace) opens
    as is; the container's own absolute path (/github/workspace/...) would mean nothing there."""
    value = value or "qodo-findings.json"
    path = posixpath.normpath(value)
    if value.startswith("/") or path in (".", "..") or path.startswith("../") or "\0" in value:
        raise UsageError(
            f"Input '{name}' is {value[:200]!r}; give a path relative to the workspace, like "
            f"{example} or reports/{example} (later steps open it from there)."
        )
    return path
