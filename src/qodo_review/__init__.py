"""qodo-review: a self-hosted AI pull-request reviewer (GitHub Action and CLI).

The map, in pipeline order:

- Entry points: ``action.py`` (environment in, one error boundary; event, authorization, trigger ``policy``,
  base-branch ``config``) and ``cli.py`` (argv in; a diff file, stdin or a git branch). Both build the run and
  call the same engine; they differ only in where results go.
- ``run.py``: the action run's frozen facts (PR, config, settings, host, nonce, clock); the PR's files are
  fetched once, explicitly, by the command that needs them (``fetch``, ``diff/``, ``gitread``).
- ``commands/``: the registry ``COMMANDS``: a command is its task (from ``tasks.TASKS``) plus its channels,
  and one module per command (review, describe, improve, ask, help) with its own work on a pull request
  around the task (the review's incremental scope, signed state and thread settling; /ask's thread;
  /improve's earlier suggestions).
- ``engine.py``: ``run_task``, the one chunk runner: ``select`` -> ``budget`` -> ``redact/`` -> ``prompt`` ->
  ``providers/`` (through ``retry``) -> parse -> merge, halving a part that overflows, with ``coverage``;
  ``budget`` packs files into calls by the estimates and model limits of ``tokens``; ``context/`` adds each
  call's related code (the definitions the change is in and uses, its callers and tests; tree-sitter over the
  head commit, read from the checkout's git objects or GitHub's API) within the room the diff leaves.
- ``tasks/``: one pure module per command: its schema, system prompt, prompt data, parse, merge, its own
  after-processing (``findings`` placement for the review, suggestions, citations, labels) and its Markdown.
- ``outcome.py``: the ``Outcome`` of any run, with the one exit-code mapping, the one findings-file schema and
  the one dry-run printout.
- ``channels/``: where a result goes: one ``Channel`` protocol (``deliver(outcome, ctx) -> Delivery``) and one
  module per place: ``inline`` (one pull-request review), ``comment`` (the summary comments), ``body`` (PR
  body and labels), ``reply``, ``check`` (check run, or annotations without one), ``summary`` (job summary),
  ``outputs`` (findings file and step outputs), ``terminal`` (the CLI's text or JSON, its one channel). Each
  fails alone: a GitHub error is a delivery line, and the others still run. The action runs a command's
  channels from the registry; the CLI hands the same Outcome to the terminal.
- Around them: ``render`` and ``sanitize`` (Markdown for every channel), ``output`` (the action's log,
  annotations, job summary file, step outputs), ``state`` (the summary comment's signed history).
"""

__version__ = "0.1.0"
