"""/ask <question>: answer from the PR's diff, as a reply that quotes the question; in a review thread,
the answer goes into that thread and is about its lines."""

from __future__ import annotations

from typing import Any

from ..channels import Context
from ..channels.views import ReplyView
from ..errors import GitHubError, UsageError
from ..event import MAX_QUESTION_CHARS
from ..github import GitHub, ReviewComment
from ..outcome import Outcome
from ..output import Out
from ..run import Run, call_model
from ..sanitize import plain
from ..tasks import ask


def prepare(ctx: Context) -> Outcome[Any]:
    facts, github, out, redactor = ctx.facts, ctx.github, ctx.out, ctx.redactor
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
    url = facts.files_url
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
    ctx.view = ReplyView("answer", text, text.removeprefix(ask.MARKER).strip(), reply_to, payload)
    return result


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
