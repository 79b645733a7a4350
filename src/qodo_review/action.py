"""The GitHub Action: environment in, exit code out. The only module that reads os.environ.

main() builds the values (inputs, event, clients) and turns errors into exit codes; run() is the
pipeline: event -> PR -> config (base branch) -> diff -> review -> publish -> outputs.
"""

from __future__ import annotations

import os
import secrets
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from .config import merge, parse_config_text
from .diff import RawFile, raw_files_from_api, split_diff
from .errors import ExitCode, PermissionDenied, QodoError, UsageError
from .event import Activity, find_activity, load_event
from .github import GitHub
from .inputs import Inputs, parse_inputs
from .models import PullRequest
from .output import Out, write_json
from .providers import ProviderSettings, make_provider, resolve_settings
from .publish import Context, Publisher, publish_all
from .publish.check import CheckRun, start_check
from .publish.comment import SummaryComment
from .publish.inline import InlineReview
from .redact import Redactor
from .render import summary_markdown
from .review import Report, review_diff

TRUSTED_PERMISSIONS = ("admin", "maintain", "write")
PERMISSIONS_YAML = "permissions:\n  contents: read\n  pull-requests: write\n  checks: write"


@dataclass
class Env:
    """The GitHub environment of a container action, read once."""

    event_name: str
    event_path: str
    repository: str
    api_url: str
    server_url: str
    workspace: str


def read_env(env: Mapping[str, str]) -> Env:
    return Env(
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        event_path=env.get("GITHUB_EVENT_PATH", ""),
        repository=env.get("GITHUB_REPOSITORY", ""),
        api_url=(env.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
        workspace=env.get("GITHUB_WORKSPACE") or os.getcwd(),
    )


def main(env: Mapping[str, str] | None = None, stream: IO[str] | None = None) -> int:
    env = os.environ if env is None else env
    stream = sys.stdout if stream is None else stream
    redactor = Redactor(run_secrets=[env.get("QODO_API_KEY", ""), env.get("QODO_GITHUB_TOKEN", "")])
    out = Out(stream, redactor, env.get("GITHUB_STEP_SUMMARY", ""), env.get("GITHUB_OUTPUT", ""),
              in_actions=env.get("GITHUB_ACTIONS") == "true")
    out.mask(env.get("QODO_API_KEY", ""))
    try:
        inputs = parse_inputs(env)
        return int(run(read_env(env), inputs, out, redactor))
    except QodoError as exc:
        return int(die(out, exc))
    except Exception as exc:  # a bug of ours: say so plainly, with a redacted trace for the report
        out.error(f"qodo-review hit an internal error ({type(exc).__name__}). Please report it with this log.")
        out.log(redactor.redact("".join(traceback.format_exception(exc))))
        out.summary(f"## qodo-review\n\n⚠️ Internal error ({type(exc).__name__}); the review did not complete.")
        return int(ExitCode.INCOMPLETE)


def die(out: Out, exc: QodoError) -> ExitCode:
    """One place that reports a failure: the annotation, the job summary, the exit code."""
    out.error(str(exc))
    kind = "Configuration problem" if exc.exit_code is ExitCode.USAGE else "The review could not be completed"
    out.summary(f"## qodo-review\n\n❌ **{kind}**\n\n{exc}")
    out.outputs({"verdict": "fail", "findings": "0", "max_severity": "none"})
    return exc.exit_code


def run(env: Env, inputs: Inputs, out: Out, redactor: Redactor) -> ExitCode:
    activity = _activity(env, inputs)
    if activity.kind == "skip":
        out.notice(activity.reason)
        return ExitCode.OK
    if not inputs.github_token:
        raise UsageError("Input 'github-token' is empty; keep the default (${{ github.token }}) or pass a token.")
    if not env.repository or "/" not in env.repository:
        raise UsageError("GITHUB_REPOSITORY is not set; run this inside GitHub Actions or use the CLI.")
    github = GitHub(inputs.github_token, env.api_url, env.repository)
    assert activity.pr_number is not None
    if activity.commenter and not _authorized(github, activity, out):
        return ExitCode.OK
    if activity.kind == "reject":
        _reply(github, activity, f"⚠️ {activity.reason}", out)
        return ExitCode.OK
    if activity.comment_id:
        _react(github, activity, out)
    pr = github.get_pull(activity.pr_number)
    if reason := _skip_reason(pr, activity):
        out.notice(reason)
        out.summary(f"## qodo-review\n\n{reason}")
        return ExitCode.OK
    config_text = github.get_text(inputs.config_path, pr.base_sha)
    file_overrides = parse_config_text(config_text, f"{inputs.config_path} (base branch)") if config_text else {}
    config = merge(file_overrides, inputs.overrides)
    if not config.auto_review and activity.action in ("opened", "synchronize", "reopened", "ready_for_review"):
        out.notice("Auto-review is off in .qodo.yml (auto-review: false); use /review to ask for one.")
        return ExitCode.OK
    redactor.add_allowlist(config.allow_secrets) if hasattr(redactor, "add_allowlist") else None
    settings = resolve_settings(inputs.provider, inputs.api_key, config.model, inputs.base_url)
    if not inputs.api_key and not inputs.dry_run:
        return _no_key(pr, env, config.fail_on is not None, out)
    raw_files = _fetch_diff(github, pr.number)
    channels = config.publish if not inputs.dry_run else frozenset()
    ctx = Context(github, Report(pr=pr), _host(env.server_url), redactor, max_inline=config.max_findings or 30)
    if "check" in channels:
        _try(lambda: start_check(ctx), out, "check")
    provider = None if inputs.dry_run else make_provider(settings)
    report = review_diff(pr, raw_files, config, provider=provider, redactor=redactor, nonce=secrets.token_hex(8),
                         provider_host=settings.host, model=settings.model)
    ctx.report = report
    if inputs.dry_run:
        _print_dry_run(report, settings, out)
    publish_all(_publishers(channels), ctx, out.log)
    _finish(report, ctx, env, inputs, out, redactor, "summary" in config.publish or inputs.dry_run)
    return _exit_code(report)


def _activity(env: Env, inputs: Inputs) -> Activity:
    if not env.event_path:
        if inputs.pr_number is None:
            raise UsageError("GITHUB_EVENT_PATH is not set: run this action in a GitHub workflow, or set "
                             "the 'pr-number' input.")
        return Activity("review", pr_number=inputs.pr_number, action="dispatch")
    try:
        with open(env.event_path, encoding="utf-8", errors="replace") as fh:
            text = fh.read(20_000_000)
    except OSError as exc:
        from .errors import EventError

        raise EventError(f"The event file {env.event_path} cannot be read ({exc.strerror}).") from None
    payload = load_event(text, env.event_path)
    activity = find_activity(env.event_name, payload, inputs.pr_number)
    if activity.kind == "review" and activity.action != "comment" and inputs.command != "review":
        from dataclasses import replace

        activity = replace(activity, command=inputs.command, args=inputs.command_args)
    return activity


def _skip_reason(pr: PullRequest, activity: Activity) -> str:
    if pr.state != "open":
        return f"Pull request #{pr.number} is {pr.state}; nothing to review."
    return ""


def _authorized(github: GitHub, activity: Activity, out: Out) -> bool:
    """Only people with write access may make the action spend the owner's key. Any error denies."""
    try:
        permission = github.get_permission(activity.commenter)
    except QodoError:
        permission = "unknown"
    if permission in TRUSTED_PERMISSIONS:
        return True
    out.notice(f"Ignoring a command from {activity.commenter}: only collaborators with write access may run it.")
    return False


def _reply(github: GitHub, activity: Activity, text: str, out: Out) -> None:
    try:
        github.create_issue_comment(activity.pr_number or 0, out.redactor.redact(text))
    except QodoError as exc:
        out.warning(f"Could not reply: {exc}")


def _react(github: GitHub, activity: Activity, out: Out) -> None:
    try:
        github.add_reaction(activity.comment_id or 0, "eyes", review_comment=activity.review_comment)
    except QodoError as exc:
        out.log(f"Could not add the 👀 reaction: {exc}")


def _fetch_diff(github: GitHub, number: int) -> list[RawFile]:
    text = github.get_diff(number)
    if text is not None:
        return split_diff(text)
    return raw_files_from_api(github.list_files(number))


def _publishers(channels: frozenset[str]) -> list[Publisher]:
    out: list[Publisher] = []
    if "inline" in channels:
        out.append(InlineReview())
    if "comment" in channels:
        out.append(SummaryComment(lambda ctx: summary_markdown(ctx.report, ctx.host, extra=_moved(ctx))))
    if "check" in channels:
        out.append(CheckRun())
    return out


def _moved(ctx: Context) -> list[str]:
    from .render import outside_section

    if not ctx.moved_to_summary:
        return []
    return [outside_section(ctx.moved_to_summary, ctx.host).replace(
        "### Findings outside the diff", "### Findings not posted inline")]


def _host(server_url: str) -> str:
    return urlsplit(server_url).netloc or "github.com"


def _try(action: Any, out: Out, name: str) -> None:
    try:
        action()
    except PermissionDenied as exc:
        out.warning(f"{name}: {exc}")
    except QodoError as exc:
        out.warning(f"{name}: {exc}")


def _no_key(pr: PullRequest, env: Env, gate: bool, out: Out) -> ExitCode:
    if pr.is_fork and env.event_name == "pull_request":
        text = ("This pull request comes from a fork, and GitHub gives fork PRs no secrets under "
                "`pull_request`, so there is no API key. Safe options: a maintainer comments `/review` "
                "(the issue_comment workflow runs with the base repository's secrets), or run on "
                "`pull_request_target` without checking out the PR's code (qodo-review reads it only through the API).")
        out.warning(text)
        out.summary(f"## qodo-review\n\n⚠️ Not reviewed.\n\n{text}")
        out.outputs({"verdict": "fail" if gate else "pass", "findings": "0", "max_severity": "none"})
        return ExitCode.GATE if gate else ExitCode.OK
    raise UsageError("Input 'api-key' is empty. Add your provider key as a repository secret and pass it: "
                     "with: api-key: ${{ secrets.OPENAI_API_KEY }} (or set dry-run: true to see what would be sent).")


def _print_dry_run(report: Report, settings: ProviderSettings, out: Out) -> None:
    out.log(f"Dry run: nothing is sent. {len(report.prompts)} call(s) would go to {settings.host} ({settings.model}).")
    for i, prompt in enumerate(report.prompts, 1):
        out.log(f"----- call {i}: system -----\n{prompt.system}\n----- call {i}: user -----\n{prompt.user}")


def _finish(report: Report, ctx: Context, env: Env, inputs: Inputs, out: Out, redactor: Redactor,
            job_summary: bool) -> None:
    path = os.path.join(env.workspace, inputs.findings_file)
    write_json(path, findings_document(report, ctx), redactor)
    delivery = ["### Delivery\n" + "\n".join(f"- {line}" for line in ctx.delivery)] if ctx.delivery else []
    if job_summary:
        out.summary(summary_markdown(report, ctx.host, job=True, extra=[*_moved(ctx), *delivery]))
    for error in report.errors:
        out.error(error)
    worst = report.max_severity
    out.outputs({"findings": str(len(report.findings)), "max_severity": worst.value if worst else "none",
                 "verdict": report.verdict, "findings_file": path, "tokens_in": str(report.usage.tokens_in),
                 "tokens_out": str(report.usage.tokens_out), "complete": str(report.complete).lower()})
    out.log(f"qodo-review: {report.verdict}; {len(report.findings)} findings; "
            f"{'complete' if report.complete else 'INCOMPLETE'}.")


def findings_document(report: Report, ctx: Context) -> dict[str, Any]:
    worst = report.max_severity
    return {
        "summary": report.summary,
        "verdict": report.verdict,
        "complete": report.complete,
        "max_severity": worst.value if worst else "none",
        "findings": [f.to_json() for f in report.findings],
        "not_inline": [{"finding": f.to_json(), "reason": why}
                       for f, why in [*report.placed.outside, *ctx.moved_to_summary]],
        "skipped": [{"path": s.path, "reason": s.reason, "lines": s.lines, "kind": s.kind} for s in report.skipped],
        "errors": report.errors,
        "usage": {"calls": report.usage.calls, "tokens_in": report.usage.tokens_in,
                  "tokens_out": report.usage.tokens_out},
    }


def _exit_code(report: Report) -> ExitCode:
    """3 when a part of the review failed (never a pass), 1 when the gate is met, else 0."""
    if report.errors and not report.dry_run:
        return ExitCode.INCOMPLETE
    if report.verdict == "fail":
        return ExitCode.GATE
    return ExitCode.OK
