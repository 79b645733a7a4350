"""qodo-review: a self-hosted AI pull-request reviewer (GitHub Action and CLI).

The map, in pipeline order:

- Entry points: ``action.py`` (environment in, one error boundary; event, authorization, trigger ``policy``,
  base-branch ``config``) and ``cli.py`` (argv in through ``cliargs``, one error boundary; its diff from
  ``sources``: a diff file, stdin, git's uncommitted or staged changes or a branch, or a GitHub pull request;
  ``progress`` on stderr).
  Both build the run and call the same engine; they differ only in where results go.
- ``run.py``: the action run's frozen facts (PR, config, settings, host, nonce, clock); the PR's files are
  fetched once, explicitly, by the command that needs them (``fetch``, ``diff/``, ``gitread``).
- ``commands/``: the registry ``COMMANDS``: a command is its task (from ``tasks.TASKS``) plus its channels,
  and one module per command (review, describe, improve, ask, help, similar) with its own work on a pull request
  around the task (the review's incremental scope, signed state and thread settling; /ask's thread;
  /improve's earlier suggestions). /similar_issue runs on issues too: ``similar.py`` (shared with the CLI's
  ``cli_similar.py``) reads the issues, ranks them with ``rank/`` (BM25, rank fusion; in memory only) and, when
  asked, the provider's embeddings (``providers/openai_embeddings``) and a re-rank through ``run_task``.
- ``engine.py``: ``run_task``, the one chunk runner: ``select`` -> ``budget`` -> ``redact/`` -> ``prompt``
  (the diff as numbered rows: ``rows``) -> ``providers/`` (through ``retry``) -> parse -> merge, halving a
  part that overflows, with ``coverage``;
  ``parts`` holds what it does with one part (halves, the secret scan's reading, a part's Result);
  ``budget`` packs files into calls by the estimates and model limits of ``tokens``; ``guidance`` adds the
  team's rules (instructions, path-instructions, the base branch's AGENTS.md/CLAUDE.md…) to every call;
  ``cost`` prices each answer (the dated table, ``prices:``) and keeps the run under ``max-cost``; ``context/``
  adds each call's related code (the definitions the change is in and uses, its callers and tests; tree-sitter
  over the head commit, read from the checkout's git objects or GitHub's API) within the room the diff leaves.
- ``providers/``: one adapter per provider behind one Protocol (OpenAI and compatible servers, Anthropic, and the
  clouds: ``azure_openai``, ``bedrock``, ``vertex``); ``providers/cloud.py`` decides the clouds' endpoints, token
  hosts and secrets from the inputs, ``cloudenv.py`` reads the credentials an earlier step left (action only).
- ``tasks/``: one pure module per command: its schema, system prompt, prompt data, parse, merge, its own
  after-processing (``findings`` placement for the review, suggestions, citations, labels) and its Markdown.
- ``outcome.py``: the ``Outcome`` of any run, with the one exit-code mapping, the one findings-file schema and
  the one dry-run printout.
- ``channels/``: where a result goes: one ``Channel`` protocol (``deliver(outcome, ctx) -> Delivery``) and one
  module per place: ``inline`` (one pull-request review), ``comment`` (the summary comments), ``body`` (PR
  body and labels), ``reply``, ``check`` (check run, or annotations without one), ``summary`` (job summary),
  ``outputs`` (findings file and step outputs), ``sarif`` (the review for code scanning), ``terminal`` (the
  CLI's one channel: rendered by ``pretty`` with rich, Markdown, JSON or SARIF); ``config_error`` (an invalid
  .qodo.yml: the failed check and the one comment, later marked fixed). Each
  fails alone: a GitHub error is a delivery line, and the others still run. The action runs a command's
  channels from the registry; the CLI hands the same Outcome to the terminal.
- Around them: ``render`` and ``sanitize`` (Markdown for every channel), ``layout`` (the review's summary in
  the reader's order: verdict, walkthrough, effort, key findings linked to their threads, then the operations
  folded), ``walkthrough`` (the per-file lines and effort each review call answers, read as hostile text and
  merged), ``output`` (the action's log, annotations, job summary file, step outputs), ``state`` (the summary
  comment's signed history).
"""

__version__ = "0.1.0"
