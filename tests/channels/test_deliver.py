"""deliver_all: a channel that fails is one delivery line and one log line; the channels after it still
run; a channel that was to carry the result and could not makes the run not delivered."""

from __future__ import annotations

import io
from typing import Any

from qodo_review.channels import Context, Delivery, deliver_all
from qodo_review.commands import COMMANDS
from qodo_review.errors import GitHubError, PermissionDenied
from qodo_review.models import PullRequest
from qodo_review.outcome import Outcome
from qodo_review.output import Out
from qodo_review.redact import Redactor


class Fails:
    def __init__(self, name: str, exc: GitHubError) -> None:
        self.name, self.exc = name, exc

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        raise self.exc


class Says:
    def __init__(self, name: str, line: str, ok: bool = True) -> None:
        self.name, self.line, self.ok = name, line, ok
        self.ran = False

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        self.ran = True
        return Delivery((f"{self.name}: {self.line}",), ok=self.ok)


def _ctx() -> tuple[Context, io.StringIO]:
    stream = io.StringIO()
    redactor = Redactor()
    ctx = Context(facts=None, github=None, out=Out(stream, redactor), redactor=redactor)  # type: ignore[arg-type]
    return ctx, stream


def test_a_failing_channel_is_a_line_and_the_others_still_run() -> None:
    ctx, stream = _ctx()
    last = Says("check", "check run 7: success with 0 annotations")
    channels = [
        Says("inline", "no inline findings"),
        Fails("comment", GitHubError("HTTP 502 from GitHub", 502)),
        Fails("labels", PermissionDenied("HTTP 403: Resource not accessible", 403)),
        last,
    ]
    deliver_all(channels, Outcome(pr=PullRequest(1, "t", "", "a", "b")), ctx)
    assert ctx.delivery == [
        "inline: no inline findings",
        "comment: failed: HTTP 502 from GitHub",
        "labels: not published: HTTP 403: Resource not accessible",
        "check: check run 7: success with 0 annotations",
    ]
    assert last.ran and not ctx.delivered
    assert stream.getvalue().splitlines() == ctx.delivery


def test_a_channel_that_could_not_carry_the_result_makes_it_undelivered() -> None:
    ctx, _ = _ctx()
    deliver_all(
        [Says("reply", "not posted (HTTP 500)", ok=False), Says("summary", "ok")],
        Outcome(pr=PullRequest(1, "t", "", "a", "b")),
        ctx,
    )
    assert not ctx.delivered
    ctx, _ = _ctx()
    deliver_all([Says("reply", "posted comment 3")], Outcome(pr=PullRequest(1, "t", "", "a", "b")), ctx)
    assert ctx.delivered


def test_every_command_is_a_task_and_channels_ending_in_the_findings_file_and_outputs() -> None:
    names = {name: [c.name for c in command.channels] for name, command in COMMANDS.items()}
    assert names == {
        "review": ["inline", "comment", "check", "findings file", "sarif file", "summary", "outputs", "annotations"],
        "describe": ["description", "labels", "findings file", "summary", "outputs"],
        "improve": ["suggestions", "summary comment", "findings file", "summary", "outputs"],
        "ask": ["reply", "findings file", "summary", "outputs"],
        "help": ["reply", "summary"],
        "similar-issue": ["reply", "findings file", "summary", "outputs"],
    }
    # /help calls no model; /similar_issue builds its one optional call (the re-rank) from the issues it read.
    assert all(c.task is not None for n, c in COMMANDS.items() if n not in ("help", "similar-issue"))
