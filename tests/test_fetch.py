"""Fetching the PR's diff: a real git checkout (hardened: nothing configured in it runs), GitHub's diff,
the paginated files list after a 406, omitted patches, and files past GitHub's 3,000-file list."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes.github_server import FakeGitHub

from qodo_review.diff import parse_file, split_diff
from qodo_review.fetch import Git, fetch_files
from qodo_review.github import GitHub
from qodo_review.gitread import TRUSTED_GIT
from qodo_review.models import FileDiff, FileStatus, PullRequest
from qodo_review.select import select_files

TOKEN = "ghs_fake-token"
AUTH_BEFORE = (
    "".join(f"line {i}\n" for i in range(1, 6))
    + (
        "def delete_user(user, target):\n"
        "    if not user.is_admin:\n"
        "        raise Forbidden('admins only')\n"
        "    target.delete()\n"
    )
    + "".join(f"tail {i}\n" for i in range(1, 6))
)


def git(cwd: Path, *args: str) -> str:
    """Plain git for building the fixtures (the code under test never runs git this way)."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
    }
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
    write(
        root,
        "app/auth.py",
        AUTH_BEFORE.replace("    if not user.is_admin:\n        raise Forbidden('admins only')\n", ""),
    )
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


EVIL_KEYS = (
    "core.fsmonitor",
    "core.pager",
    "pager.diff",
    "diff.external",
    "diff.evil.command",
    "diff.evil.textconv",
    "filter.evil.clean",
    "filter.evil.smudge",
    "filter.evil.process",
    "core.hooksPath",
    "core.sshCommand",
    "core.askPass",
    "credential.helper",
    "gpg.program",
    "core.alternateRefsCommand",
    "core.editor",
    "sequence.editor",
    "uploadpack.packObjectsHook",
)


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
    for key, value in (
        ("core.attributesFile", str(attributes)),
        ("diff.evil.binary", "true"),
        ("core.bigFileThreshold", "1"),
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.context", "0"),
        ("diff.interHunkContext", "50"),
        ("diff.relative", "true"),
        ("diff.renames", "false"),
        ("color.ui", "always"),
        ("color.diff", "always"),
        ("core.quotePath", "false"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.algorithm", "patience"),
        ("diff.submodule", "log"),
        ("diff.orderFile", str(attributes)),
    ):
        git(root, "config", key, value)
    (root / ".gitattributes").write_text("* diff=evil filter=evil\n* -diff\n", encoding="utf-8")
    return marks


# --- the git checkout: only what GitHub leaves out, checked against GitHub ----------------------------------


def test_a_pr_githubs_diff_holds_comes_from_it_even_with_a_checkout(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    """GitHub is the source of truth: the checkout is not even opened when GitHub gives the whole diff."""
    root, base, head = repo
    diff_text = expected_diff(root, base, head)
    marks = arm(root, tmp_path)
    github, pr = pull(fake, base, head, diff_text)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.source == "GitHub's diff" and fetched.log == () and fetched.notices == ()
    assert diff_requests(fake) == 1 and sorted(p.name for p in marks.iterdir()) == []
    assert parsed(fetched.files) == parsed(split_diff(diff_text))


def blob(root: Path, rev: str, path: str) -> str:
    return git(root, "rev-parse", f"{rev}:{path}").strip()


def large_pull(
    fake: FakeGitHub, root: Path, base: str, head: str, diff_text: str | None = None
) -> tuple[GitHub, PullRequest, str]:
    """The PR as GitHub shows one too large for its diff, with every text file's patch omitted: the files
    list with the real blob ids (`sha`), the merge base in compare, each base version in contents."""
    from fakes.github_server import files_json, parse_diff

    diff_text = diff_text if diff_text is not None else expected_diff(root, base, head)
    fork = git(root, "merge-base", base, head).strip()
    rows = files_json(parse_diff(diff_text))
    for row in rows:
        if row["status"] != "removed":
            row["sha"] = blob(root, head, row["filename"])
        if row.pop("patch", None) is not None and row["status"] != "added":
            old = row.get("previous_filename", row["filename"])
            fake.set_file(old, fork, git(root, "cat-file", "blob", f"{fork}:{old}"))
    fake.set_compare(base, head, diff_text, merge_base=fork)
    github, pr = pull(fake, base, head, diff_text, files=rows, diff_too_large=True)
    return github, pr, diff_text


def recovered(fetched: Any) -> int:
    return sum(not f.patch_missing and not f.binary for f in fetched.files)


def test_omitted_patches_are_read_from_git_when_githubs_blob_ids_verify(
    repo: tuple[Path, str, str], fake: FakeGitHub
) -> None:
    root, base, head = repo
    github, pr, diff_text = large_pull(fake, root, base, head)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.notices == () and fetched.unlisted == (), fetched.log
    assert fetched.log == (
        "GitHub omitted the patch of 6 large files; 6 were read from the git checkout, "
        "checked against GitHub's blob ids.",
    )
    assert parsed(fetched.files) == parsed(split_diff(diff_text))
    by_path = {f.path: f for f in fetched.files}
    assert by_path["new_name.py"].status is FileStatus.RENAMED and by_path["new_name.py"].old_path == "old_name.py"
    assert by_path["gone.py"].status is FileStatus.DELETED and by_path["logo.bin"].binary
    assert not any(f.unverified for f in fetched.files)
    auth = parse_file(by_path["app/auth.py"])
    assert [ln.text for h in auth.hunks for ln in h.lines if ln.kind == "-"] == [
        "    if not user.is_admin:",
        "        raise Forbidden('admins only')",
    ]


def test_nothing_the_checkout_configures_runs_or_changes_the_diff(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    root, base, head = repo
    github, pr, diff_text = large_pull(fake, root, base, head)
    marks = arm(root, tmp_path)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert sorted(p.name for p in marks.iterdir()) == []
    assert recovered(fetched) == 7 and fetched.notices == (), fetched.log
    assert parsed(fetched.files) == parsed(split_diff(diff_text))
    assert not (root / ".git" / "index.lock").exists()


def loose_object(root: Path, oid: str) -> Path:
    return root / ".git" / "objects" / oid[:2] / oid[2:]


def same_size_edit(root: Path, oid: str, *edits: tuple[bytes, bytes]) -> None:
    """Rewrite a loose blob in place with other content of the same length, keeping its name."""
    import zlib

    path = loose_object(root, oid)
    raw = zlib.decompress(path.read_bytes())
    for old, new in edits:
        assert old in raw and len(old) == len(new)
        raw = raw.replace(old, new)
    path.chmod(0o644)
    path.write_bytes(zlib.compress(raw))


def test_a_blob_edited_in_place_in_git_is_detected_and_github_used(
    repo: tuple[Path, str, str], fake: FakeGitHub
) -> None:
    """The head blob's content changes, its name does not: counts and ids agree, only the hash tells."""
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    same_size_edit(root, blob(root, head, "app/util.py"), (b"value_15 = 30", b"value_15 = 31"))

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1  # the API's own rows only: the binary, nothing from git
    assert "does not hash to its name" in fetched.log[0] and "fetch-depth: 0" in fetched.notices[0]


def test_a_base_blob_edited_to_hide_an_added_line_is_detected(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    """Moving a line between the two sides of the base blob keeps every count and the head blob genuine,
    yet would show other lines as changed: the base blob's hash gives it away."""
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    fork = git(root, "merge-base", base, head).strip()
    # value_15's real change becomes an unchanged line; value_16 looks changed instead: +1 -1 as before.
    same_size_edit(
        root,
        blob(root, fork, "app/util.py"),
        (b"value_15 = 15\n", b"value_15 = 30\n"),
        (b"value_16 = 16\n", b"value_16 = 61\n"),
    )
    shown = split_diff(git(root, "diff", "-M", f"{base}...{head}", "--", "app/util.py"))[0]
    assert (shown.added, shown.removed) == (1, 1) and "+value_15" not in shown.text  # what git alone would show

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1 and "does not hash to its name" in fetched.log[0]


def test_a_pack_edited_in_place_is_detected(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    # One pack, every object stored whole (no deltas: --window=0), so the blob below is always found; gc's
    # threaded delta search made the layout vary from run to run.
    git(root, "repack", "-a", "-d", "-q", "--window=0", "--depth=0")
    github, pr, _ = large_pull(fake, root, base, head)
    (pack,) = (root / ".git" / "objects" / "pack").glob("*.pack")
    data = pack.read_bytes()
    import zlib

    # Find the head blob of app/util.py stored whole (zlib stream) and rewrite it with the same length.
    target = b"".join(f"value_{i} = {i * 2 if i == 15 else i}\n".encode() for i in range(30))
    for at in range(len(data)):
        if data[at] == 0x78:
            try:
                d = zlib.decompressobj()
                out = d.decompress(data[at : at + 4096])
            except zlib.error:
                continue
            if out == target:
                size = len(data[at : at + 4096]) - len(d.unused_data)
                fake_stream = zlib.compress(target.replace(b"value_15 = 30", b"value_15 = 31"), 9)
                if len(fake_stream) <= size:
                    pack.chmod(0o644)
                    pack.write_bytes(data[:at] + fake_stream + b"\0" * (size - len(fake_stream)) + data[at + size :])
                    break
    else:
        pytest.skip("the blob is stored as a delta in this git's pack")

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1, fetched.log
    assert fetched.log and "does not hash to its name" in fetched.log[0]


def test_a_git_file_pointing_outside_the_workspace_is_refused(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    elsewhere = tmp_path / "elsewhere.git"
    (root / ".git").rename(elsewhere)
    (root / ".git").write_text(f"gitdir: {elsewhere}\n", encoding="utf-8")

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1
    assert "the workspace's .git is a file (a gitdir pointer), not a directory" in fetched.log[0]


def test_a_symlinked_git_directory_is_refused(repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    elsewhere = tmp_path / "elsewhere.git"
    (root / ".git").rename(elsewhere)
    (root / ".git").symlink_to(elsewhere)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1 and "the workspace's .git is a symlink" in fetched.log[0]


@pytest.mark.parametrize("target", ["/dev/zero", "outside-file"])
def test_a_symlink_inside_git_is_refused(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path, target: str
) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    oid = blob(root, head, "app/util.py")
    link = loose_object(root, oid)
    if target == "outside-file":
        outside = tmp_path / "outside"
        outside.write_bytes(link.read_bytes())
        target = str(outside)
    link.unlink()
    link.symlink_to(target)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1
    assert f".git/objects/{oid[:2]}/{oid[2:]} is a symlink" in fetched.log[0]


def test_a_fifo_inside_git_is_refused(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    os.mkfifo(root / ".git" / "packed-refs")

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1 and ".git/packed-refs is not a regular file" in fetched.log[0]


def test_alternates_pointing_elsewhere_are_refused(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    (root / ".git" / "objects" / "info").mkdir(exist_ok=True)
    (root / ".git" / "objects" / "info" / "alternates").write_text(str(tmp_path), encoding="utf-8")

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 1 and "alternates would make git read objects from elsewhere" in fetched.log[0]


def test_gits_memory_and_output_are_bounded(
    repo: tuple[Path, str, str], fake: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Smaller bounds than the real ones, so that an ordinary repository reaches them: git is stopped,
    and the run goes on with GitHub's files list."""
    from qodo_review import gitread

    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    monkeypatch.setattr(gitread, "MAX_GIT_OUTPUT_BYTES", 200)
    fetched = fetch_files(github, pr, Git.find(str(root)))
    assert recovered(fetched) == 1 and "git's output is over" in fetched.log[0]

    monkeypatch.setattr(gitread, "MAX_GIT_OUTPUT_BYTES", 10**8)
    monkeypatch.setattr(gitread, "MAX_GIT_MEMORY_BYTES", 4 * 1024 * 1024)
    fetched = fetch_files(github, pr, Git.find(str(root)))
    assert recovered(fetched) == 1
    assert "git could not start (Cannot allocate memory)" in fetched.log[0] or "resource limit" in fetched.log[0]


def test_a_blob_id_that_is_not_githubs_is_not_used(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    """GitHub's files list names another head blob (git holds another version): that file stays omitted."""
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    rows = fake._pulls[7]["files"]
    next(r for r in rows if r["filename"] == "app/util.py")["sha"] = "e" * 40

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert next(f for f in fetched.files if f.path == "app/util.py").patch_missing
    assert "6 large files; 5 were read" in fetched.log[0]


def test_commits_missing_from_the_checkout_mean_the_api(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    pr = replace(pr, head_sha="d" * 40)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert fetched.log == (
        f"The git checkout in the workspace was not used (commit {'d' * 12} is not in the "
        "checkout); only GitHub's files list is.",
    )


def test_a_partial_clone_never_fetches_missing_objects(
    repo: tuple[Path, str, str], fake: FakeGitHub, tmp_path: Path
) -> None:
    """Missing blobs would be fetched through `remote.origin.uploadpack`, a program the clone names."""
    root, base, head = repo
    git(root, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    git(
        tmp_path,
        "clone",
        "-q",
        "--no-checkout",
        "--filter=blob:none",
        "--no-single-branch",
        f"file://{root}",
        str(clone),
    )
    git(clone, "fetch", "-q", "origin", base, head)
    mark = tmp_path / "fetched"
    evil = tmp_path / "upload-pack"
    evil.write_text(f"#!/bin/sh\ntouch '{mark}'\nexec git-upload-pack \"$@\"\n", encoding="utf-8")
    evil.chmod(0o755)
    git(clone, "config", "remote.origin.uploadpack", str(evil))
    github, pr, _ = large_pull(fake, root, base, head)

    fetched = fetch_files(github, pr, Git.find(str(clone)))

    assert not mark.exists()
    assert "git diff failed: fatal: could not fetch" in fetched.log[0] and "from promisor remote" in fetched.log[0]


def test_repository_attributes_outside_the_tree_are_refused(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    (root / ".git" / "info").mkdir(exist_ok=True)
    (root / ".git" / "info" / "attributes").write_text("*.py -diff\n", encoding="utf-8")

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert ".git/info/attributes could change what git diff shows" in fetched.log[0]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to hand the repo away")
def test_a_checkout_owned_by_the_runner_user_is_read(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    """In the action's container we are root and the checkout belongs to the runner's user: git's
    dubious-ownership check guards discovery only, and we name the repository explicitly."""
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    for path in [root, *root.rglob("*")]:
        os.lchown(path, 1001, 1001)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert recovered(fetched) == 7, fetched.log


def test_git_is_found_by_its_absolute_path_never_through_path(
    tmp_path: Path, repo: tuple[Path, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier step can set PATH (through $GITHUB_ENV) to run its own `git`: PATH is not consulted."""
    root, _, _ = repo
    assert Git.find(str(tmp_path / "empty")) is None and Git.find("") is None
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    found = Git.find(str(root))
    assert found is not None and found.executable in TRUSTED_GIT
    monkeypatch.setattr("qodo_review.gitread.TRUSTED_GIT", (str(tmp_path / "nowhere"),))
    assert Git.find(str(root)) is None


@pytest.mark.parametrize("sha", ["--output=/tmp/x", "HEAD", "abc", "g" * 40])
def test_only_commit_ids_reach_git(repo: tuple[Path, str, str], fake: FakeGitHub, sha: str) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    pr = replace(pr, base_sha=sha)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert "is not a commit id" in fetched.log[0]


# --- the API: 406, pagination, omitted patches, the 3,000-file list ------------------------------------------


def many_files_diff(count: int, lines: int = 2) -> str:
    out = []
    for i in range(count):
        out.append(
            f"diff --git a/pkg/m{i}.py b/pkg/m{i}.py\n--- a/pkg/m{i}.py\n+++ b/pkg/m{i}.py\n"
            f"@@ -1,1 +1,{lines + 1} @@\n ctx\n" + "".join(f"+add {i}.{j}\n" for j in range(lines))
        )
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
    rows = [
        {
            "filename": f"f{i}.py",
            "status": "added",
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "patch": f"@@ -0,0 +1 @@\n+x{i}",
        }
        for i in range(3_004)
    ]
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


def test_an_omitted_patch_is_not_reviewed_and_says_how_to_fix_it(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
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


def test_a_recovered_patch_must_match_githubs_counts(repo: tuple[Path, str, str], fake: FakeGitHub) -> None:
    root, base, head = repo
    github, pr, _ = large_pull(fake, root, base, head)
    next(r for r in fake._pulls[7]["files"] if r["filename"] == "app/util.py")["additions"] = 7

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert next(f for f in fetched.files if f.path == "app/util.py").patch_missing
    assert fetched.log[-1].startswith("GitHub omitted the patch of 6 large files; 5 were read from the git checkout")
    assert "fetch-depth: 0" in fetched.notices[0]


def test_files_past_githubs_list_are_read_from_git_and_marked_unverified(tmp_path: Path, fake: FakeGitHub) -> None:
    """GitHub lists 3,000 files and names no blob for the rest: git's diff must agree with every listed file
    and with the PR's totals; its other files are used, marked unverified (coverage counts them)."""
    from fakes.github_server import files_json, parse_diff

    root = tmp_path / "workspace"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "README.md", "base\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    base = git(root, "rev-parse", "HEAD").strip()
    for i in range(3_003):
        write(root, f"pkg/m{i:04}.py", f"x = {i}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "many")
    head = git(root, "rev-parse", "HEAD").strip()
    diff_text = expected_diff(root, base, head)
    ids = {
        path: meta.split()[2]
        for meta, path in (line.split("\t", 1) for line in git(root, "ls-tree", "-r", head).splitlines())
    }
    rows = files_json(parse_diff(diff_text))
    for row in rows:
        row["sha"] = ids[row["filename"]]
    github, pr = pull(fake, base, head, diff_text, files=rows, diff_too_large=True)

    fetched = fetch_files(github, pr, Git.find(str(root)))

    assert len(fetched.files) == 3_003 and fetched.unlisted == (), fetched.log
    assert [f.path for f in fetched.files if f.unverified] == ["pkg/m3000.py", "pkg/m3001.py", "pkg/m3002.py"]
    assert "3 files past GitHub's 3,000-file list were read from the git checkout, unverified" in fetched.log[0]

    rows[5]["sha"] = "e" * 40  # git's blob of a listed file is not GitHub's: nothing of git's is used
    fetched = fetch_files(github, pr, Git.find(str(root)))
    assert len(fetched.files) == 3_000 and fetched.unlisted[0].files == 3
    assert "is not the one GitHub lists" in fetched.log[0]
