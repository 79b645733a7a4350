"""Run the action the way GitHub runs a container action: the GitHub environment set, the API URL pointing
at a local fake.

By default the run is in-process: `action.main(env, stream, clock=...)` with a clock whose sleep returns at
once and records the wait, so the suite does not sit through Retry-After and backoff delays, and the SDKs
are imported once per test session. A run whose extra environment is not the action's own (QODO_*,
GITHUB_*, RUNNER_*) is about the process (the SDKs' environment, PYTHONPATH, PATH ...) and runs
entrypoint.py in a subprocess with the network lockdown, as does any run with `subprocess=True`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess as _subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fakes.lockdown import sitecustomize as lockdown

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
    waits: list[float] = field(default_factory=list)  # what the action slept for (in-process runs)


class FakeClock:
    """A monotonic clock that moves only when the action sleeps; every wait is recorded."""

    def __init__(self) -> None:
        self.time = 1000.0
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self.time

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)
            self.time += max(0.0, seconds)


PROCESS_FREE_PREFIXES = ("QODO_", "GITHUB_", "RUNNER_", "INPUT_")


def pr_event(number: int = 7, action: str = "opened", **pull: Any) -> dict[str, Any]:
    return {
        "action": action,
        "number": number,
        "pull_request": {"number": number, "draft": False, "user": {"login": "alice"}, **pull},
        "repository": {"full_name": "owner/repo"},
        "sender": {"login": "alice"},
    }


def comment_event(
    body: str,
    comment_id: int,
    *,
    number: int = 7,
    login: str = "maintainer",
    on_pr: bool = True,
    review_thread: bool = False,
) -> dict[str, Any]:
    """An `issue_comment` (or, with review_thread, a `pull_request_review_comment`) "created" payload,
    shaped like GitHub's (octokit's examples): a PR conversation comment's issue has a `pull_request` key."""
    comment = {
        "id": comment_id,
        "body": body,
        "user": {"login": login, "type": "User"},
        "author_association": "MEMBER",
        "created_at": "2024-01-01T00:00:00Z",
    }
    base = {
        "action": "created",
        "comment": comment,
        "repository": {"full_name": "owner/repo"},
        "sender": {"login": login, "type": "User"},
    }
    if review_thread:
        return {**base, "pull_request": {"number": number, "user": {"login": "alice"}, "draft": False}}
    issue: dict[str, Any] = {"number": number, "title": "Add user search", "state": "open", "user": {"login": "alice"}}
    if on_pr:
        issue["pull_request"] = {
            "url": f"https://api.github.com/repos/owner/repo/pulls/{number}",
            "html_url": f"https://github.com/owner/repo/pull/{number}",
        }
    return {**base, "issue": issue}


def run_action(
    tmp: Path,
    *,
    github_url: str,
    llm_url: str = "",
    event_name: str = "pull_request",
    payload: dict[str, Any] | str | None = None,
    inputs: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60,
    subprocess: bool | None = None,
    isolated: bool = False,
) -> ActionRun:
    """isolated runs `python -I entrypoint.py` in a subprocess as the image does; the network lockdown (loaded
    through PYTHONPATH, which -I ignores) is then off, so use it only where the test needs the image's
    isolation."""
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
    values = {
        "github-token": TOKEN,
        "api-key": "sk-test-key-0123456789abcdef",
        "provider": "openai",
        "base-url": f"{llm_url}/v1" if llm_url else "",
    }
    values.update(inputs or {})
    for name, value in values.items():
        env[INPUT_ENV[name]] = value
    env.update(extra_env or {})
    if subprocess is None:
        subprocess = isolated or any(not k.startswith(PROCESS_FREE_PREFIXES) for k in extra_env or {})
    waits: list[float] = []
    if subprocess:
        code, stdout, stderr = _in_subprocess(env, workspace, timeout, isolated)
    else:
        code, stdout, stderr, waits = _in_process(env, workspace)
    parsed: dict[str, str] = {}
    if outputs.exists():
        for line in outputs.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            parsed[key] = value
    findings_path = workspace / values.get("findings-file", "qodo-findings.json")
    return ActionRun(
        code=code,
        stdout=stdout,
        stderr=stderr,
        waits=waits,
        summary=summary.read_text(encoding="utf-8") if summary.exists() else "",
        outputs=parsed,
        findings=json.loads(findings_path.read_text(encoding="utf-8")) if findings_path.exists() else None,
        violations=violations.read_text(encoding="utf-8").splitlines() if violations.exists() else [],
    )


def _in_subprocess(env: dict[str, str], workspace: Path, timeout: float, isolated: bool) -> tuple[int, str, str]:
    env = {"PYTHONDONTWRITEBYTECODE": "1", **env}  # as the image sets
    command = [sys.executable, *(["-I"] if isolated else []), str(ROOT / "entrypoint.py")]
    done = _subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=workspace)
    return done.returncode, done.stdout, done.stderr


def _in_process(env: dict[str, str], workspace: Path) -> tuple[int, str, str, list[float]]:
    """action.main in this process, under the same lockdown and flight recorder as a subprocess: its working
    directory, temp dir and bytecode setting restored afterwards; log records go to its stderr, as the
    logging module's last-resort handler sends them there in the container."""
    from qodo_review import action

    clock = FakeClock()
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd, tempdir, bytecode = os.getcwd(), tempfile.tempdir, sys.dont_write_bytecode
    handler = logging.StreamHandler(stderr)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    os.chdir(workspace)
    sys.dont_write_bytecode = True  # as the image sets PYTHONDONTWRITEBYTECODE: no write to site-packages
    root.addHandler(handler)
    lockdown.activate(env["QODO_TEST_ALLOWED_PORTS"], env["QODO_TEST_VIOLATIONS"], env.get("QODO_TEST_AUDIT", ""))
    try:
        with contextlib.redirect_stderr(stderr):
            code = action.main(env, stdout, clock=action.Clock(now=clock.now, sleep=clock.sleep))
    finally:
        lockdown.deactivate()
        root.removeHandler(handler)
        os.chdir(cwd)
        tempfile.tempdir, sys.dont_write_bytecode = tempdir, bytecode
    return code, stdout.getvalue(), stderr.getvalue(), clock.waits
