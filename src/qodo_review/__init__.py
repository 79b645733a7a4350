"""qodo-review: a self-hosted AI pull-request reviewer (GitHub Action and CLI).

The map, in pipeline order:

- Entry points: ``action.py`` (environment in, one error boundary; event, authorization, trigger ``policy``,
  base-branch ``config``) and ``cli.py`` (argv in; a diff file, stdin or a git branch). Both build the run and
  call the same engine; they differ only in where results go.
- ``run.py``: the action run's frozen facts (PR, config, settings, host, nonce, clock); the PR's files are
  fetched once, explicitly, by the command that needs them (``fetch``, ``diff/``, ``gitread``).
- ``commands/``: the registry ``COMMANDS`` and one module per command (review, describe, improve, ask, help):
  the I/O around the engine on a pull request (state, threads, posting) and its ending.
- ``engine.py``: ``run_task``, the one chunk runner: ``select`` -> ``budget`` -> ``redact/`` -> ``prompt`` ->
  ``providers/`` (through ``retry``) -> parse -> merge, halving a part that overflows, with ``coverage``.
- ``tasks/``: one pure module per command: its schema, system prompt, prompt data, parse, merge, its own
  after-processing (``findings`` placement for the review, suggestions, citations, labels) and its Markdown.
- ``outcome.py``: the ``Outcome`` of any run, with the one exit-code mapping, the one findings-file schema and
  the one dry-run printout.
- Output: ``render`` and ``sanitize`` (Markdown for every channel), ``publish/`` (inline review, summary
  comment, check run, each failing alone), ``output`` (the step's log, summary, outputs), ``terminal``
  (the CLI's text and JSON), ``state`` (the summary comment's signed history).
"""

__version__ = "0.1.0"
