"""The GitHub Action: environment in, exit code out. The only module that reads os.environ.

main() builds the values (inputs, event, clients) and turns errors into exit codes; run() is the
pipeline: event -> PR -> config (base branch) -> diff -> review -> publish -> outputs.
"""

from __future__ import annotations

import logging
import os
import secrets
import sys
import tempfile
import traceback
from collections.abc import Mapping
from dataclasses import replace
from typing import IO

from .channels.config_error import mark_fixed, report_invalid
from .channels.reply import refuse
from .clock import SYSTEM_CLOCK, Clock
from .cloudenv import neutralise_sdk_env, read_credentials
from .commands import run_command
from .config import PUBLISH_CHANNELS, ReviewConfig, merge, parse_config_text
from .cost import cost_cap
from .errors import ConfigError, EventError, ExitCode, GitHubError, QodoError, UsageError
from .event import Activity, find_activity, load_event
from .github import GitHub
from .guidance import with_rule_files
from .inputs import Inputs, parse_inputs
from .models import PullRequest
from .output import Out
from .policy import Decision, decide
from .providers import resolve_fallback, resolve_settings
from .providers.cloud import CLOUD_KINDS, has_credentials, missing_credentials
from .redact import Redactor
from .run import Env, Run, preload_sdk
from .similar import thread_of

TRUSTED_PERMISSIONS = ("admin", "maintain", "write")
PERMISSIONS_YAML = "permissions:\n  contents: read\n  pull-requests: write\n  checks: write"


def read_env(env: Mapping[str, str]) -> Env:
    return Env(
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        event_path=env.get("GITHUB_EVENT_PATH", ""),
        repository=env.get("GITHUB_REPOSITORY", ""),
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        workspace=env.get("GITHUB_WORKSPACE") or os.getcwd(),
        runner_temp=env.get("RUNNER_TEMP", ""),
        sha=env.get("GITHUB_SHA", ""),
    )


def main(env: Mapping[str, str] | None = None, stream: IO[str] | None = None, *, clock: Clock = SYSTEM_CLOCK) -> int:
    """The action's one error boundary. Tests pass env, stream and clock (never through the environment,
    which an earlier workflow step controls)."""
    env = os.environ if env is None else env
    stream = sys.stdout if stream is None else stream
    quiet_sdk_logs()
    use_runner_temp(env.get("RUNNER_TEMP", ""))
    credentials = read_credentials(env)
    neutralise_sdk_env(os.environ)  # after the read: the SDKs see none of what could redirect them
    redactor = Redactor(
        run_secrets=[
            env.get("QODO_API_KEY", ""),
            env.get("QODO_GITHUB_TOKEN", ""),
            env.get("QODO_FALLBACK_API_KEY", ""),
            *credentials.secrets(),
        ]
    )
    out = Out(
        stream,
        redactor,
        env.get("GITHUB_STEP_SUMMARY", ""),
        env.get("GITHUB_OUTPUT", ""),
        in_actions=env.get("GITHUB_ACTIONS") == "true",
    )
    out.mask(env.get("QODO_API_KEY", ""))
    out.mask(env.get("QODO_FALLBACK_API_KEY", ""))
    for secret in credentials.secrets():  # a private key is masked line by line
        for line in secret.splitlines():
            if len(line.strip()) >= 8:
                out.mask(line.strip())
    try:
        inputs = parse_inputs(env)
        return int(run(replace(read_env(env), credentials=credentials), inputs, out, redactor, clock))
    except QodoError as exc:
        return int(die(out, exc))
    except Exception as exc:  # a bug of ours: say so plainly, with a redacted trace for the report
        out.error(f"qodo-review hit an internal error ({type(exc).__name__}). Please report it with this log.")
        out.log(redactor.redact("".join(traceback.format_exception(exc))))
        out.summary(f"## qodo-review\n\n⚠️ Internal error ({type(exc).__name__}); the review did not complete.")
        return int(ExitCode.INCOMPLETE)


def use_runner_temp(path: str) -> None:
    """Temporary files (the empty work tree fetch.py gives git) go under RUNNER_TEMP, which the runner
    empties after every job, not the image's /tmp; each is removed when its `with` block ends anyway.
    Kept as is when RUNNER_TEMP is not a directory this container can see."""
    if path and os.path.isdir(path):
        tempfile.tempdir = path


def quiet_sdk_logs() -> None:
    """The SDKs log request bodies (the diff) at debug level when OPENAI_LOG/ANTHROPIC_LOG say so:
    never in this action, whatever the runner's environment holds."""
    for var in ("OPENAI_LOG", "ANTHROPIC_LOG"):
        os.environ.pop(var, None)
    for name in ("openai", "anthropic", "httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)


def die(out: Out, exc: QodoError) -> ExitCode:
    """One place that reports a failure: the annotation, the job summary, the exit code."""
    out.error(str(exc))
    kind = "Configuration problem" if exc.exit_code is ExitCode.USAGE else "The review could not be completed"
    out.summary(f"## qodo-review\n\n❌ **{kind}**\n\n{exc}")
    out.outputs({"verdict": "fail", "findings": "0", "max_severity": "none"})
    return exc.exit_code


def run(env: Env, inputs: Inputs, out: Out, redactor: Redactor, clock: Clock = SYSTEM_CLOCK) -> ExitCode:
    activity = _activity(env, inputs)
    if activity.kind == "skip":
        out.notice(activity.reason)
        return ExitCode.OK
    github = _client(env, inputs, clock)
    assert activity.pr_number is not None
    authorized = _authorized(github, activity)
    if authorized and activity.kind == "review" and activity.comment_id:
        _react(github, activity, out)
    number = activity.pr_number
    if activity.command == "similar-issue" or activity.plain_issue:  # a plain issue has no pull request
        pr, plain = _issue(github, number, env)
        activity = replace(activity, plain_issue=plain)
    else:
        pr = _pull(github, number, env.repository)
    config = _config_for(github, pr, inputs, authorized, out, redactor)
    decision = decide(activity, pr, config, authorized=authorized)
    if not decision.go:
        return _stand_down(github, activity, decision, out)
    redactor.allow(config.allow_secrets)
    if not inputs.dry_run and "comment" in config.publish:
        mark_fixed(github, pr, inputs.config_path, out)
    if activity.command != "help":  # the team's rule files, from the same base commit as the config
        config = with_rule_files(config, lambda path: github.get_text(path, pr.base_sha))
    settings = resolve_settings(
        inputs.provider,
        inputs.api_key,
        config.model,
        inputs.base_url,
        trust_env=inputs.use_proxy_env,
        cloud=inputs.cloud,
        credentials=env.credentials,
    )
    settings = replace(settings, timeout=config.request_timeout)
    # A local or self-hosted server (Ollama, vLLM, llama.cpp) often needs no key: it is called without one.
    keyed = settings.kind == "openai-compatible" or has_credentials(settings.kind, inputs.api_key, env.credentials)
    # /similar_issue ranks on the runner; its provider steps (opt-in) say so when there is no key.
    if not keyed and not inputs.dry_run and activity.command not in ("help", "similar-issue"):
        return _no_key(pr, env, config.fail_on is not None, out, settings.kind)
    fallback = resolve_fallback(
        settings, inputs.fallback_provider, inputs.fallback_api_key, inputs.fallback_model, inputs.fallback_base_url
    )
    # A cap on a model of unknown price (the primary's or the fallback's): a usage error now, before any fetch.
    cost_cap([settings.model] + ([fallback.model] if fallback else []), config.max_cost, config.prices)
    facts = Run(env, inputs, activity, pr, config, settings, fallback, secrets.token_hex(8), clock)
    if not inputs.dry_run and activity.command not in ("help", "similar-issue"):
        preload_sdk(settings)  # overlaps the SDK's import with the waits on GitHub for the diff
    return run_command(facts, github, out, redactor)


def _pull(github: GitHub, number: int, repository: str) -> PullRequest:
    """The PR; a 404 is the user's to fix: a wrong pr-number, or a token that cannot read the repository."""
    try:
        return github.get_pull(number)
    except GitHubError as exc:
        if exc.status != 404:
            raise
        raise UsageError(
            f"Pull request #{number} was not found in {repository} (HTTP 404). Check the pr-number "
            "input, and that github-token can read this repository."
        ) from None


def _issue(github: GitHub, number: int, env: Env) -> tuple[PullRequest, bool]:
    """/similar_issue's subject, an issue or a pull request, as the run's thread, and whether it is a plain
    issue. Its config is read at the commit the workflow runs from (the default branch for a comment): an
    issue has no base branch."""
    try:
        issue = github.get_issue(number)
    except GitHubError as exc:
        if exc.status not in (404, 410):
            raise
        raise UsageError(
            f"Issue #{number} was not found in {env.repository} (HTTP {exc.status}). Check the issue-number "
            "input, and that github-token can read this repository's issues."
        ) from None
    return replace(thread_of(issue), base_sha=env.sha), not issue.is_pull


def _client(env: Env, inputs: Inputs, clock: Clock) -> GitHub:
    if not inputs.github_token:
        raise UsageError("Input 'github-token' is empty; keep the default (${{ github.token }}) or pass a token.")
    if not env.repository or "/" not in env.repository:
        raise UsageError("GITHUB_REPOSITORY is not set; run this inside GitHub Actions or use the CLI.")
    return GitHub(
        inputs.github_token,
        env.api_url,
        env.repository,
        sleep=clock.sleep,
        clock=clock.now,
        trust_env=inputs.use_proxy_env,
    )


def _config_for(
    github: GitHub, pr: PullRequest, inputs: Inputs, authorized: bool, out: Out, redactor: Redactor
) -> ReviewConfig:
    """The config; for a refused commenter a broken file only costs the defaults, never a failed job. Else an
    invalid file fails closed: the failed check run and the comment that says what to fix (but in a dry run)."""
    try:
        return _load_config(github, pr, inputs)
    except ConfigError as exc:
        if authorized:
            if not inputs.dry_run:
                publish = inputs.overrides.get("publish", frozenset(PUBLISH_CHANNELS))
                report_invalid(github, pr, inputs.config_path, str(exc), publish=publish, out=out, redactor=redactor)
            raise
        out.log(f"Using the default settings to answer a refused command: {exc}")
        return merge({}, inputs.overrides)


def _stand_down(github: GitHub, activity: Activity, decision: Decision, out: Out) -> ExitCode:
    """Not running is a success: say why, answer the commenter when the policy says so."""
    out.notice(decision.notice)
    if decision.reply:
        refuse(github, activity, decision.reply, out)
    out.summary(f"## qodo-review\n\n{decision.notice}")
    return ExitCode.OK


def _load_config(github: GitHub, pr: PullRequest, inputs: Inputs) -> ReviewConfig:
    """The PR's base commit holds the config: a PR cannot reconfigure its own reviewer."""
    text = github.get_text(inputs.config_path, pr.base_sha)
    file_overrides = parse_config_text(text, f"{inputs.config_path} (base branch)") if text else {}
    return merge(file_overrides, inputs.overrides)


def _activity(env: Env, inputs: Inputs) -> Activity:
    if not env.event_path:
        if inputs.command == "similar-issue" and (inputs.issue_number or inputs.pr_number):
            number = inputs.issue_number or inputs.pr_number
            return Activity("review", pr_number=number, command=inputs.command, action="dispatch")
        if inputs.pr_number is None:
            raise UsageError(
                "GITHUB_EVENT_PATH is not set: run this action in a GitHub workflow, or set the 'pr-number' input."
            )
        return Activity("review", pr_number=inputs.pr_number, action="dispatch")
    try:
        with open(env.event_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(20_000_000)
    except OSError as exc:
        raise EventError(f"The event file {env.event_path} cannot be read ({exc.strerror}).") from None
    payload = load_event(text, env.event_path)
    activity = find_activity(
        env.event_name, payload, inputs.pr_number, command=inputs.command, issue_input=inputs.issue_number
    )
    if activity.kind == "review" and activity.action != "comment" and inputs.command != "review":
        activity = replace(activity, command=inputs.command, args=inputs.command_args)
    return activity


def _authorized(github: GitHub, activity: Activity) -> bool:
    """Only people with write access may make the action spend the owner's key. Any error denies."""
    if not activity.commenter:
        return True
    try:
        permission = github.get_permission(activity.commenter)
    except QodoError:
        permission = "unknown"
    return permission in TRUSTED_PERMISSIONS


def _react(github: GitHub, activity: Activity, out: Out) -> None:
    try:
        github.add_reaction(activity.comment_id or 0, "eyes", review_comment=activity.review_comment)
    except QodoError as exc:
        out.log(f"Could not add the 👀 reaction: {exc}")


def _no_key(pr: PullRequest, env: Env, gate: bool, out: Out, kind: str = "") -> ExitCode:
    if pr.is_fork and env.event_name == "pull_request":
        text = (
            "This pull request comes from a fork, and GitHub gives fork PRs no secrets under "
            "`pull_request`, so there is no API key. Safe options: a maintainer comments `/review` "
            "(the issue_comment workflow runs with the base repository's secrets), or run on "
            "`pull_request_target` without checking out the PR's code (qodo-review reads it only through the API)."
        )
        out.warning(text)
        out.summary(f"## qodo-review\n\n⚠️ Not reviewed.\n\n{text}")
        out.outputs({"verdict": "fail" if gate else "pass", "findings": "0", "max_severity": "none"})
        return ExitCode.GATE if gate else ExitCode.OK
    if kind in CLOUD_KINDS:
        raise UsageError(missing_credentials(kind))
    raise UsageError(
        "Input 'api-key' is empty. Add your provider key as a repository secret and pass it: "
        "with: api-key: ${{ secrets.OPENAI_API_KEY }} (or set dry-run: true to see what would be sent)."
    )
