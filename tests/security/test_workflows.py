"""The project's own workflows: actions pinned by full commit SHA, no permission by default and the least per
job, no persisted git credentials, and zizmor clean (when it is installed: the dev extra; CI runs it too)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SHA_PINNED = re.compile(r"[\w.-]+/[\w.-]+(?:/[\w./-]+)?@[0-9a-f]{40}")
# What a job of this repository may ask for, and nothing else.
ALLOWED_PERMISSIONS = {"contents": "read", "pull-requests": "write", "checks": "write"}
# The release and publishing workflows (RELEASING.md) push an image, sign attestations and tags: only they
# may ask for more, each scope at most at this level.
ALLOWED_PERMISSIONS_OF = {
    "release.yml": {"contents": "write", "packages": "write", "id-token": "write", "attestations": "write"},
    "pypi.yml": {"contents": "read", "id-token": "write"},
}


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_workflow_is_pinned_and_least_privileged(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text("utf-8"))
    assert workflow["permissions"] == {}, "nothing by default: each job asks for what it uses"
    allowed = ALLOWED_PERMISSIONS_OF.get(path.name, ALLOWED_PERMISSIONS)
    for name, job in workflow["jobs"].items():
        granted = job.get("permissions")
        assert isinstance(granted, dict) and granted, f"job {name} must list its permissions"
        for scope, level in granted.items():  # a listed scope, at its level or read-only
            assert scope in allowed and level in (allowed[scope], "read"), (scope, level)
        assert "timeout-minutes" in job
    for step in steps(workflow):
        uses = step.get("uses")
        if uses is None:
            continue
        assert uses in ("./", "./.qodo-review-action") or SHA_PINNED.fullmatch(uses), f"{uses} is not pinned"
        if uses.startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_self_review_never_runs_the_pull_requests_code() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "self-review.yml").read_text("utf-8"))
    checkout = next(s for s in steps(workflow) if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"
    assert "pull_request_target" not in workflow[True] and "issue_comment" not in workflow[True]


@pytest.mark.skipif(shutil.which("zizmor") is None, reason="zizmor is not installed (pip install -e '.[dev]')")
def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        ["zizmor", "--offline", "--no-progress", str(ROOT / ".github" / "workflows")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
