"""One pure module per command: what it asks the model and how it reads the answer (schema, system prompt,
the prompt's data part, parse, merge), and its own after-processing (placement for the review, suggestion
validation for improve, citations for ask, labels for describe), plus the Markdown it renders.

No GitHub, no environment: ``engine.run_task`` runs a Task; ``commands/`` does the I/O around it.
"""
