"""/describe: write the PR description into the PR body between hidden markers (a comment when the body
cannot be edited) and add the labels from .qodo.yml that the model chose."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ExitCode, GitHubError
from ..github import GitHub
from ..limits import COMMENT_BODY_MAX, PR_BODY_MAX
from ..models import Skipped
from ..output import Out
from ..publish.comment import upsert_marked
from ..redact import Redactor
from ..run import Run
from ..tasks import describe
from .finish import call_model, finish


def run(facts: Run, github: GitHub, out: Out, redactor: Redactor) -> ExitCode:
    config, host = facts.config, facts.host
    result = call_model(facts, github, out, redactor, describe.spec(config, facts.nonce))
    desc = result.answer
    skipped = result.skipped
    delivery: list[str] = []
    labels: tuple[str, ...] = ()
    delivered = False
    if desc is not None:
        labels = describe.choose_labels(desc.labels, config.labels)
        dropped = [label for label in desc.labels if label.lower() not in {x.lower() for x in labels}]
        if dropped:
            delivery.append(f"labels not in .qodo.yml 'labels:' ignored: {', '.join(dropped)}")
        if not facts.dry_run:
            delivered = publish(facts, github, redactor, desc, labels, skipped, delivery)
            if labels:
                add_labels(facts, github, labels, delivery)
    body = (
        describe.render_section(desc, host, not_shown=skipped, labels=labels, markers=False)
        if desc is not None
        else "No description was written."
    )
    payload = {"description": desc.to_json() if desc else None, "labels_applied": list(labels)}
    return finish(facts, out, redactor, result, payload, body, delivery=delivery, count=0, delivered=delivered)


def publish(
    facts: Run,
    github: GitHub,
    redactor: Redactor,
    desc: describe.Description,
    labels: Sequence[str],
    skipped: Sequence[Skipped],
    delivery: list[str],
) -> bool:
    """Into the body between the markers; when that is refused or there is no room, the describe comment."""
    pr, scrub = facts.pr, redactor.redact
    try:
        # Read the body again: the author may have edited it while the model was writing.
        current = github.get_pull(pr.number).body
        room = PR_BODY_MAX - (len(current) - len(describe.section_of(current) or "")) - 2
        section = describe.fit_section(desc, facts.host, room, not_shown=skipped, labels=labels)
        if section is not None and len(scrub(section)) <= room:
            github.update_pull_body(pr.number, describe.splice_body(current, scrub(section)))
            delivery.append("description: written into the PR body, between hidden markers")
            return True
        delivery.append("description: the PR body has no room left for it; posted as a comment instead")
    except GitHubError as exc:
        delivery.append(f"description: the PR body could not be edited ({exc}); posted as a comment instead")
    text = (
        describe.fit_section(desc, facts.host, COMMENT_BODY_MAX - 200, not_shown=skipped, labels=labels, markers=False)
        or "The description did not fit in a comment; see the job summary."
    )
    try:
        delivery.append(upsert_comment(facts, github, scrub(f"{describe.COMMENT_MARKER}\n{text}")))
        return True
    except GitHubError as exc:
        delivery.append(f"description: the comment could not be posted either ({exc})")
        return False


def upsert_comment(facts: Run, github: GitHub, text: str) -> str:
    """Edit our describe comment in place (found by its marker, written by the bot), else create it."""
    return "description: " + upsert_marked(github, facts.pr.number, describe.COMMENT_MARKER, text)


def add_labels(facts: Run, github: GitHub, labels: Sequence[str], delivery: list[str]) -> None:
    try:
        github.add_labels(facts.pr.number, labels)
        delivery.append(f"labels: added {', '.join(labels)}")
    except GitHubError as exc:
        delivery.append(f"labels: not added ({exc})")
