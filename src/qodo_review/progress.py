"""Progress while a run works: files read, model calls done of planned, tokens. ``Progress`` is what the
engine reports to (from its worker threads); ``StatusLine`` is the CLI's one line on a terminal's stderr."""

from __future__ import annotations

import threading
from typing import IO, Protocol

from .models import Usage


class Progress(Protocol):
    """Told what a run does as it does it; called from several threads at once."""

    def read(self, files: int, source: str) -> None:
        """The diff was read: `files` changed files, from `source`."""

    def planned(self, calls: int) -> None:
        """The work was split into `calls` model calls (prepared only, in a dry run)."""

    def part_done(self, usage: Usage) -> None:
        """One planned call ended (answered, split and answered, or failed), with what it used."""


class StatusLine:
    """One line on a terminal's stderr, rewritten in place: `12 files read · calls 1/3 · tokens 4,512 in / 320
    out`. ``close`` erases it, so the results on stdout (or a message on stderr) start on a clean line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.files = 0
        self.source = ""
        self.calls = 0
        self.done = 0
        self.usage = Usage()
        self._lock = threading.Lock()
        self._shown = False

    def read(self, files: int, source: str) -> None:
        with self._lock:
            self.files, self.source = files, source
            self._show()

    def planned(self, calls: int) -> None:
        with self._lock:
            self.calls = calls
            self._show()

    def part_done(self, usage: Usage) -> None:
        with self._lock:
            self.done += 1
            self.usage.absorb(usage)
            self._show()

    def text(self) -> str:
        parts = [
            f"{self.files:,} file{'s' if self.files != 1 else ''} read"
            + (f" from {self.source}" if self.source else "")
        ]
        if self.calls:
            parts.append(f"calls {self.done}/{self.calls}")
            parts.append(f"tokens {self.usage.tokens_in:,} in / {self.usage.tokens_out:,} out")
        return "qodo-review: " + " · ".join(parts)

    def _show(self) -> None:
        self.stream.write("\r\x1b[K" + self.text())
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False
