"""/similar_issue on an issue or a pull request: the search (similar.py), then the reply's text for the channels.
No diff is read: the subject is the issue's title and body."""

from __future__ import annotations

from typing import Any

from ..channels import Context
from ..channels.similar import SimilarView
from ..models import Issue
from ..outcome import Outcome
from ..similar import Providers, embedder, search
from ..tasks import similar


def prepare(ctx: Context) -> Outcome[Any]:
    facts, config = ctx.facts, ctx.facts.config
    pr = facts.pr
    target = Issue(
        number=pr.number,
        title=pr.title,
        body=pr.body,
        state=pr.state,
        author=pr.author,
        html_url=pr.html_url,
        is_pull=not facts.activity.plain_issue,
    )
    keyed = bool(facts.inputs.api_key) and not facts.dry_run
    wants_chat, model = config.similar_rerank, config.similar_embeddings
    embeds = keyed and bool(model) and facts.settings.kind in ("openai", "openai-compatible")
    providers = Providers(
        settings=facts.settings,
        chat=facts.provider() if keyed and wants_chat else None,
        embed=embedder(facts.settings, model, facts.clock) if embeds else None,
        dry_run=facts.dry_run,
    )
    found, outcome = search(
        ctx.github, target, config, providers, redactor=ctx.redactor, nonce=facts.nonce, log=ctx.out.log
    )
    if facts.dry_run and outcome.prompts:
        ctx.out.log(outcome.dry_run_text(show_prompts=True))
    issues_url = f"{facts.env.server_url}/{facts.env.repository}/issues"
    ctx.view = SimilarView(found, similar.reply_markdown(found, issues_url))
    return outcome
