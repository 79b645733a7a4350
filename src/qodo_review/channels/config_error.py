"""An invalid .qodo.yml on a pull request fails closed where people look: the `qodo-review` check run is
concluded as failure with the error, and one comment says what to fix. The comment is found again by its
hidden marker (our own comments only), edited in place while the error lasts, and edited to say it is
fixed by the first run that finds the config valid.

The error quotes the repository's file (its keys, its values, YAML's excerpt): it is posted inside a code
block that it cannot close, redacted, and cut to size, like any other text we post.
"""

from __future__ import annotations

from ..errors import GitHubError
from ..github import GitHub
from ..limits import CHECK_TEXT_MAX
from ..models import PullRequest
from ..output import Out
from ..redact import Redactor
from ..sanitize import fence, inline_code
from .check import CHECK_NAME
from .comment import find_marked, upsert_marked

CONFIG_MARKER = "<!-- qodo-review:config -->"
FIXED_MARK = "<!-- qodo-review:config-fixed -->"
MAX_ERROR_CHARS = 4_000  # a config error is a sentence or two; YAML's excerpt and the key list fit


def error_markdown(config_path: str, error: str) -> str:
    """The comment (and check run summary) for an invalid config: what is wrong, and what to do."""
    shown = error if len(error) <= MAX_ERROR_CHARS else error[:MAX_ERROR_CHARS] + " …"
    return (
        f"{CONFIG_MARKER}\n## qodo-review: the configuration is invalid\n\n"
        f"❌ {inline_code(config_path)} on the base branch could not be used, so this pull request was not "
        "reviewed and the `qodo-review` check fails (the file may set the gate, so a broken one never passes):\n\n"
        f"{fence(shown)}\n\n"
        f"Fix {inline_code(config_path)} on the base branch (or delete it to use the defaults); the next run "
        "reviews the pull request and marks this comment fixed. The keys are listed in the README's "
        "`.qodo.yml` section."
    )


def fixed_markdown(config_path: str, head_sha: str) -> str:
    return (
        f"{CONFIG_MARKER}\n{FIXED_MARK}\n## qodo-review: the configuration is fixed\n\n"
        f"✅ {inline_code(config_path)} on the base branch is valid again (checked at {inline_code(head_sha[:7])}); "
        "reviews run as configured."
    )


def report_invalid(
    github: GitHub,
    pr: PullRequest,
    config_path: str,
    error: str,
    *,
    publish: frozenset[str],
    out: Out,
    redactor: Redactor,
) -> None:
    """The failed check run and the comment; each fails alone (the log and the job summary carry the error
    anyway: action.die)."""
    text = redactor.redact(error_markdown(config_path, error))
    if "check" in publish:
        try:
            run_id = github.create_check_run(
                pr.head_sha,
                CHECK_NAME,
                status="completed",
                conclusion="failure",
                output={"title": f"Invalid {config_path[:200]}", "summary": text[:CHECK_TEXT_MAX]},
            )
            out.log(f"check: check run {run_id}: failure (invalid configuration)")
        except GitHubError as exc:
            out.log(f"check: could not report the invalid configuration: {exc}")
    if "comment" in publish:
        try:
            out.log("comment: " + upsert_marked(github, pr.number, CONFIG_MARKER, text))
        except GitHubError as exc:
            out.log(f"comment: could not report the invalid configuration: {exc}")


def mark_fixed(github: GitHub, pr: PullRequest, config_path: str, out: Out) -> None:
    """A config that is valid now: our comment about an earlier error, if there is one, says it is fixed."""
    try:
        found = find_marked(github, pr.number, CONFIG_MARKER)
        if found is None or FIXED_MARK in found.body:
            return
        github.update_issue_comment(found.id, fixed_markdown(config_path, pr.head_sha))
        out.log(f"comment: the configuration error comment {found.id} now says it is fixed")
    except GitHubError as exc:
        out.log(f"comment: could not mark the configuration error fixed: {exc}")
