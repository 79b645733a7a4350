"""The container runs only our code and trusts only what it verified (issue 10, section 5), end to end
through entrypoint.py: an earlier step's PYTHONPATH and PATH run nothing, the findings file is never written
through a link and is named for later steps, a forged state is ignored, other authors' comments are not ours.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import ROOT, SHA_BASE, SHA_HEAD, pr_event, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM
from test_fetch import large_pull, make_repo

from qodo_review.render import SUMMARY_MARKER
from qodo_review.state import STATE_OPEN

DIFF = ("diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1,2 +1,3 @@\n x = 1\n"
        "+y = compute()\n z = 3\n")
KEY = "sk-test-key-0123456789abcdef"  # e2e.run_action's default api-key


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


# --- only our code runs -----------------------------------------------------------------------------------


def plant(tmp_path: Path) -> tuple[Path, Path, Path]:
    """What an earlier step could leave: modules for PYTHONPATH (sitecustomize, a `requests`, a
    `qodo_review`) and a `git` for PATH, each leaving a mark (with the key it saw) if it ever runs."""
    marks, modules, bin_dir = tmp_path / "marks", tmp_path / "evil-modules", tmp_path / "evil-bin"
    for d in (marks, modules, bin_dir, modules / "requests", modules / "qodo_review"):
        d.mkdir(parents=True)
    mark = ("import os\nopen(os.path.join({marks!r}, {name!r}), 'w').write(os.environ.get('QODO_API_KEY', ''))\n")
    (modules / "sitecustomize.py").write_text(mark.format(marks=str(marks), name="sitecustomize"), encoding="utf-8")
    (modules / "usercustomize.py").write_text(mark.format(marks=str(marks), name="usercustomize"), encoding="utf-8")
    (modules / "requests" / "__init__.py").write_text(mark.format(marks=str(marks), name="requests"),
                                                      encoding="utf-8")
    (modules / "qodo_review" / "__init__.py").write_text(mark.format(marks=str(marks), name="qodo_review"),
                                                         encoding="utf-8")
    startup = modules / "startup.py"
    startup.write_text(mark.format(marks=str(marks), name="startup"), encoding="utf-8")
    git = bin_dir / "git"
    git.write_text(f"#!/bin/sh\necho \"$QODO_API_KEY\" > '{marks}/git'\nexit 1\n", encoding="utf-8")
    git.chmod(0o755)
    return marks, modules, bin_dir


def test_an_earlier_steps_pythonpath_and_path_run_nothing(tmp_path: Path, llm: FakeLLM) -> None:
    """`python -I entrypoint.py`, as the image runs it, with PYTHONPATH, PYTHONSTARTUP, PYTHONUSERBASE and
    PATH set by an earlier step: none of its code runs, git is the image's, and the review completes."""
    marks, modules, bin_dir = plant(tmp_path)
    root, base, head = make_repo(tmp_path)
    with FakeGitHub() as github:
        large_pull(github, root, base, head)
        run = run_action(root.parent, github_url=github.url, llm_url=llm.url, isolated=True, extra_env={
            "PYTHONPATH": str(modules), "PYTHONSTARTUP": str(modules / "startup.py"),
            "PYTHONUSERBASE": str(modules), "PATH": str(bin_dir), "PYTHONINSPECT": "1"})

    assert sorted(p.name for p in marks.iterdir()) == []
    assert run.code == 0, run.stdout + run.stderr
    assert "6 were read from the git checkout, checked against GitHub's blob ids" in run.stdout  # the real git


def test_the_images_entrypoint_runs_python_isolated() -> None:
    """The Dockerfile's ENTRYPOINT (exec form) starts Python with -I, by its absolute path."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith("ENTRYPOINT")]
    argv = json.loads(line.removeprefix("ENTRYPOINT"))
    assert argv[0].startswith("/") and argv[0].rsplit("/", 1)[-1].startswith("python")
    assert "-I" in argv[1:argv.index("/app/entrypoint.py")]
    assert re.search(r"^COPY --from=git /usr/bin/git /usr/local/bin/git$", text, re.M)
    from qodo_review.gitread import TRUSTED_GIT
    assert TRUSTED_GIT[0] == "/usr/local/bin/git"


def test_the_isolated_interpreter_still_finds_our_package() -> None:
    """-I drops the script's directory from sys.path; entrypoint.py puts src there itself."""
    import subprocess

    entrypoint = str(ROOT / "entrypoint.py")
    code = (f"import runpy, sys; sys.argv = ['x']; g = runpy.run_path({entrypoint!r}, run_name='not-main'); "
            "import qodo_review; print(qodo_review.__file__)")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True,
                          env={"PATH": os.defpath})
    assert done.stdout.strip() == str(ROOT / "src" / "qodo_review" / "__init__.py")
