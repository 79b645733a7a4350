"""/ask <question>: answer from the PR's diff, as a reply that quotes the question; in a review thread,
the answer goes into that thread and is about its lines."""

from __future__ import annotations

from ..errors import ExitCode, GitHubError, UsageError
from ..event import MAX_QUESTION_CHARS
from ..github import GitHub, ReviewComment
from ..limits import COMMENT_BODY_MAX
from ..output import Out
from ..redact import Redactor
from ..render import cap
from ..run import Run
from ..sanitize import plain
from ..tasks import ask
from .finish import call_model, files_url, finish


def run(facts: Run, github: GitHub, out: Out, redactor: Redactor) -> ExitCode:
    # Redacted before it is cut (a cut through a secret leaves a prefix no rule recognises); the comment's
    # text and the workflow's `question:` input may both be long.
    question = redactor.redact(facts.activity.args.strip())[:MAX_QUESTION_CHARS]
    if not question:
        raise UsageError(
            "command: ask needs a question: set the 'question' input "
            "(with: question: How is the cache invalidated?), or comment /ask <question> on the PR."
        )
    thread, reply_to = find_thread(facts, github, out)
    result = call_model(facts, github, out, redactor, ask.spec(facts.config, facts.nonce, question, thread))
    url = files_url(facts)
    links = [ask.citation_link(c, url, result.file) for c in result.answer.citations] if result.answer else []
    about = (
        ask.citation_link(ask.Citation(thread.path, thread.line, thread.line, thread.side), url, result.file)[0]
        if thread
        else ""
    )
    if result.answer is not None:
        text = ask.reply_markdown(question, result.answer, host=facts.host, links=[m for m, _ in links], about=about)
    else:
        problem = result.errors[0] if result.errors else "no answer"
        text = (
            f"{ask.MARKER}\n{ask.quote(question)}\n\n⚠️ qodo-review could not answer this question: "
            f"{plain(problem, 400)}. The workflow run's job summary has the details."
        )
    delivery: list[str] = []
    delivered = False
    if not facts.dry_run:
        delivered = post(facts, github, redactor, cap(text, COMMENT_BODY_MAX), reply_to, delivery)
    payload = {
        "question": question,
        "answer": result.answer.answer if result.answer else None,
        "citations": [
            {**c.to_json(), "url": u}
            for c, (_, u) in zip(result.answer.citations if result.answer else (), links, strict=True)
        ],
        "thread": {"comment_id": reply_to, "path": thread.path, "line": thread.line, "side": thread.side}
        if thread
        else None,
    }
    return finish(
        facts,
        out,
        redactor,
        result,
        payload,
        text.removeprefix(ask.MARKER).strip(),
        delivery=delivery,
        count=0,
        delivered=delivered,
    )


def find_thread(facts: Run, github: GitHub, out: Out) -> tuple[ask.Thread | None, int | None]:
    """For a /ask in a review thread: the thread's anchor and comments, and the id to reply to.

    GitHub answers replies only to a thread's first comment ("replies to replies are not supported"),
    so the reply goes to the root of the thread the /ask was written in.
    """
    activity = facts.activity
    if not (activity.review_comment and activity.comment_id):
        return None, None
    try:
        comments = github.list_review_comments(facts.pr.number)
    except GitHubError as exc:
        out.warning(f"Could not read the review thread ({exc}); answering about the whole PR.")
        return None, activity.comment_id
    by_id = {c.id: c for c in comments}
    asked = by_id.get(activity.comment_id)
    if asked is None:
        return None, activity.comment_id
    root = by_id.get(asked.in_reply_to_id or asked.id, asked)
    before = [c for c in comments if (c.id == root.id or c.in_reply_to_id == root.id) and c.id < asked.id]
    return _thread(root, before), root.id


def _thread(root: ReviewComment, before: list[ReviewComment]) -> ask.Thread:
    return ask.Thread(root.path, root.line, root.side or "RIGHT", tuple((c.user_login, c.body) for c in before))


def post(facts: Run, github: GitHub, redactor: Redactor, text: str, reply_to: int | None, delivery: list[str]) -> bool:
    number, scrub = facts.pr.number, redactor.redact
    if reply_to is not None:
        try:
            github.reply_to_review_comment(number, reply_to, scrub(text))
            delivery.append(f"answer: replied in the review thread of comment {reply_to}")
            return True
        except GitHubError as exc:
            delivery.append(f"answer: the thread reply failed ({exc}); posted as a comment instead")
    try:
        created = github.create_issue_comment(number, scrub(text))
    except GitHubError as exc:
        delivery.append(f"answer: not posted ({exc})")
        return False
    delivery.append(f"answer: posted comment {created.id}")
    return True
