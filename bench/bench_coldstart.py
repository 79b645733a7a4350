"""Cold start: from process start to the first request the provider receives, for the action and the CLI.

Run: `python bench/bench_coldstart.py [--runs 7]`. A FakeLLM and a FakeGitHub (tests/fakes) run in this
process; the action (entrypoint.py, as GitHub runs it) and the CLI are started as fresh interpreters
on the example PR, and the fake provider notes when the first request arrives. The clock starts just
before the process is spawned, so interpreter start-up, imports and the GitHub round trips are all in.
Each line gives the median and the best of the runs. `--github-latency 0.1` makes the fake GitHub answer
after 100 ms, as api.github.com does from a runner: the provider SDK is imported while those waits last.
Then `-X importtime` shows what the action imports, and which provider SDKs end up loaded (only the
chosen one should).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from fakes.github_server import FakeGitHub, RecordedRequest
from fakes.github_server import Reply as GitHubReply
from fakes.llm_server import FakeLLM, Reply, Request, default_reply

from qodo_review.inputs import INPUT_ENV

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
SHA_BASE, SHA_HEAD = "b" * 40, "c" * 40
MODELS = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-6"}


class SlowGitHub(FakeGitHub):
    """The fake GitHub, answering each request after a fixed network latency."""

    latency = 0.0

    def handle(self, req: RecordedRequest) -> GitHubReply:
        time.sleep(self.latency)
        return super().handle(req)


class FirstRequest:
    """The fake provider's answer function, noting when the first request of a run arrives."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            # A Vertex run asks the (fake) token endpoint first: the model call is the request that counts.
            if self.at is None and not request.path.endswith("/token"):
                self.at = time.perf_counter()
        return default_reply(request)


def action_env(tmp: Path, github: str, llm: str, provider: str) -> dict[str, str]:
    event = tmp / "event.json"
    event.write_text(
        '{"action": "opened", "number": 7, "pull_request": {"number": 7, "draft": false, '
        '"user": {"login": "alice"}}, "repository": {"full_name": "owner/repo"}}',
        encoding="utf-8",
    )
    (tmp / "workspace").mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp),
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_API_URL": github,
        "GITHUB_WORKSPACE": str(tmp / "workspace"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "GITHUB_OUTPUT": str(tmp / "output.txt"),
    }
    inputs = {
        "github-token": "ghs_fake-token",
        "api-key": "sk-bench-0123456789",
        "provider": provider,
        "base-url": llm + ("/v1" if provider == "openai" else ""),
    }
    env.update({INPUT_ENV[name]: value for name, value in inputs.items()})
    env.update(cloud_env(tmp, llm, provider))
    return env


# The cloud providers (issue 14): their inputs, and the credentials an earlier step would leave.
CLOUD_MODELS = {
    "azure-openai": "my-gpt41",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "vertex": "claude-sonnet-4-5@20250929",
}


def cloud_env(tmp: Path, llm: str, provider: str) -> dict[str, str]:
    if provider not in CLOUD_MODELS:
        return {}
    env = {INPUT_ENV["model"]: CLOUD_MODELS[provider], INPUT_ENV["base-url"]: llm}
    if provider == "azure-openai":
        env[INPUT_ENV["model-family"]] = "gpt-4.1"
    if provider == "bedrock":
        env.update({INPUT_ENV["api-key"]: "", INPUT_ENV["aws-region"]: "us-east-1"})
        env.update({"AWS_ACCESS_KEY_ID": "ASIABENCH0123456789", "AWS_SECRET_ACCESS_KEY": "bench-secret-0123456789"})
    if provider == "vertex":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        info = {"type": "service_account", "private_key": pem, "token_uri": f"{llm}/token"}
        info |= {"client_email": "bench@p.iam.gserviceaccount.com", "private_key_id": "bench0123456789"}
        path = tmp / "workspace" / "gha-creds-bench.json"
        path.write_text(json.dumps(info), encoding="utf-8")
        env.update({INPUT_ENV["api-key"]: "", INPUT_ENV["base-url"]: f"{llm}/v1"})
        env.update({INPUT_ENV["gcp-project"]: "my-project-123", INPUT_ENV["gcp-region"]: "us-east5"})
        env["GOOGLE_APPLICATION_CREDENTIALS"] = str(path)
    return env


def cli_command(llm: str, provider: str) -> tuple[list[str], dict[str, str]]:
    base = llm + ("/v1" if provider == "openai" else "")
    command = [
        sys.executable,
        "-m",
        "qodo_review.cli",
        "review",
        "--diff",
        str(ROOT / "examples" / "sample.diff"),
        "--provider",
        provider,
        "--base-url",
        base,
        "--api-key",
        "sk-bench-0123456789",
    ]
    return command, {"PATH": os.environ.get("PATH", ""), "HOME": tempfile.gettempdir()}


def timed(command: list[str], env: dict[str, str], recorder: FirstRequest, cwd: Path) -> tuple[float, float]:
    """(seconds to the first provider request, seconds to exit) of one fresh process."""
    recorder.at = None
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    end = time.perf_counter()
    if recorder.at is None:
        raise SystemExit(f"no provider request (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return recorder.at - start, end - start


def importtime(env: dict[str, str], cwd: Path) -> tuple[list[tuple[int, str]], set[str]]:
    """The slowest top-level imports of one action run (cumulative microseconds), and the SDKs it loaded."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "entrypoint.py")],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    top: list[tuple[int, str]] = []
    loaded: set[str] = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        module = name.strip()
        if module.split(".")[0] in ("openai", "anthropic", "boto3", "botocore", "google"):
            loaded.add(module.split(".")[0])
        if not name.startswith("  ") and cumulative.strip().isdigit():
            top.append((int(cumulative), module))
    return sorted(top, reverse=True)[:8], loaded


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--github-latency", type=float, default=0.0, help="seconds before each GitHub answer")
    parser.add_argument(
        "--providers", default="openai,anthropic", help="comma list; azure-openai, bedrock, vertex: the action only"
    )
    args = parser.parse_args(argv)
    SlowGitHub.latency = args.github_latency
    recorder = FirstRequest()
    with FakeLLM() as llm, tempfile.TemporaryDirectory() as tmp_name:
        llm.default = recorder
        tmp = Path(tmp_name)
        print("| what | provider | first request (median, best) | process exit (median) |")
        print("|---|---|---:|---:|")
        providers = args.providers.split(",")
        for provider in providers:
            cli, cli_env = cli_command(llm.url, provider)
            for what in ("action", "CLI") if provider not in CLOUD_MODELS else ("action",):
                runs = []
                for _ in range(args.runs):
                    with SlowGitHub() as github:  # a new PR each time: a first review, not an incremental one
                        github.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE)
                        if what == "action":
                            command, env = (
                                [sys.executable, str(ROOT / "entrypoint.py")],
                                action_env(tmp, github.url, llm.url, provider),
                            )
                        else:
                            command, env = cli, cli_env
                        runs.append(timed(command, env, recorder, tmp))
                firsts = [first for first, _ in runs]
                print(
                    f"| {what} | {provider} | {statistics.median(firsts):.2f} s, {min(firsts):.2f} s | "
                    f"{statistics.median(total for _, total in runs):.2f} s |",
                    flush=True,
                )
        for provider in providers:
            with SlowGitHub() as github:
                github.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE)
                top, loaded = importtime(action_env(tmp, github.url, llm.url, provider), tmp)
            print(f"\naction with {provider}: SDKs imported: {', '.join(sorted(loaded)) or 'none'}; slowest imports:")
            for micros, module in top:
                print(f"  {micros / 1000:7.0f} ms  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
