"""What the GitHub Actions runner would do with a step's output: the workflow commands it would execute.

A model of actions/runner (src/Runner.Common/ActionCommand.cs and src/Runner.Worker/ActionCommandManager.cs):

- each line is read on its own (the runner's line reader ends a line at \\r, \\n or \\r\\n);
- the modern form is parsed after `TrimStart()` when the line starts with `::` (`TryParseV2`);
- otherwise the legacy form `##[name props]data` is looked for ANYWHERE in the line (`TryParse` does
  `message.IndexOf("##[")`), for any registered command;
- `::stop-commands::TOKEN` ignores every command until one named TOKEN (compared ordinally, ignoring case).

Both parsers call `StartsWith`/`IndexOf` without `StringComparison.Ordinal`, that is culture-sensitively,
and .NET on Linux compares through ICU, which ignores default-ignorable characters such as U+200B. The
`linguistic` mode (the default) models that by removing them first: a zero-width space in front of `::`
does not stop the runner then, and only `::stop-commands::` does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ActionCommandManager registers every command extension, plus stop-commands.
REGISTERED = frozenset(
    {
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "warning",
        "error",
        "notice",
        "group",
        "endgroup",
        "echo",
        "stop-commands",
    }
)
_LINES = re.compile(r"\r\n|\r|\n")
# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties) beyond the format characters (Cf).
_IGNORABLE_EXTRA = {
    0x034F,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    0x3164,
    0xFFA0,
    *range(0x180B, 0x1810),
    *range(0xFE00, 0xFE10),
}
_KEPT_CONTROLS = "\t\n\v\f\r"


@dataclass(frozen=True)
class Command:
    name: str
    properties: str
    data: str
    line: str


def _ignorable(ch: str) -> bool:
    category = unicodedata.category(ch)
    return (
        category == "Cf"
        or ord(ch) in _IGNORABLE_EXTRA
        or 0xE0000 <= ord(ch) <= 0xE0FFF
        or (category == "Cc" and ch not in _KEPT_CONTROLS)
    )


def _fold(line: str) -> str:
    return "".join(ch for ch in line if not _ignorable(ch))


def parse_line(line: str, registered: frozenset[str] = REGISTERED, *, linguistic: bool = True) -> Command | None:
    """The command the runner would read in one line of output, or None."""
    text = _fold(line) if linguistic else line
    trimmed = text.lstrip()
    if trimmed.startswith("::"):
        end = trimmed.find("::", 2)
        if end >= 0:
            name, _, props = trimmed[2:end].partition(" ")
            if name in registered:
                return Command(name, props, trimmed[end + 2 :], line)
    start = text.find("##[")
    if start >= 0:
        end = text.find("]", start)
        if end >= 0:
            name, _, props = text[start + 3 : end].partition(" ")
            if name in registered:
                return Command(name, props, text[end + 1 :], line)
    return None


def executed(output: str, *, linguistic: bool = True) -> list[Command]:
    """The commands the runner would execute, in order, for one stream of a step's output."""
    registered = REGISTERED
    stop_token: str | None = None
    out: list[Command] = []
    for line in _LINES.split(output):
        command = parse_line(line, registered, linguistic=linguistic)
        if command is None:
            continue
        if stop_token is not None:
            if command.name.lower() == stop_token.lower():
                stop_token, registered = None, REGISTERED
                out.append(command)
            continue
        if command.name == "stop-commands" and command.data:
            stop_token = command.data
            registered = REGISTERED | {stop_token}
        out.append(command)
    return out
