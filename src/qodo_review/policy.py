"""Whether a run reviews, stays quiet or answers the commenter: one pure function of event, PR and config.

Decided after the PR and its base-branch config are known, because `.qodo.yml` may turn auto-review,
drafts, bots and the reply to refused commands on or off.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import ReviewConfig
from .event import PR_ACTIONS, Activity
from .models import PullRequest
from .sanitize import HIDDEN_MARKER_PREFIX

# Every comment the action writes starts with a hidden marker, so it never reads its own words as a command.
REPLY_MARKER = f"{HIDDEN_MARKER_PREFIX}:reply -->"
# A refused command's reply is fixed text: it never quotes the comment, so nothing the commenter wrote (a token
# pasted by mistake, a mention, markup) is repeated on the PR. The log notice keeps the reason, redacted.
REJECTED_REPLY = (
    "⚠️ qodo-review did not run this command: it does not take arguments, or `/ask` was given no "
    "question. Comment `/help` for the commands and what they accept."
)
UNAUTHORIZED_REPLY = (
    "Thanks for asking! Only collaborators with write access can run qodo-review commands "
    "in this repository, so nothing was run. A maintainer can run it for you."
)


@dataclass(frozen=True)
class Decision:
    """go: run the command. Otherwise `notice` says why in the log and `reply`, if any, goes on the PR."""

    go: bool
    notice: str = ""
    reply: str = ""


def is_bot(login: str) -> bool:
    """GitHub Apps (dependabot[bot], renovate[bot], …) act as `<app>[bot]`, a name no person can register."""
    return login.lower().endswith("[bot]")


def decide(activity: Activity, pr: PullRequest, config: ReviewConfig, *, authorized: bool) -> Decision:
    """The trigger policy. `authorized` is the commenter's write access (True when no one commented)."""
    if activity.commenter and not authorized:
        return _refuse(
            f"Ignoring a command from {activity.commenter}: only collaborators with write access may run it.",
            UNAUTHORIZED_REPLY,
            config,
        )
    if activity.kind == "reject":
        return _refuse(f"Refused command: {activity.reason}", REJECTED_REPLY, config)
    if activity.command == "similar-issue":  # asked by name, on an issue or a PR, open or closed
        return Decision(True)
    if pr.state != "open":
        return Decision(False, f"Pull request #{pr.number} is {pr.state}; nothing to review.")
    if activity.action not in PR_ACTIONS:  # a command or a dispatch: someone asked explicitly
        return Decision(True)
    if not config.auto_review:
        return Decision(False, "Auto-review is off in .qodo.yml (auto-review: false); comment /review to ask for one.")
    if pr.draft and not config.review_drafts:
        return Decision(
            False,
            f"Pull request #{pr.number} is a draft: it is reviewed once it is marked ready "
            "for review (or set review-drafts: true in .qodo.yml, or comment /review).",
        )
    if is_bot(pr.author) and not config.review_bots:
        return Decision(
            False,
            f"Pull request #{pr.number} was opened by {pr.author}: pull requests from bots "
            "are not reviewed automatically (set review-bots: true in .qodo.yml, or comment "
            "/review).",
        )
    return Decision(True)


def _refuse(notice: str, reply: str, config: ReviewConfig) -> Decision:
    return Decision(False, notice, f"{REPLY_MARKER}\n{reply}" if config.unauthorized_reply else "")
