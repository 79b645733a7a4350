"""The CLI's related code: `--base` reads the local repository's HEAD, `--diff FILE` none unless `--repo DIR`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from qodo_review.cli import main

from .test_source import git

UTIL = "def helper(a, b):\n    '''Adds, the body the model should see.'''\n    return a + b\n"
MAIN_BEFORE = "from util import helper\n\n\ndef run(x):\n    return helper(x, 1)\n"
MAIN_AFTER = MAIN_BEFORE.replace("helper(x, 1)", "helper(x, 2)")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "util.py").write_text(UTIL)
    (root / "main.py").write_text(MAIN_BEFORE)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "main.py").write_text(MAIN_AFTER)
    git(root, "commit", "-qam", "change")
    (tmp_path / "change.diff").write_text(git(root, "diff", "main...HEAD"))
    monkeypatch.chdir(root)
    return root


def prompt_of(*argv: str) -> str:
    out = io.StringIO()
    code = main(["review", *argv, "--dry-run", "--format", "json"], env={"PATH": "/usr/bin:/bin"}, stdout=out)
    assert code == 0, out.getvalue()
    (prompt,) = json.loads(out.getvalue())["prompts"]
    return str(prompt["user"])


def test_base_reads_the_local_repository(repo: Path) -> None:
    assert "Adds, the body the model should see." in prompt_of("--base", "main")


def test_a_diff_file_has_no_related_code_unless_repo_is_given(repo: Path) -> None:
    diff = str(repo.parent / "change.diff")
    assert "## Related code" not in prompt_of("--diff", diff)
    assert "Adds, the body the model should see." in prompt_of("--diff", diff, "--repo", str(repo))
