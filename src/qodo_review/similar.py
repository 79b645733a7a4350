"""/similar_issue's search, the I/O around ``tasks/similar``: read the repository's issues (newest first, at most
``similar-scan``), rank them in memory, and, when asked, the provider's embeddings and the chat model's re-rank.

Shared by the action (``commands/similar.py``) and the CLI (``qodo-review similar-issue``). Nothing is written:
the index is a Python object that dies with the process. A provider that fails leaves the BM25 ranking, said
in a notice; the reply never depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .clock import SYSTEM_CLOCK, Clock
from .config import ReviewConfig
from .engine import run_task
from .errors import GitHubError, ProviderUnavailable, QodoError
from .models import Issue, PullRequest
from .outcome import Outcome
from .providers import Provider, ProviderSettings
from .redact import Redactor
from .retry import Resilient, RetryPolicy
from .tasks import similar as task

# (texts) -> (one vector per text, tokens billed); raises a QodoError when the provider fails.
Embedder = Callable[[Sequence[str]], tuple[list[list[float]], int]]
EMBED_BATCH = 100  # texts per embeddings request (OpenAI takes up to 2,048)
DRY_RUN_TEXTS = 5  # embeddings texts a dry run prints in full (the target's and the newest candidates')


@dataclass(frozen=True)
class Providers:
    """What the search may call: None for each that is off, or in a dry run (then only described)."""

    settings: ProviderSettings | None  # the run's provider (host and model, for the manifest and the dry run)
    chat: Provider | Resilient | None = None  # the re-rank's caller (through the retry policy)
    embed: Embedder | None = None
    dry_run: bool = False


def search(
    github: Any,
    target: Issue,
    config: ReviewConfig,
    providers: Providers,
    *,
    redactor: Redactor,
    nonce: str,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[task.Search, Outcome[Any]]:
    """Gather, rank, and (when configured) embed and re-rank. ``github`` is the client (``list_issues``,
    ``first_comments``); GitHub errors propagate (there is nothing to rank without the issues)."""
    read = _issues(github, config.similar_scan + 1)  # the target itself may be among the newest
    read = [i for i in read if i.number != target.number][: config.similar_scan]
    skipped: dict[str, int] = {}
    candidates: list[Issue] = []
    for issue in read:
        why = task.skip_reason(issue, include_prs=config.similar_include_prs)
        if why is None:
            candidates.append(issue)
        else:
            skipped[why] = skipped.get(why, 0) + 1
    oldest = min((i.created_at for i in read if i.created_at), default="")
    comments: dict[int, list[str]] = {}
    hits = task.rank_lexical(target, candidates, comments)
    if config.similar_comments and hits:
        comments = _comments(github, [candidates[h.doc] for h in hits[: config.similar_comments]], log)
        hits = task.rank_lexical(target, candidates, comments)
    notices: list[str] = []
    sent: list[str] = []
    ranking = ["BM25" + (" (titles, bodies and comments)" if comments else "")]
    outcome: Outcome[Any] = Outcome(pr=thread_of(target), command=task.COMMAND, dry_run=providers.dry_run)
    if config.similar_embeddings and candidates:
        hits = _embedded(target, candidates, hits, config, providers, redactor, outcome, notices, sent, ranking, log)
    matches = [task.Match(candidates[h.doc], task.lexical_reason(h)) for h in hits]
    if config.similar_rerank and matches:
        matches, outcome = _reranked(target, matches, config, providers, redactor, nonce, outcome, notices, sent)
        if outcome.answer is not None and providers.settings is not None:
            ranking.append(f"a re-rank by `{providers.settings.model}`")
    outcome.command = task.COMMAND
    outcome.notices.extend(notices)
    found = task.Search(
        target=target,
        scanned=len(read),
        candidates=len(candidates),
        skipped=skipped,
        oldest=oldest,
        matches=tuple(matches[: config.similar_max]),
        ranking=tuple(ranking),
        comments_read=len(comments),
        notices=tuple(outcome.notices),
        sent=tuple(sent),
    )
    return found, outcome


def _issues(github: Any, limit: int) -> list[Issue]:
    try:
        issues: list[Issue] = github.list_issues(limit)
    except GitHubError as exc:
        if exc.status not in (403, 404) or "rate limit" in str(exc):
            raise
        raise GitHubError(
            f"{exc} /similar_issue reads the repository's issues: the token needs `issues: read` (the comments "
            "workflow's `issues: write` includes it).",
            exc.status,
        ) from None
    return issues


def thread_of(issue: Issue) -> PullRequest:
    """The Outcome's subject: the issue (or pull request) the command was asked on, as the engine names it."""
    return PullRequest(
        number=issue.number,
        title=issue.title,
        body=issue.body,
        base_sha="",
        head_sha="",
        state=issue.state,
        author=issue.author,
        html_url=issue.html_url,
    )


def _comments(github: Any, issues: Sequence[Issue], log: Callable[[str], None]) -> dict[int, list[str]]:
    """The first comments of the best candidates (one request each, only those GitHub counts comments for)."""
    out: dict[int, list[str]] = {}
    for issue in issues:
        if issue.comments <= 0:
            continue
        try:
            out[issue.number] = github.first_comments(issue.number)
        except GitHubError as exc:  # one unreadable thread costs its comments, not the search
            log(f"qodo-review: the comments of #{issue.number} could not be read ({exc}).")
    return out


def _embedded(
    target: Issue,
    candidates: Sequence[Issue],
    hits: list[task.Hit],
    config: ReviewConfig,
    providers: Providers,
    redactor: Redactor,
    outcome: Outcome[Any],
    notices: list[str],
    sent: list[str],
    ranking: list[str],
    log: Callable[[str], None],
) -> list[task.Hit]:
    """BM25 fused with the embeddings' ranking; BM25 alone, with a notice, when they cannot be had."""
    model, settings = config.similar_embeddings, providers.settings
    texts = [task.embed_text(target, redactor)] + [task.embed_text(c, redactor) for c in candidates]
    where = f"{settings.host if settings else 'no provider'} (embeddings model `{model}`)"
    if providers.dry_run:
        chars = sum(len(t) for t in texts)
        sent.append(f"Would be sent to {where}: {len(texts)} redacted issue texts, {chars} characters.")
        shown = "".join(f"\n----- embeddings text {i} -----\n{t}" for i, t in enumerate(texts[:DRY_RUN_TEXTS], 1))
        log(f"Dry run: {len(texts)} texts would be sent to {where}; the first {DRY_RUN_TEXTS}:{shown}")
        return hits
    if providers.embed is None:
        why = (
            f"the {settings.kind} provider has no embeddings endpoint"
            if settings is not None and settings.kind not in ("openai", "openai-compatible")
            else "no api-key is set"
        )
        notices.append(f"similar-embeddings is on, but {why}: ranked by BM25 alone.")
        return hits
    vectors: list[list[float]] = []
    try:
        for start in range(0, len(texts), EMBED_BATCH):
            batch, tokens = providers.embed(texts[start : start + EMBED_BATCH])
            vectors.extend(batch)
            outcome.usage.calls += 1
            outcome.usage.tokens_in += tokens
    except QodoError as exc:
        notices.append(f"The embeddings could not be had ({exc}); ranked by BM25 alone.")
        if vectors:
            sent.append(f"Sent to {where}: {len(vectors)} redacted issue texts before the failure.")
        return hits
    sent.append(f"Sent to {where}: {len(texts)} redacted issue texts (title and body, cut to 2,000 characters).")
    ranking.append(f"embeddings (`{model}`)")
    return task.fuse(hits, vectors[0], vectors[1:])


def _reranked(
    target: Issue,
    matches: list[task.Match],
    config: ReviewConfig,
    providers: Providers,
    redactor: Redactor,
    nonce: str,
    outcome: Outcome[Any],
    notices: list[str],
    sent: list[str],
) -> tuple[list[task.Match], Outcome[Any]]:
    """The chat model re-orders the top RERANK_TOP and writes the reasons; on failure, the order stays."""
    settings = providers.settings
    if settings is None or (providers.chat is None and not providers.dry_run):
        notices.append("similar-rerank is on, but no api-key is set: the ranking was not re-ranked.")
        return matches, outcome
    top = matches[: task.RERANK_TOP]
    spec = task.rerank_task(target, [m.issue for m in top], config.similar_max)
    try:
        result = run_task(
            spec,
            outcome.pr,
            [],
            config,
            caller=providers.chat,
            redactor=redactor,
            nonce=nonce,
            host=settings.host,
            model=settings.model,
        )
    except QodoError as exc:  # a rejected key or an unknown model: the user's to fix, said, not fatal here
        notices.append(f"The re-rank failed ({exc}); showing the ranking without it.")
        return matches, outcome
    result.usage.absorb(outcome.usage)
    verb = "Would be sent" if providers.dry_run else "Sent"
    sent.append(
        f"{verb} to {settings.host} (model `{settings.model}`): 1 re-rank call with the redacted titles and "
        f"first {task.MAX_RERANK_BODY} characters of {len(top)} issues and the target's."
    )
    if result.answer is None:
        if result.errors:
            why = "; ".join(result.errors)
            notices.append(f"The re-rank failed ({why}); showing the ranking without it.")
            result.errors = []
        return matches, result
    by_number = {m.issue.number: m for m in top}
    ranked = [replace(by_number[n], reason=why or by_number[n].reason) for n, why in result.answer]
    return ranked, result


def embedder(settings: ProviderSettings, model: str, clock: Clock = SYSTEM_CLOCK) -> Embedder:
    """The provider's embeddings with the one retry policy's waits (transient failures only)."""
    from .providers.openai_embeddings import embeddings_for  # the SDK only when embeddings are asked for

    client = embeddings_for(settings, model)
    policy = RetryPolicy()
    deadline = clock.now() + policy.budget

    def embed(texts: Sequence[str]) -> tuple[list[list[float]], int]:
        attempt = 0
        while True:
            attempt += 1
            try:
                return client.embed(texts)
            except ProviderUnavailable as exc:
                wait = policy.wait_before(attempt, exc, deadline - clock.now(), 0.5)
                if wait is None:
                    raise
                clock.sleep(wait)

    return embed
