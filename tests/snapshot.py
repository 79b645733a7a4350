"""Exact-string snapshots of what people read (summary comment, inline comment, check run), kept in
tests/snapshots/ and reviewed by eye when they change.

``assert_snapshot("name.md", text)`` compares byte for byte; ``QODO_UPDATE_SNAPSHOTS=1 python -m pytest ...``
writes the files instead (then read the diff in git before committing it).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = "QODO_UPDATE_SNAPSHOTS"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get(UPDATE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"no snapshot {path.name}: run with {UPDATE}=1 to write it, then review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True), text.splitlines(keepends=True), "snapshot", "rendered"
            )
        )
        raise AssertionError(f"{path.name} differs from the rendering ({UPDATE}=1 rewrites it):\n{diff}")
