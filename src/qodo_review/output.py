"""The action's voice: the log (safe from workflow-command injection), annotations, the job summary file
and the step outputs. Every text passes the redactor first. channels/ decides what goes there."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO

from .limits import OUTPUTS_MAX, STEP_SUMMARY_MAX, WORKFLOW_ANNOTATIONS_PER_STEP
from .redact import Redactor
from .sanitize import log_safe, may_hold_command, workflow_escape_data, workflow_escape_property


@dataclass
class Out:
    """The action's voice. Constructed once in main() from the environment, passed down."""

    stream: IO[str]
    redactor: Redactor
    summary_path: str = ""
    output_path: str = ""
    in_actions: bool = False
    written_summary: int = 0
    errors_reported: list[str] = field(default_factory=list)
    annotations: dict[str, int] = field(default_factory=dict)  # workflow commands shown, per kind

    def log(self, text: str) -> None:
        self._print(log_safe(self.redactor.redact(text)))

    def _print(self, text: str) -> None:
        """A log line that may hold untrusted text. Where the runner could read a workflow command in it
        (see sanitize.may_hold_command), it is printed between ::stop-commands:: and a fresh random
        token, so the runner executes nothing inside (docs: "Stopping and starting workflow commands")."""
        if self.in_actions and may_hold_command(text):
            token = secrets.token_hex(16)
            text = f"::stop-commands::{token}\n{text}\n::{token}::"
        self.stream.write(text + "\n")
        self.stream.flush()

    def _command(self, name: str, text: str, props: str = "", where: str = "") -> None:
        """A workflow command; past GitHub's per-step limit of its kind it becomes a plain log line,
        so a dropped annotation never hides a message."""
        shown = self.annotations.get(name, 0)
        if self.in_actions and shown < WORKFLOW_ANNOTATIONS_PER_STEP:
            self.annotations[name] = shown + 1
            message = workflow_escape_data(self.redactor.redact(text))
            self.stream.write(f"::{name}{' ' + props if props else ''}::{message}\n")
            self.stream.flush()
        else:
            self._print(f"{name}: {log_safe(self.redactor.redact(where + text))}")

    def room(self, kind: str) -> int:
        """How many more annotations of this kind GitHub will still show for this step."""
        return max(0, WORKFLOW_ANNOTATIONS_PER_STEP - self.annotations.get(kind, 0))

    def error(self, text: str, props: str = "") -> None:
        self._command("error", text, props)

    def warning(self, text: str, props: str = "") -> None:
        self._command("warning", text, props)

    def notice(self, text: str, props: str = "") -> None:
        self._command("notice", text, props)

    def annotate(
        self, kind: str, text: str, *, file: str, line: int | None = None, end_line: int | None = None, title: str = ""
    ) -> None:
        """An annotation on a file (and line) of the head commit: shown in the PR's Files tab."""
        props = {"file": file, "line": line, "endLine": end_line if end_line != line else None, "title": title}
        encoded = ",".join(
            f"{key}={workflow_escape_property(self.redactor.redact(str(value)))}"
            for key, value in props.items()
            if value
        )
        self._command(kind, text, encoded, where=f"{file}:{line}: " if line else f"{file}: ")

    def mask(self, value: str) -> None:
        if self.in_actions and value and "\n" not in value:
            self.stream.write(f"::add-mask::{value}\n")

    def summary(self, markdown: str) -> None:
        """Append to the job summary, within GitHub's 1 MiB per step."""
        if not self.summary_path:
            return
        text = self.redactor.redact(markdown).rstrip() + "\n\n"
        room = STEP_SUMMARY_MAX - self.written_summary
        if len(text.encode()) > room:
            text = text.encode()[: max(0, room - 200)].decode("utf-8", "ignore") + "\n\n…(job summary truncated)\n"
        with open(self.summary_path, "a", encoding="utf-8") as fh:
            fh.write(text)
        self.written_summary += len(text.encode())

    def outputs(self, values: Mapping[str, str]) -> None:
        if not self.output_path:
            return
        lines = []
        for key, value in values.items():
            clean = self.redactor.redact(str(value)).replace("\r", " ").replace("\n", " ")[: OUTPUTS_MAX // 8]
            lines.append(f"{key}={clean}\n")
        with open(self.output_path, "a", encoding="utf-8") as fh:
            fh.writelines(lines)
