"""The tree is formatted and linted as pyproject.toml says (`ruff format`, `ruff check`): the README's test
command checks it, so CI does too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_tree_is_ruff_formatted() -> None:
    done = ruff("format", "--check", ".")
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr


def test_the_tree_is_ruff_clean() -> None:
    done = ruff("check", ".")
    assert done.returncode == 0, done.stdout + done.stderr
