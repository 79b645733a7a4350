"""The trigger policy: which runs review, which stay quiet, and which answer the commenter."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from qodo_review.config import ReviewConfig
from qodo_review.event import Activity
from qodo_review.models import PullRequest
from qodo_review.policy import REPLY_MARKER, UNAUTHORIZED_REPLY, decide, is_bot

PR = PullRequest(number=7, title="t", body="", base_sha="b" * 40, head_sha="c" * 40, author="alice")
AUTO = Activity("review", pr_number=7, action="opened")
COMMAND = Activity("review", pr_number=7, command="review", comment_id=5, commenter="bob", action="comment")
DISPATCH = Activity("review", pr_number=7, action="dispatch")


@pytest.mark.parametrize(
    ("activity", "pr", "config", "go", "notice"),
    [
        (AUTO, PR, ReviewConfig(), True, ""),
        (replace(AUTO, action="synchronize"), replace(PR, draft=True), ReviewConfig(), False, "is a draft"),
        (replace(AUTO, action="opened"), replace(PR, draft=True), ReviewConfig(review_drafts=True), True, ""),
        (replace(AUTO, action="ready_for_review"), PR, ReviewConfig(), True, ""),
        (AUTO, replace(PR, author="dependabot[bot]"), ReviewConfig(), False, "opened by dependabot[bot]"),
        (AUTO, replace(PR, author="renovate[bot]"), ReviewConfig(), False, "from bots"),
        (AUTO, replace(PR, author="some-app[bot]"), ReviewConfig(review_bots=True), True, ""),
        (AUTO, PR, ReviewConfig(auto_review=False), False, "auto-review: false"),
        (replace(AUTO, action="reopened"), replace(PR, state="closed"), ReviewConfig(), False, "is closed"),
        # someone asked explicitly: drafts, bots and auto-review: false do not stop a command or a dispatch
        (COMMAND, replace(PR, draft=True, author="dependabot[bot]"), ReviewConfig(auto_review=False), True, ""),
        (DISPATCH, replace(PR, draft=True, author="renovate[bot]"), ReviewConfig(auto_review=False), True, ""),
        (COMMAND, replace(PR, state="closed"), ReviewConfig(), False, "is closed"),
    ],
)
def test_trigger_policy(activity: Activity, pr: PullRequest, config: ReviewConfig, go: bool, notice: str) -> None:
    decision = decide(activity, pr, config, authorized=True)
    assert decision.go is go and notice in decision.notice and decision.reply == ""


def test_unauthorized_commenter_gets_one_polite_reply() -> None:
    decision = decide(COMMAND, PR, ReviewConfig(), authorized=False)
    assert not decision.go
    assert decision.reply == f"{REPLY_MARKER}\n{UNAUTHORIZED_REPLY}"
    assert decision.notice == "Ignoring a command from bob: only collaborators with write access may run it."


def test_unauthorized_reply_can_be_turned_off() -> None:
    decision = decide(COMMAND, PR, ReviewConfig(unauthorized_reply=False), authorized=False)
    assert (decision.go, decision.reply) == (False, "") and "bob" in decision.notice


def test_refused_command_reply_escapes_the_commenters_text() -> None:
    reject = Activity(
        "reject",
        reason="/review does not take arguments ('@everyone <img src=x>'). Try /help.",
        pr_number=7,
        comment_id=5,
        commenter="bob",
    )
    decision = decide(reject, PR, ReviewConfig(), authorized=True)
    assert not decision.go and decision.reply.startswith(REPLY_MARKER + "\n⚠️ ")
    assert re.search(r"(?<!\\)<img", decision.reply) is None and "@everyone" not in decision.reply
    assert decide(reject, PR, ReviewConfig(unauthorized_reply=False), authorized=True).reply == ""


def test_unauthorized_wins_over_a_refused_command() -> None:
    reject = Activity("reject", reason="/review does not take arguments", pr_number=7, commenter="mallory")
    assert decide(reject, PR, ReviewConfig(), authorized=False).reply.endswith(UNAUTHORIZED_REPLY)


@pytest.mark.parametrize(
    ("login", "bot"),
    [
        ("dependabot[bot]", True),
        ("renovate[bot]", True),
        ("github-actions[bot]", True),
        ("My-App[BOT]", True),
        ("alice", False),
        ("bot", False),
        ("robot-[bot]x", False),
        ("", False),
    ],
)
def test_is_bot(login: str, bot: bool) -> None:
    assert is_bot(login) is bot
