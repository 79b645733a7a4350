"""Fetching the PR's diff: a real git checkout (hardened: nothing configured in it runs), GitHub's diff,
the paginated files list after a 406, omitted patches, and files past GitHub's 3,000-file list."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.github_server import FakeGitHub

from qodo_review.diff import parse_file, split_diff
from qodo_review.fetch import Git, fetch_files
from qodo_review.github import GitHub
from qodo_review.models import FileDiff, FileStatus, PullRequest
from qodo_review.select import select_files

TOKEN = "ghs_fake-token"
AUTH_BEFORE = "".join(f"line {i}\n" for i in range(1, 6)) + (
    "def delete_user(user, target):\n"
    "    if not user.is_admin:\n"
    "        raise Forbidden('admins only')\n"
    "    target.delete()\n"
) + "".join(f"tail {i}\n" for i in range(1, 6))


def git(cwd: Path, *args: str) -> str:
    """Plain git for building the fixtures (the code under test never runs git this way)."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return done.stdout.decode("utf-8", "replace")


def write(root: Path, path: str, content: str | bytes) -> None:
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        target.write_text(content, encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    return make_repo(tmp_path)


def make_repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A checkout with a PR branch: edits, an added, a deleted, a renamed-and-edited, a purely renamed,
    a binary and a non-ASCII file; the base branch moved on after the fork (three-dot must hide that)."""
    root = tmp_path / "workspace"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "app/auth.py", AUTH_BEFORE)
    write(root, "app/util.py", "".join(f"value_{i} = {i}\n" for i in range(30)))
    write(root, "old_name.py", "".join(f"def f{i}(): return {i}\n" for i in range(20)))
    write(root, "same.py", "".join(f"constant_{i} = {i}\n" for i in range(10)))
    write(root, "gone.py", "print('bye')\n")
    write(root, "logo.bin", bytes(range(256)))
    write(root, "docs/read me.md", "# Title\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    fork = git(root, "rev-parse", "HEAD").strip()
    write(root, "main_only.txt", "landed on main after the fork\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "main moves on")
    base = git(root, "rev-parse", "HEAD").strip()
    git(root, "checkout", "-q", "-b", "feature", fork)
    write(root, "app/auth.py", AUTH_BEFORE.replace(
        "    if not user.is_admin:\n        raise Forbidden('admins only')\n", ""))
    write(root, "app/util.py", "".join(f"value_{i} = {i * 2 if i == 15 else i}\n" for i in range(30)))
    git(root, "mv", "old_name.py", "new_name.py")
    write(root, "new_name.py", "".join(f"def f{i}(): return {i + (i == 3)}\n" for i in range(20)))
    (root / "moved").mkdir()
    git(root, "mv", "same.py", "moved/same.py")
    git(root, "rm", "-q", "gone.py")
    write(root, "logo.bin", bytes(range(255, -1, -1)))
    write(root, "src/日本.py", "x = 1\n")
    write(root, "docs/read me.md", "# Title\n\nMore.\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feature")
    head = git(root, "rev-parse", "HEAD").strip()
    return root, base, head


def expected_diff(root: Path, base: str, head: str) -> str:
    return git(root, "diff", "-M", f"{base}...{head}")


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


def pull(fake: FakeGitHub, base: str, head: str, diff_text: str, **kwargs: Any) -> tuple[GitHub, PullRequest]:
    fake.add_pull(7, "A change", "", base, head, diff_text, **kwargs)
    github = GitHub(TOKEN, fake.url, "owner/repo")
    return github, github.get_pull(7)


def diff_requests(fake: FakeGitHub) -> int:
    """Requests for the PR's diff or files: the bytes the API had to send."""
    diffs = [r for r in fake.find("GET", r"pulls/7$") if "diff" in r.headers.get("accept", "")]
    return len(diffs) + len(fake.find("GET", r"pulls/7/files"))


def parsed(files: Any) -> list[FileDiff]:
    return sorted((parse_file(f) for f in files), key=lambda f: f.path)


# --- the git checkout ----------------------------------------------------------------------------------------


def test_the_checkout_is_read_when_it_holds_both_commits(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "the workspace's git checkout" and fetched.log == () and fetched.notices == ()
    assert diff_requests(fake) == 0  # not one byte of the diff from the API
    assert parsed(fetched.files) == parsed(split_diff(diff_text))
    by_path = {f.path: f for f in fetched.files}
    assert "main_only.txt" not in by_path  # from the merge base, like GitHub's PR diff
    assert by_path["new_name.py"].status is FileStatus.RENAMED and by_path["new_name.py"].old_path == "old_name.py"
    assert (by_path["moved/same.py"].status, by_path["moved/same.py"].changed) == (FileStatus.RENAMED, 0)
    assert by_path["gone.py"].status is FileStatus.DELETED and by_path["logo.bin"].binary
    assert "src/日本.py" in by_path and "docs/read me.md" in by_path
    auth = parse_file(by_path["app/auth.py"])
    assert [ln.text for h in auth.hunks for ln in h.lines if ln.kind == "-"] == [
        "    if not user.is_admin:", "        raise Forbidden('admins only')"]


EVIL_KEYS = ("core.fsmonitor", "core.pager", "pager.diff", "diff.external", "diff.evil.command",
             "diff.evil.textconv", "filter.evil.clean", "filter.evil.smudge", "filter.evil.process",
             "core.hooksPath", "core.sshCommand", "core.askPass", "credential.helper", "gpg.program",
             "core.alternateRefsCommand", "core.editor", "sequence.editor", "uploadpack.packObjectsHook")


def arm(root: Path, tmp: Path) -> Path:
    """Configure every program a repository can make git run, each leaving a mark if it ever does, plus
    settings that would change what git diff shows (binary everything, no prefix, no context...)."""
    marks = tmp / "marks"
    marks.mkdir()
    for key in EVIL_KEYS:
        script = tmp / f"evil-{key}"
        script.write_text(f"#!/bin/sh\ntouch '{marks}/{key}'\ncat\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        git(root, "config", key, str(script))
    hooks = root / ".git" / "hooks"
    for hook in ("post-checkout", "post-index-change", "pre-auto-gc", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\ntouch '{marks}/hook-{hook}'\n", encoding="utf-8")
        (hooks / hook).chmod(0o755)
    attributes = tmp / "attributes"
    attributes.write_text("* diff=evil filter=evil\n*.py -diff\n", encoding="utf-8")
    for key, value in (("core.attributesFile", str(attributes)), ("diff.evil.binary", "true"),
                       ("core.bigFileThreshold", "1"), ("diff.noprefix", "true"), ("diff.mnemonicPrefix", "true"),
                       ("diff.context", "0"), ("diff.interHunkContext", "50"), ("diff.relative", "true"),
                       ("diff.renames", "false"), ("color.ui", "always"), ("color.diff", "always"),
                       ("core.quotePath", "false"), ("diff.suppressBlankEmpty", "true"),
                       ("diff.algorithm", "patience"), ("diff.submodule", "log"), ("diff.orderFile", str(attributes))):
        git(root, "config", key, value)
    (root / ".gitattributes").write_text("* diff=evil filter=evil\n* -diff\n", encoding="utf-8")
    return marks


def test_nothing_the_checkout_configures_runs_or_changes_the_diff(repo: tuple[Path, str, str], fake: FakeGitHub,
                                                                  tmp_path: Path) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    marks = arm(root, tmp_path)
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert sorted(p.name for p in marks.iterdir()) == []
    assert fetched.source == "the workspace's git checkout", fetched.log
    assert parsed(fetched.files) == parsed(split_diff(diff_text))
    assert not (root / ".git" / "index.lock").exists()


def test_a_partial_clone_never_fetches_missing_objects(repo: tuple[Path, str, str], fake: FakeGitHub,
                                                       tmp_path: Path) -> None:
    """Missing blobs would be fetched through `remote.origin.uploadpack`, a program the clone names."""
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    git(root, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    git(tmp_path, "clone", "-q", "--no-checkout", "--filter=blob:none", "--no-single-branch", f"file://{root}",
        str(clone))
    git(clone, "fetch", "-q", "origin", base, head)
    mark = tmp_path / "fetched"
    evil = tmp_path / "upload-pack"
    evil.write_text(f"#!/bin/sh\ntouch '{mark}'\nexec git-upload-pack \"$@\"\n", encoding="utf-8")
    evil.chmod(0o755)
    git(clone, "config", "remote.origin.uploadpack", str(evil))
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(clone)))

    assert not mark.exists()
    assert fetched.source == "GitHub's diff" and diff_requests(fake) == 1
    assert "git diff failed: fatal: could not fetch" in fetched.log[0] and "from promisor remote" in fetched.log[0]
    assert parsed(fetched.files) == parsed(split_diff(diff_text))


def test_commits_missing_from_the_checkout_mean_the_api(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    github, pr = pull(fake, base, "d" * 40, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "GitHub's diff" and diff_requests(fake) == 1
    assert fetched.log == (f"The git checkout in the workspace was not used (commit {'d' * 12} is not in the "
                           "checkout); reading the diff from the API.",)
    assert fetched.notices == ()  # the usual case (a shallow checkout): nothing to warn about


def test_a_diff_that_disagrees_with_github_is_not_used(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    """Replace refs, a forged commit-graph, a moved base: whatever the cause, GitHub's totals decide."""
    root, base, head = repo
    other = expected_diff(root, base, head).replace("+value_15 = 30", "+value_15 = 30\n+extra = 1").replace(
        "@@ -13,7 +13,7 @@", "@@ -13,7 +13,8 @@")
    github, pr = pull(fake, base, head, other)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "GitHub's diff"
    assert "git's diff has 8 files +5 -5, GitHub's 8 files +6 -5" in fetched.log[0]
    assert parsed(fetched.files) == parsed(split_diff(other))


def test_repository_attributes_outside_the_tree_are_refused(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("*.py -diff\n", encoding="utf-8")
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "GitHub's diff"
    assert ".git/info/attributes could change what git diff shows" in fetched.log[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to hand the repo away")
def test_a_checkout_owned_by_the_runner_user_is_read(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    """In the action's container we are root and the checkout belongs to the runner's user: git's
    dubious-ownership check guards discovery only, and we name the repository explicitly."""
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    for path in [root, *root.rglob("*")]:
        os.lchown(path, 1001, 1001)
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "the workspace's git checkout", fetched.log


def test_no_checkout_or_no_git_means_the_api(tmp_path: Path, repo: tuple[Path, str, str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    root, _, _ = repo
    assert Git.find(str(tmp_path / "empty")) is None and Git.find("") is None
    assert Git.find(str(root)) is not None
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    assert Git.find(str(root)) is None


@pytest.mark.parametrize("sha", ["--output=/tmp/x", "HEAD", "abc", "g" * 40])
def test_only_commit_ids_reach_git(repo: tuple[Path, str, str], fake: FakeGitHub, sha: str) -> None:
    root, base, head = repo
    github, pr = pull(fake, sha, head, expected_diff(root, base, head))

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "GitHub's diff" and "is not a commit id" in fetched.log[0]


# --- the API: 406, pagination, omitted patches, the 3,000-file list ------------------------------------------


def many_files_diff(count: int, lines: int = 2) -> str:
    out = []
    for i in range(count):
        out.append(f"diff --git a/pkg/m{i}.py b/pkg/m{i}.py\n--- a/pkg/m{i}.py\n+++ b/pkg/m{i}.py\n"
                   f"@@ -1,1 +1,{lines + 1} @@\n ctx\n" + "".join(f"+add {i}.{j}\n" for j in range(lines)))
    return "".join(out)


def test_a_406_falls_back_to_every_page_of_the_files_list(fake: FakeGitHub) -> None:
    diff_text = many_files_diff(350)
    github, pr = pull(fake, "a" * 40, "b" * 40, diff_text, diff_too_large=True)

    fetched = fetch_files(github, pr, None)

    assert fetched.source == "GitHub's files list (the PR is too large for its diff)"
    pages = fake.find("GET", r"pulls/7/files")
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3", "4"]
    assert all(r.query.get("per_page") == "100" for r in pages[:1])
    assert parsed(fetched.files) == parsed(split_diff(diff_text))
    assert fetched.unlisted == () and fetched.notices == ()


def test_files_past_githubs_3000_file_list_are_counted_not_reviewed(fake: FakeGitHub) -> None:
    rows = [{"filename": f"f{i}.py", "status": "added", "additions": 1, "deletions": 0, "changes": 1,
             "patch": f"@@ -0,0 +1 @@\n+x{i}"} for i in range(3_004)]
    rows[-1]["additions"] = rows[-2]["additions"] = 50
    github, pr = pull(fake, "a" * 40, "b" * 40, "", files=rows, diff_too_large=True)

    fetched = fetch_files(github, pr, None)

    assert len(fetched.files) == 3_000 and pr.changed_files == 3_004
    (unlisted,) = fetched.unlisted
    assert (unlisted.path, unlisted.files, unlisted.lines, unlisted.kind) == ("(4 more files)", 4, 102, "not-reviewed")
    assert "at most 3,000 files" in unlisted.reason and "fetch-depth: 0" in unlisted.reason


def omitted(diff_text: str, path: str) -> list[dict[str, Any]]:
    """GitHub's files rows for a diff, with the patch of one file left out as GitHub does for large ones."""
    from fakes.github_server import files_json, parse_diff

    rows = files_json(parse_diff(diff_text))
    for row in rows:
        if row["filename"] == path:
            del row["patch"]
    return rows


def test_an_omitted_patch_is_not_reviewed_and_says_how_to_fix_it(repo: tuple[Path, str, str],
                                                                  fake: FakeGitHub) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    github, pr = pull(fake, base, head, diff_text, files=omitted(diff_text, "app/util.py"), diff_too_large=True)

    fetched = fetch_files(github, pr, None)

    util = next(f for f in fetched.files if f.path == "app/util.py")
    assert util.patch_missing and (util.added, util.removed) == (1, 1)
    assert "fetch-depth: 0" in fetched.notices[0] and "1 large files" in fetched.notices[0]
    skipped = {s.path: s for s in select_files(fetched.files).skipped}
    assert (skipped["app/util.py"].kind, skipped["app/util.py"].lines) == ("not-reviewed", 2)
    assert skipped["app/util.py"].reason == "GitHub omitted the patch (file too large)"


def test_an_omitted_patch_is_read_from_git_when_the_checkout_has_it(repo: tuple[Path, str, str],
                                                                     fake: FakeGitHub) -> None:
    """The whole git diff was not used (GitHub reports a file git does not know), yet the commits are
    there: the omitted file comes from git, in one run, checked against GitHub's counts for it."""
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    extra = {"filename": "only_on_github.py", "status": "added", "additions": 1, "deletions": 0,
             "patch": "@@ -0,0 +1 @@\n+x"}
    rows = [*omitted(diff_text, "app/util.py"), extra]
    github, pr = pull(fake, base, head, diff_text, files=rows, diff_too_large=True)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    util = next(f for f in fetched.files if f.path == "app/util.py")
    assert not util.patch_missing and [ln.text for h in parse_file(util).hunks for ln in h.lines
                                       if ln.kind == "+"] == ["value_15 = 30"]
    assert fetched.notices == ()
    assert fetched.log[-1] == "GitHub omitted the patch of 1 large files; 1 were read from the git checkout."


def test_a_recovered_patch_must_match_githubs_counts(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    rows = omitted(diff_text, "app/util.py")
    next(r for r in rows if r["filename"] == "app/util.py")["additions"] = 7
    github, pr = pull(fake, base, head, diff_text, files=rows, diff_too_large=True)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert next(f for f in fetched.files if f.path == "app/util.py").patch_missing
    assert fetched.log[-1] == "GitHub omitted the patch of 1 large files; 0 were read from the git checkout."
    assert "fetch-depth: 0" in fetched.notices[0]
