"""Run the action the way GitHub runs a container action: entrypoint.py in a subprocess, with the
GitHub environment set, the API URL pointing at a local fake, and the network locked down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qodo_review.inputs import INPUT_ENV

ROOT = Path(__file__).resolve().parents[1]
LOCKDOWN = Path(__file__).resolve().parent / "fakes" / "lockdown"
TOKEN = "ghs_fake-token"  # FakeGitHub's default token
SHA_BASE = "b" * 40
SHA_HEAD = "c" * 40


@dataclass
class ActionRun:
    code: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    findings: dict[str, Any] | None
    violations: list[str]


def pr_event(number: int = 7, action: str = "opened", **pull: Any) -> dict[str, Any]:
    return {"action": action, "number": number,
            "pull_request": {"number": number, "draft": False, "user": {"login": "alice"}, **pull},
            "repository": {"full_name": "owner/repo"}, "sender": {"login": "alice"}}


def comment_event(body: str, comment_id: int, *, number: int = 7, login: str = "maintainer", on_pr: bool = True,
                  review_thread: bool = False) -> dict[str, Any]:
    """An `issue_comment` (or, with review_thread, a `pull_request_review_comment`) "created" payload,
    shaped like GitHub's (octokit's examples): a PR conversation comment's issue has a `pull_request` key."""
    comment = {"id": comment_id, "body": body, "user": {"login": login, "type": "User"},
               "author_association": "MEMBER", "created_at": "2024-01-01T00:00:00Z"}
    base = {"action": "created", "comment": comment, "repository": {"full_name": "owner/repo"},
            "sender": {"login": login, "type": "User"}}
    if review_thread:
        return {**base, "pull_request": {"number": number, "user": {"login": "alice"}, "draft": False}}
    issue: dict[str, Any] = {"number": number, "title": "Add user search", "state": "open",
                             "user": {"login": "alice"}}
    if on_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/owner/repo/pulls/{number}",
                                 "html_url": f"https://github.com/owner/repo/pull/{number}"}
    return {**base, "issue": issue}


def run_action(tmp: Path, *, github_url: str, llm_url: str = "", event_name: str = "pull_request",
               payload: dict[str, Any] | str | None = None, inputs: dict[str, str] | None = None,
               extra_env: dict[str, str] | None = None, timeout: float = 60, isolated: bool = False) -> ActionRun:
    """isolated runs `python -I entrypoint.py` as the image does; the network lockdown (loaded through
    PYTHONPATH, which -I ignores) is then off, so use it only where the test needs the image's isolation."""
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_text = payload if isinstance(payload, str) else json.dumps(payload if payload is not None else pr_event())
    event_path.write_text(event_text, encoding="utf-8")
    summary, outputs, violations = tmp / "summary.md", tmp / "output.txt", tmp / "violations.txt"
    workspace = tmp / "workspace"
    workspace.mkdir(exist_ok=True)
    ports = [str(urlsplit(u).port) for u in (github_url, llm_url) if u]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "PYTHONPATH": str(LOCKDOWN),
        "QODO_TEST_ALLOWED_PORTS": ",".join(ports),
        "QODO_TEST_VIOLATIONS": str(violations),
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_API_URL": github_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_SHA": SHA_HEAD,
        "RUNNER_TEMP": str(tmp / "runner-temp"),
    }
    values = {"github-token": TOKEN, "api-key": "sk-test-key-0123456789abcdef", "provider": "openai",
              "base-url": f"{llm_url}/v1" if llm_url else ""}
    values.update(inputs or {})
    for name, value in values.items():
        env[INPUT_ENV[name]] = value
    env.update(extra_env or {})
    command = [sys.executable, *(["-I"] if isolated else []), str(ROOT / "entrypoint.py")]
    done = subprocess.run(command, env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=workspace)
    parsed: dict[str, str] = {}
    if outputs.exists():
        for line in outputs.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            parsed[key] = value
    findings_path = workspace / values.get("findings-file", "qodo-findings.json")
    return ActionRun(
        code=done.returncode, stdout=done.stdout, stderr=done.stderr,
        summary=summary.read_text(encoding="utf-8") if summary.exists() else "",
        outputs=parsed,
        findings=json.loads(findings_path.read_text(encoding="utf-8")) if findings_path.exists() else None,
        violations=violations.read_text(encoding="utf-8").splitlines() if violations.exists() else [],
    )
