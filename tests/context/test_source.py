"""The readers: a git repository's head commit read as hashed objects (a tampered object is refused, and the
review goes on without related code), and GitHub's API within its bound (30 files, 2 MB per run)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from fakes.github_server import FakeGitHub

from qodo_review.budget import plan_budget
from qodo_review.context.found import gather_context
from qodo_review.context.source import ApiReader, GitReader, local_reader
from qodo_review.diff import split_diff
from qodo_review.errors import UsageError
from qodo_review.github import GitHub
from qodo_review.gitread import Git, GitUnusable
from qodo_review.tokens import model_limits

SHA = "c" * 40


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True).stdout.decode()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    files = {"a.py": "def f():\n    return 1\n", "pkg/deep/b.py": "X = 1\n", "docs/read me.md": "# Hi\n"}
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    os.symlink("a.py", root / "link.py")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    return root, git(root, "rev-parse", "HEAD").strip()


def test_git_reader_lists_the_head_tree_and_reads_blobs(repo: tuple[Path, str]) -> None:
    root, head = repo
    reader = GitReader(Git(str(root), shutil.which("git") or "git"), head)
    assert sorted(reader.paths()) == ["a.py", "docs/read me.md", "pkg/deep/b.py"]  # no symlink
    assert reader.read(["a.py", "pkg/deep/b.py", "nope.py"]) == {
        "a.py": "def f():\n    return 1\n",
        "pkg/deep/b.py": "X = 1\n",
    }


def test_a_tampered_object_is_refused_and_the_review_goes_on_without_context(repo: tuple[Path, str]) -> None:
    root, head = repo
    oid = git(root, "rev-parse", "HEAD:a.py").strip()
    path = root / ".git" / "objects" / oid[:2] / oid[2:]
    raw = zlib.decompress(path.read_bytes())
    path.chmod(0o644)
    path.write_bytes(zlib.compress(raw.replace(b"return 1", b"return 2")))
    reader = GitReader(Git(str(root), shutil.which("git") or "git"), head)
    reader.paths()
    with pytest.raises(GitUnusable, match="does not hash to its name"):
        reader.read(["a.py"])
    raw_files = split_diff(
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -2 +2 @@ def f():\n-    x\n+    return 1\n"
    )
    plan = plan_budget(raw_files, call_tokens=10_000, output_tokens=1000, limits=model_limits("gpt-4.1"), max_calls=1)
    found = gather_context(reader, plan, raw_files, ())
    assert found.related.snippets == [] and found.source.startswith("not read: GitUnusable")


def test_local_reader_names_the_flag_when_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"--repo .*not inside a git repository"):
        local_reader(str(tmp_path), "--repo")


def test_api_reader_stays_within_its_bound() -> None:
    with FakeGitHub() as fake:
        for i in range(50):
            fake.set_file(f"src/m{i:02}.py", SHA, f"x = {i}\n")
        fake.set_file("big/blob.py", SHA, "y = 1\n" * 200_000)  # 1.2 MB: over the contents API's own limit
        for i in range(5):
            fake.set_file(f"mid/m{i}.py", SHA, "z = 1\n" * 100_000)  # 600 KB each
        reader = ApiReader(GitHub("ghs_fake-token", fake.url, "owner/repo"), SHA)
        assert len(reader.paths()) == 56
        first = reader.read(["big/blob.py", *[f"src/m{i:02}.py" for i in range(50)]])
        assert len(first) == 30 and reader.reads == 30
        assert reader.read(["src/m40.py"]) == {}  # the bound is per run
        assert len(fake.find("GET", r"contents/.*")) == 30 and len(fake.find("GET", r"git/trees/.*")) == 1
    with FakeGitHub() as fake:
        for i in range(5):
            fake.set_file(f"mid/m{i}.py", SHA, "z = 1\n" * 100_000)
        reader = ApiReader(GitHub("ghs_fake-token", fake.url, "owner/repo"), SHA)
        reader.paths()
        assert len(reader.read([f"mid/m{i}.py" for i in range(5)])) == 3  # 3 x 600 KB within 2 MB
