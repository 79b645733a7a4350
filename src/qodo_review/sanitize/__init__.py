"""Make untrusted text (PR content, the model's answer) safe to post as GitHub Markdown and to print
to an Actions log: Markdown sanitizing, unbreakable code fences and spans, one-line cells, log lines
and workflow-command escaping. Pure functions only.

Modules: `text` (character cleaning, `plain`, log lines, workflow escapes, markers, grapheme cuts),
`fences` (code blocks and spans we emit), `links` (where a link may point, defanging), `markdown`
(`sanitize_markdown` and its block pass) and `inline` (its prose pass).
"""

from __future__ import annotations

from .fences import fence, inline_code, suggestion_block
from .markdown import MAX_INPUT_CHARS, sanitize_markdown
from .text import (
    HIDDEN_MARKER_PREFIX,
    TRUNCATION_NOTE,
    log_safe,
    may_hold_command,
    plain,
    strip_markers,
    workflow_escape_data,
    workflow_escape_property,
)

__all__ = [
    "HIDDEN_MARKER_PREFIX",
    "MAX_INPUT_CHARS",
    "TRUNCATION_NOTE",
    "fence",
    "inline_code",
    "log_safe",
    "may_hold_command",
    "plain",
    "sanitize_markdown",
    "strip_markers",
    "suggestion_block",
    "workflow_escape_data",
    "workflow_escape_property",
]
