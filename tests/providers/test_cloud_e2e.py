"""The cloud providers end to end through entrypoint.py: credentials only from where the issue says, masked,
never in any output; the privacy manifest names the hosts; what an earlier step could plant is ignored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from e2e import SHA_BASE, SHA_HEAD, ActionRun, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FAKE_GOOGLE_TOKEN, FakeLLM

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "ASIAE2EFAKEACCESSKEY",
    "AWS_SECRET_ACCESS_KEY": "e2e-aws-secret-SECRET-0123456789abcdefgh",
    "AWS_SESSION_TOKEN": "e2e-aws-session-SECRET-0123456789abcdefgh",
}
BEDROCK_MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
RUNNER_WORKSPACE = "/home/runner/work/repo/repo"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


def everything_printed(run: ActionRun, github: FakeGitHub) -> str:
    """Every output of the run but the ::add-mask:: commands themselves, and everything posted to GitHub."""
    log = "\n".join(line for line in run.stdout.splitlines() if not line.startswith("::add-mask::"))
    posted = json.dumps([req.json for req in github.requests])
    return "\n".join([log, run.stderr, run.summary, json.dumps(run.outputs), json.dumps(run.findings), posted])


def test_bedrock_uses_only_the_three_variables(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """An earlier step planted a profile with credential_process, an endpoint override, a bearer token and a
    metadata endpoint: none is used, no process runs, nothing but the fakes is contacted."""
    marker = tmp_path / "credential-process-ran"
    config = tmp_path / "aws-config"
    config.write_text(f'[profile evil]\ncredential_process = /bin/sh -c "touch {marker}"\nregion = eu-west-1\n')
    planted = {
        "AWS_PROFILE": "evil",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9/",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9/",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9/",
        "AWS_BEARER_TOKEN_BEDROCK": "planted-bearer-token-0123456789",
        "ANTHROPIC_BEDROCK_BASE_URL": "http://127.0.0.1:9/",
    }
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        inputs={
            "provider": "bedrock",
            "api-key": "",
            "base-url": llm.url,
            "model": BEDROCK_MODEL,
            "aws-region": "us-east-1",
        },
        extra_env={**AWS_ENV, **planted},
    )
    assert run.code == 0, run.stdout + run.stderr
    assert not marker.exists() and run.violations == []
    (request,) = llm.requests
    assert unquote(request.path) == f"/model/{BEDROCK_MODEL}/invoke"
    assert request.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={AWS_ENV['AWS_ACCESS_KEY_ID']}/")
    assert request.headers["x-amz-security-token"] == AWS_ENV["AWS_SESSION_TOKEN"]
    for value in AWS_ENV.values():
        assert f"::add-mask::{value}" in run.stdout
        assert value not in everything_printed(run, github)
    assert f"**Sent** to `{urlsplit(llm.url).netloc}`" in run.summary


def test_bedrock_without_credentials_says_which_step_to_add(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(
        tmp_path,
        github_url=github.url,
        inputs={"provider": "bedrock", "api-key": "", "model": BEDROCK_MODEL, "aws-region": "us-east-1"},
    )
    assert run.code == 2
    assert "aws-actions/configure-aws-credentials" in run.stdout


def test_bedrock_expired_session_is_a_usage_error(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    llm.enqueue(
        status=403,
        json={"message": f"The security token included in the request is expired: {AWS_ENV['AWS_SESSION_TOKEN']}"},
        headers={"x-amzn-ErrorType": "ExpiredTokenException:http://internal/"},
    )
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        inputs={
            "provider": "bedrock",
            "api-key": "",
            "base-url": llm.url,
            "model": BEDROCK_MODEL,
            "aws-region": "us-east-1",
        },
        extra_env=AWS_ENV,
    )
    assert run.code == 2 and "expired" in run.stdout
    assert AWS_ENV["AWS_SESSION_TOKEN"] not in everything_printed(run, github)


def service_account_json(url: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": "my-project-123",
        "private_key_id": "e2e0123456789abcdef0123456789abcdef01234",
        "private_key": pem.decode(),
        "client_email": "reviewer@my-project-123.iam.gserviceaccount.com",
        "token_uri": f"{url}/token",
    }
    return json.dumps(info)


def test_vertex_reads_the_credentials_file_at_its_runner_path(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    """google-github-actions/auth sets GOOGLE_APPLICATION_CREDENTIALS to a runner path in the workspace; the
    container sees the workspace elsewhere, and the file is found there."""
    text = service_account_json(llm.url)
    (tmp_path / "workspace").mkdir(parents=True)
    (tmp_path / "workspace" / "gha-creds-0123.json").write_text(text)
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        inputs={
            "provider": "vertex",
            "api-key": "",
            "base-url": f"{llm.url}/v1",
            "model": "claude-sonnet-4-5@20250929",
            "gcp-project": "my-project-123",
            "gcp-region": "us-east5",
        },
        extra_env={
            "GOOGLE_APPLICATION_CREDENTIALS": f"{RUNNER_WORKSPACE}/gha-creds-0123.json",
            "QODO_RUNNER_WORKSPACE": RUNNER_WORKSPACE,
        },
    )
    assert run.code == 0, run.stdout + run.stderr
    token, predict = llm.requests
    assert token.path == "/token" and predict.path.endswith("/models/claude-sonnet-4-5@20250929:rawPredict")
    assert predict.headers["authorization"] == f"Bearer {FAKE_GOOGLE_TOKEN}"
    host = urlsplit(llm.url).netloc
    assert f"Access token requested from `{host}`" in run.summary
    printed = everything_printed(run, github)
    for line in json.loads(text)["private_key"].splitlines()[1:-1]:
        assert line not in printed
    assert "e2e0123456789abcdef0123456789abcdef01234" not in printed


def test_vertex_unreadable_credentials_file_is_a_usage_error(tmp_path: Path, github: FakeGitHub) -> None:
    run = run_action(
        tmp_path,
        github_url=github.url,
        inputs={"provider": "vertex", "api-key": "", "model": "claude-sonnet-4-5@20250929"}
        | {"gcp-project": "my-project-123", "gcp-region": "us-east5"},
        extra_env={"GOOGLE_APPLICATION_CREDENTIALS": "/home/runner/elsewhere/creds.json"},
    )
    assert run.code == 2 and "cannot be read" in run.stdout and "gcp-credentials" in run.stdout


def test_azure_entra_token_is_masked_and_never_printed(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    token = "eyJ0eXAi.e2e-entra-SECRET-token.0123456789"
    llm.enqueue(status=401, json={"error": {"code": "401", "message": f"Token {token} expired."}})
    run = run_action(
        tmp_path,
        github_url=github.url,
        llm_url=llm.url,
        inputs={
            "provider": "azure-openai",
            "api-key": "",
            "azure-ad-token": token,
            "base-url": llm.url,
            "model": "my-gpt41",
            "model-family": "gpt-4.1",
        },
    )
    assert run.code == 2 and "Entra ID token has expired" in run.stdout
    assert f"::add-mask::{token}" in run.stdout and token not in everything_printed(run, github)
    (request,) = llm.requests
    assert request.path.startswith("/openai/deployments/my-gpt41/chat/completions?api-version=")


def test_cloud_inputs_in_the_config_fail_closed(tmp_path: Path, github: FakeGitHub, llm: FakeLLM) -> None:
    github.set_file(".qodo.yml", SHA_BASE, "aws-region: eu-west-1\n")
    run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 2 and "aws-region" in run.stdout and llm.requests == []


def test_unparsable_gcp_credentials_are_still_secret(tmp_path: Path, github: FakeGitHub) -> None:
    broken = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ-broken-SECRET-material'
    run = run_action(
        tmp_path,
        github_url=github.url,
        inputs={"provider": "vertex", "api-key": "", "model": "claude-sonnet-4-5@20250929", "gcp-credentials": broken}
        | {"gcp-project": "my-project-123", "gcp-region": "us-east5"},
    )
    assert run.code == 2 and "not JSON" in run.stdout
    assert "MIIEvQ-broken-SECRET-material" not in everything_printed(run, github)
