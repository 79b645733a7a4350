"""Run the action's image the way GitHub's runner runs a Docker action, with podman or docker.

The runner (actions/runner, ContainerActionHandler) starts the container with the workspace and its temp
folders mounted at fixed places and the job's paths translated to them:

    docker run --workdir /github/workspace --rm -e INPUT_... -e HOME -e GITHUB_... -e GITHUB_ACTIONS=true
      -e CI=true -v <temp>/_github_home:/github/home -v <temp>/_github_workflow:/github/workflow
      -v <temp>/_runner_file_commands:/github/file_commands -v <temp>:/github/runner_temp
      -v <workspace>:/github/workspace <image>

and the environment of `runs.env` in action.yml, whose `${{ inputs.x }}` are the step's `with:` values or
the inputs' defaults. Here the same folders are made under a test's tmp directory, the fake GitHub and the
fake provider listen on the host's 127.0.0.1 (`--network host`), and a following step is the test itself,
on the host, in the workspace.

The network lockdown and flight recorder of tests/fakes/lockdown is mounted read-only as the image's
`sitecustomize` (the image runs `python -I`, which ignores PYTHONPATH but still imports sitecustomize from
its own site-packages): every connection, name lookup, process and file written inside the container is
recorded, and anything but the two fakes is refused.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCKDOWN = ROOT / "tests" / "fakes" / "lockdown" / "sitecustomize.py"
TOKEN = "ghs_fake-token"  # FakeGitHub's default token
API_KEY = "sk-test-key-0123456789abcdef"
SHA_HEAD = "c" * 40
AUDIT_DIR = "/qodo-audit"  # where the container writes the lockdown's logs (a test-only mount)
_EXPRESSION = re.compile(r"^\$\{\{\s*(inputs\.[\w-]+|github\.token|github\.workspace)\s*\}\}$")
# The workspace's path on a hosted runner (what ${{ github.workspace }} gives; the container sees it mounted
# at /github/workspace).
RUNNER_WORKSPACE = "/home/runner/work/repo/repo"


def image() -> str:
    """The image under test, named by QODO_IMAGE (empty: the image tests are skipped)."""
    return os.environ.get("QODO_IMAGE", "")


@cache
def engine() -> str:
    """QODO_CONTAINER_ENGINE, else docker when its daemon answers, else podman."""
    chosen = os.environ.get("QODO_CONTAINER_ENGINE", "")
    if chosen:
        return chosen
    if shutil.which("docker"):
        done = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=60)
        if done.returncode == 0:
            return "docker"
    return "podman"


@dataclass
class ImageRun:
    code: int
    stdout: str
    stderr: str
    summary: str
    outputs: dict[str, str]
    workspace: Path
    violations: list[str]
    audit: list[dict[str, Any]]
    command: list[str]

    def findings(self) -> dict[str, Any]:
        """What a following step reads: the `findings_file` output, opened as is from the workspace, where the
        runner starts every step (`run:` steps' working directory is $GITHUB_WORKSPACE)."""
        path = self.outputs["findings_file"]
        assert not os.path.isabs(path), f"findings_file {path!r} is a path inside the container"
        previous = os.getcwd()
        os.chdir(self.workspace)
        try:
            with open(path, encoding="utf-8") as fh:
                data: dict[str, Any] = json.load(fh)
        finally:
            os.chdir(previous)
        return data


@cache
def _action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def action_env(inputs: dict[str, str]) -> dict[str, str]:
    """action.yml's `runs.env`, as the runner evaluates it: `${{ inputs.x }}` is the step's value or the
    input's default; `${{ github.token }}` the job's token, `${{ github.workspace }}` the runner's workspace."""
    action = _action()
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {sorted(unknown)}"

    def value(expression: str) -> str:
        match = _EXPRESSION.match(str(expression))
        assert match, f"unexpected expression in action.yml: {expression!r}"
        name = match.group(1)
        if name == "github.token":
            return TOKEN
        if name == "github.workspace":
            return RUNNER_WORKSPACE
        key = name.removeprefix("inputs.")
        if key in inputs:
            return inputs[key]
        default = str(declared[key].get("default", ""))
        return value(default) if default.startswith("${{") else default

    return {name: value(expression) for name, expression in action["runs"]["env"].items()}


def input_env(inputs: dict[str, str]) -> dict[str, str]:
    """The runner also sets INPUT_<NAME> (upper case, hyphens kept) for every declared input."""
    action = _action()
    out = {}
    for name, spec in action["inputs"].items():
        default = str(spec.get("default", ""))
        out[f"INPUT_{name.upper()}"] = inputs.get(name, TOKEN if default == "${{ github.token }}" else default)
    return out


@cache
def sitecustomize_target(name: str) -> str:
    """Where the image's Python looks for `sitecustomize`: an existing one (Debian's) or site-packages."""
    probe = (
        "import importlib.util, site, os; s = importlib.util.find_spec('sitecustomize'); "
        "print(s.origin if s else os.path.join(site.getsitepackages()[0], 'sitecustomize.py'))"
    )
    done = subprocess.run(
        [engine(), "run", "--rm", "--network", "none", "--entrypoint", "python", name, "-I", "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout.strip()


RUNNER_UID = 1001  # the `runner` user of GitHub's hosted runners, who owns the workspace and _temp


def _as_runner_user(tmp: Path) -> None:
    """Run as root (as here), the folders would be the container root's own; on a hosted runner they are the
    runner user's, and the container's root writes into them and reads a checkout it does not own. Same here."""
    for folder, _, files in os.walk(tmp):
        for path in (folder, *(os.path.join(folder, f) for f in files)):
            os.chown(path, RUNNER_UID, RUNNER_UID, follow_symlinks=False)


def run_image(
    tmp: Path,
    *,
    github_url: str,
    llm_url: str = "",
    event_name: str = "pull_request",
    payload: dict[str, Any] | None = None,
    inputs: dict[str, str] | None = None,
    workspace: Path | None = None,
    name: str | None = None,
    timeout: float = 300,
    lockdown: bool = True,
) -> ImageRun:
    """One step of the action in the container; `workspace` is an existing checkout to mount (default: an
    empty folder, as when a workflow has no checkout step). `lockdown=False` (benchmarks) runs the image
    exactly as built, without the recorder."""
    name = name or image()
    temp = tmp / "_temp"
    home, workflow, commands = temp / "_github_home", temp / "_github_workflow", temp / "_runner_file_commands"
    audit_dir = tmp / "_audit"
    for folder in (home, workflow, commands, audit_dir):
        folder.mkdir(parents=True, exist_ok=True)
    if workspace is None:
        workspace = tmp / "workspace"
        workspace.mkdir(exist_ok=True)
    (workflow / "event.json").write_text(json.dumps(payload or {}), encoding="utf-8")
    step = uuid.uuid4()
    output_name, summary_name = f"set_output_{step}", f"step_summary_{step}"
    for file_command in (output_name, summary_name):
        (commands / file_command).touch()  # the runner creates them, empty, before the step
    for log in ("violations.txt", "audit.jsonl"):
        # Made here, so this user can read them: the container's root would create them 0600 as root (docker).
        (audit_dir / log).touch()

    if os.geteuid() == 0:
        _as_runner_user(tmp)
    values = {"github-token": TOKEN, "api-key": API_KEY, "provider": "openai"}
    if llm_url:
        values["base-url"] = f"{llm_url}/v1"
    values.update(inputs or {})
    ports = [str(urlsplit(u).port) for u in (github_url, llm_url) if u]
    env = {
        **input_env(values),
        "HOME": "/github/home",
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_REPOSITORY_OWNER": "owner",
        "GITHUB_API_URL": github_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": f"/github/file_commands/{output_name}",
        "GITHUB_STEP_SUMMARY": f"/github/file_commands/{summary_name}",
        "GITHUB_SHA": SHA_HEAD,
        "RUNNER_OS": "Linux",
        "RUNNER_TEMP": "/github/runner_temp",
        "QODO_TEST_ALLOWED_PORTS": ",".join(ports),
        "QODO_TEST_VIOLATIONS": f"{AUDIT_DIR}/violations.txt",
        "QODO_TEST_AUDIT": f"{AUDIT_DIR}/audit.jsonl",
        **action_env(values),
    }
    command = [engine(), "run", "--rm", "--network", "host", "--workdir", "/github/workspace"]
    for key, val in env.items():
        if lockdown or not key.startswith("QODO_TEST_"):
            command += ["-e", f"{key}={val}"]
    for source, target, mode in (
        (home, "/github/home", "rw"),
        (workflow, "/github/workflow", "rw"),
        (commands, "/github/file_commands", "rw"),
        (temp, "/github/runner_temp", "rw"),
        (workspace, "/github/workspace", "rw"),
    ):
        command += ["-v", f"{source}:{target}:{mode}"]
    if lockdown:
        command += ["-v", f"{audit_dir}:{AUDIT_DIR}:rw", "-v", f"{LOCKDOWN}:{sitecustomize_target(name)}:ro"]

    command.append(name)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    outputs: dict[str, str] = {}
    for line in (commands / output_name).read_text(encoding="utf-8").splitlines():
        key, _, val = line.partition("=")
        outputs[key] = val
    violations = audit_dir / "violations.txt"
    audit = audit_dir / "audit.jsonl"
    return ImageRun(
        code=done.returncode,
        stdout=done.stdout,
        stderr=done.stderr,
        summary=(commands / summary_name).read_text(encoding="utf-8"),
        outputs=outputs,
        workspace=workspace,
        violations=violations.read_text(encoding="utf-8").splitlines() if violations.exists() else [],
        audit=[json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()] if audit.exists() else [],
        command=command,
    )
