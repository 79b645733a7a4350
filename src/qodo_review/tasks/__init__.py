"""One pure module per command: what it asks the model and how it reads the answer (schema, system prompt,
the prompt's data part, parse, merge), and its own after-processing (placement for the review, suggestion
validation for improve, citations for ask, labels for describe), plus the Markdown it renders.

No GitHub, no environment: ``engine.run_task`` runs a Task; ``commands/`` does the I/O around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import ReviewConfig
from ..engine import Task
from . import ask, describe, improve, review

# (config, nonce, the command's argument: /ask's question) -> what the model is asked. The registry
# (commands.COMMANDS) and the CLI read it here: the CLI never imports the GitHub side.
TaskFor = Callable[[ReviewConfig, str, str], Task[Any]]

TASKS: dict[str, TaskFor] = {
    "review": lambda config, nonce, _: review.task(config),
    "describe": lambda config, nonce, _: describe.spec(config, nonce),
    "improve": lambda config, nonce, _: improve.spec(config, nonce),
    "ask": lambda config, nonce, question: ask.spec(config, nonce, question),
}
