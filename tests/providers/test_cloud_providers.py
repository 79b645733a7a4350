"""Azure OpenAI, Bedrock and Vertex through the SDKs' own cloud clients over real HTTP against a local FakeLLM
that speaks each wire format (and Google's token endpoints); the settings, hosts and errors they lead to."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from fakes.llm_server import FAKE_GOOGLE_TOKEN, FakeLLM, running

from qodo_review.config import parse_config_text
from qodo_review.errors import ConfigError, ExitCode, ProviderAuthError, UsageError
from qodo_review.models import Prompt
from qodo_review.providers import ProviderSettings, make_provider, resolve_settings
from qodo_review.providers.cloud import CloudCredentials, CloudInputs, parse_gcp_credentials

SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
PROMPT = Prompt(system="You review code.", user="diff --git a/x b/x", schema=SCHEMA, max_output_tokens=321)
AZURE_KEY = "azure-key-SECRET-0123456789abcdef"
AZURE_TOKEN = "eyJ0eXAiOiJKV1Qi.entra-SECRET-token.0123456789"
AWS = CloudCredentials(
    aws_access_key_id="ASIAFAKEACCESSKEY123",
    aws_secret_access_key="aws-secret-SECRET-0123456789abcdefghijkl",
    aws_session_token="aws-session-SECRET-token-0123456789abcdef",
)
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
VERTEX_MODEL = "claude-sonnet-4-5@20250929"
GH_REQUEST_TOKEN = "gh-oidc-request-SECRET-0123456789"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    yield from running()


@pytest.fixture(scope="module")
def private_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem.decode()


def service_account(url: str, private_key: str) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": "my-project-123",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": private_key,
        "client_email": "reviewer@my-project-123.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": f"{url}/token",
    }


def workload_identity(url: str) -> dict[str, Any]:
    """What google-github-actions/auth writes for workload identity federation (with impersonation)."""
    return {
        "type": "external_account",
        "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/gh/providers/gh",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{url}/v1/token",
        "service_account_impersonation_url": (
            f"{url}/v1/projects/-/serviceAccounts/reviewer@my-project-123.iam.gserviceaccount.com:generateAccessToken"
        ),
        "credential_source": {
            "url": f"{url}/oidc?audience=https://iam.googleapis.com/x",
            "headers": {"Authorization": f"Bearer {GH_REQUEST_TOKEN}"},
            "format": {"type": "json", "subject_token_field_name": "value"},
        },
    }


def azure(url: str, **credentials: str) -> ProviderSettings:
    return resolve_settings(
        "azure-openai",
        credentials.pop("api_key", ""),
        "my-gpt41",
        url,
        cloud=CloudInputs(model_family="gpt-4.1"),
        credentials=CloudCredentials(**credentials),
    )


def bedrock(url: str, model: str = BEDROCK_MODEL) -> ProviderSettings:
    return resolve_settings("bedrock", "", model, url, cloud=CloudInputs(aws_region="us-west-2"), credentials=AWS)


def vertex(url: str, info: dict[str, Any]) -> ProviderSettings:
    creds = CloudCredentials(gcp_info=parse_gcp_credentials(json.dumps(info), "test"), gcp_source="test")
    inputs = CloudInputs(gcp_project="my-project-123", gcp_region="us-east5")
    return resolve_settings("vertex", "", VERTEX_MODEL, url + "/v1", cloud=inputs, credentials=creds)


# --- Azure OpenAI -------------------------------------------------------------------------------------


def test_azure_key_goes_to_the_deployment_path_with_api_version(llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK's own fallbacks would send the code elsewhere, or another key: none is read.
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "env-token-must-not-be-used")
    monkeypatch.setenv("OPENAI_API_VERSION", "1999-01-01")
    make_provider(azure(llm.url, api_key=AZURE_KEY)).complete(PROMPT)

    (request,) = llm.requests
    parts = urlsplit(request.path)
    assert parts.path == "/openai/deployments/my-gpt41/chat/completions"
    assert parse_qs(parts.query) == {"api-version": ["2024-10-21"]}
    assert request.headers["api-key"] == AZURE_KEY
    assert "authorization" not in request.headers
    assert request.json["max_completion_tokens"] == 321 and "store" not in request.json


def test_azure_entra_token_is_a_bearer_and_no_key_is_sent(llm: FakeLLM) -> None:
    settings = azure(llm.url, azure_ad_token=AZURE_TOKEN)
    make_provider(settings).complete(PROMPT)

    (request,) = llm.requests
    assert request.headers["authorization"] == f"Bearer {AZURE_TOKEN}"
    assert "api-key" not in request.headers
    assert settings.family == "gpt-4.1" and settings.host == urlsplit(llm.url).netloc


@pytest.mark.parametrize(
    ("status", "body", "credentials", "needle"),
    [
        (
            404,
            {"error": {"code": "DeploymentNotFound", "message": "The API deployment does not exist."}},
            "key",
            "deployment",
        ),
        (401, {"error": {"code": "401", "message": "Token expired."}}, "token", "expired"),
        (
            401,
            {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}},
            "key",
            "api-key",
        ),
    ],
)
def test_azure_errors_are_usage_errors_with_the_fix(
    llm: FakeLLM, status: int, body: dict[str, Any], credentials: str, needle: str
) -> None:
    llm.enqueue(status=status, json=body)
    auth = {"api_key": AZURE_KEY} if credentials == "key" else {"azure_ad_token": AZURE_TOKEN}
    with pytest.raises(UsageError) as caught:
        make_provider(azure(llm.url, **auth)).complete(PROMPT)
    assert caught.value.exit_code is ExitCode.USAGE
    assert needle in str(caught.value) and AZURE_KEY not in str(caught.value) and AZURE_TOKEN not in str(caught.value)


def test_azure_needs_a_resource_endpoint_and_a_deployment() -> None:
    with pytest.raises(UsageError, match="base-url"):
        resolve_settings("azure-openai", AZURE_KEY, "dep", "")
    with pytest.raises(UsageError, match="deployment name"):
        resolve_settings("azure-openai", AZURE_KEY, "", "https://r.openai.azure.com")
    with pytest.raises(UsageError, match="resource endpoint only"):
        resolve_settings("azure-openai", AZURE_KEY, "dep", "https://r.openai.azure.com/openai/deployments/dep")


# --- Bedrock ------------------------------------------------------------------------------------------


def test_bedrock_invokes_the_model_path_signed_with_sigv4(llm: FakeLLM) -> None:
    completion = make_provider(bedrock(llm.url)).complete(PROMPT)

    assert json.loads(completion.text) == {"summary": "Looks fine.", "findings": []}
    (request,) = llm.requests
    assert unquote(request.path) == f"/model/{BEDROCK_MODEL}/invoke"
    auth = request.headers["authorization"]
    assert auth.startswith(f"AWS4-HMAC-SHA256 Credential={AWS.aws_access_key_id}/")
    assert "/us-west-2/bedrock/aws4_request" in auth
    signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    assert {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
    assert len(auth.rsplit("Signature=", 1)[1]) == 64
    assert request.headers["x-amz-security-token"] == AWS.aws_session_token
    assert AWS.aws_secret_access_key not in json.dumps(request.headers)
    assert request.json["anthropic_version"] and "model" not in request.json  # the id is in the path


def test_bedrock_signature_verifies(llm: FakeLLM) -> None:
    """The fake recomputes SigV4 from the secret: the signature covers this host, path and body."""
    make_provider(bedrock(llm.url)).complete(PROMPT)
    (request,) = llm.requests
    assert (
        sigv4_signature(request, AWS.aws_secret_access_key, "us-west-2", "bedrock")
        == (request.headers["authorization"].rsplit("Signature=", 1)[1])
    )


@pytest.mark.parametrize(
    ("status", "kind", "message", "needle", "auth"),
    [
        (403, "ExpiredTokenException", "The security token included in the request is expired", "expired", True),
        (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
            "bedrock:InvokeModel",
            True,
        ),
        (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            "did not accept",
            True,
        ),
        (400, "ValidationException", "The provided model identifier is invalid.", "does not serve model", False),
        (404, "ResourceNotFoundException", "Model not found.", "does not serve model", False),
    ],
)
def test_bedrock_errors_are_usage_errors_with_the_fix(
    llm: FakeLLM, status: int, kind: str, message: str, needle: str, auth: bool
) -> None:
    llm.enqueue(status=status, json={"message": message}, headers={"x-amzn-ErrorType": f"{kind}:http://internal/"})
    with pytest.raises(UsageError) as caught:
        make_provider(bedrock(llm.url)).complete(PROMPT)
    assert isinstance(caught.value, ProviderAuthError) is auth
    assert caught.value.exit_code is ExitCode.USAGE and needle in str(caught.value)
    assert all(v not in str(caught.value) for v in AWS.secrets())


def test_bedrock_hosts_follow_the_region() -> None:
    settings = resolve_settings(
        "bedrock", "", BEDROCK_MODEL, "", cloud=CloudInputs(aws_region="eu-central-1"), credentials=AWS
    )
    assert settings.host == "bedrock-runtime.eu-central-1.amazonaws.com" and settings.cloud.token_hosts == ()
    with pytest.raises(UsageError, match="aws-region"):
        resolve_settings("bedrock", "", BEDROCK_MODEL, "", credentials=AWS)
    with pytest.raises(UsageError, match="aws-region"):
        resolve_settings("bedrock", "", BEDROCK_MODEL, "", cloud=CloudInputs(aws_region="x; rm"), credentials=AWS)


# --- Vertex -------------------------------------------------------------------------------------------


def test_vertex_service_account_token_then_raw_predict(llm: FakeLLM, private_key: str) -> None:
    settings = vertex(llm.url, service_account(llm.url, private_key))
    provider = make_provider(settings)
    provider.complete(PROMPT)
    provider.complete(PROMPT)  # the token is reused while valid

    token, predict, again = llm.requests
    assert token.path == "/token"
    form = parse_qs(token.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"] and form["assertion"]
    assert predict.path == (
        f"/v1/projects/my-project-123/locations/us-east5/publishers/anthropic/models/{VERTEX_MODEL}:rawPredict"
    )
    assert predict.headers["authorization"] == f"Bearer {FAKE_GOOGLE_TOKEN}"
    assert predict.json["anthropic_version"] and "model" not in predict.json
    assert again.path == predict.path
    assert settings.cloud.token_hosts == (urlsplit(llm.url).netloc,)


def test_vertex_workload_identity_exchanges_the_github_token(llm: FakeLLM) -> None:
    make_provider(vertex(llm.url, workload_identity(llm.url))).complete(PROMPT)

    oidc, sts, impersonate, predict = llm.requests
    assert oidc.method == "GET" and oidc.path.startswith("/oidc")
    assert oidc.headers["authorization"] == f"Bearer {GH_REQUEST_TOKEN}"
    assert sts.path == "/v1/token" and "eyJfake.github-oidc.jwt" in unquote(sts.body.decode())
    assert impersonate.path.endswith(":generateAccessToken")
    assert predict.headers["authorization"] == f"Bearer {FAKE_GOOGLE_TOKEN}"


def test_vertex_hosts_include_every_token_endpoint() -> None:
    info = workload_identity("https://x")
    info["token_url"] = "https://sts.googleapis.com/v1/token"
    info["service_account_impersonation_url"] = (
        "https://iamcredentials.googleapis.com/v1/projects/-/sa:generateAccessToken"
    )
    info["credential_source"]["url"] = "https://pipelines.actions.githubusercontent.com/abc/idtoken?audience=x"
    creds = CloudCredentials(gcp_info=parse_gcp_credentials(json.dumps(info), "test"))
    settings = resolve_settings(
        "vertex",
        "",
        VERTEX_MODEL,
        "",
        cloud=CloudInputs(gcp_project="my-project-123", gcp_region="europe-west1"),
        credentials=creds,
    )
    assert settings.host == "europe-west1-aiplatform.googleapis.com"
    assert settings.cloud.token_hosts == (
        "pipelines.actions.githubusercontent.com",
        "sts.googleapis.com",
        "iamcredentials.googleapis.com",
    )


def test_vertex_refused_token_is_a_usage_error(llm: FakeLLM, private_key: str) -> None:
    llm.enqueue(status=400, json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    with pytest.raises(ProviderAuthError, match="google-github-actions/auth") as caught:
        make_provider(vertex(llm.url, service_account(llm.url, private_key))).complete(PROMPT)
    assert caught.value.exit_code is ExitCode.USAGE


@pytest.mark.parametrize(
    ("status", "status_text", "needle"),
    [(404, "NOT_FOUND", "does not serve model"), (403, "PERMISSION_DENIED", "roles/aiplatform.user")],
)
def test_vertex_errors_are_usage_errors(
    llm: FakeLLM, private_key: str, status: int, status_text: str, needle: str
) -> None:
    llm.enqueue(status=200, json={"access_token": FAKE_GOOGLE_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
    llm.enqueue(
        status=status, json={"error": {"code": status, "message": "Publisher Model not found.", "status": status_text}}
    )
    with pytest.raises(UsageError, match=needle) as caught:
        make_provider(vertex(llm.url, service_account(llm.url, private_key))).complete(PROMPT)
    assert FAKE_GOOGLE_TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("info", "needle"),
    [
        ({"type": "impersonated_service_account"}, "of type"),
        (
            {"type": "external_account", "credential_source": {"executable": {"command": "touch /tmp/x"}}},
            "runs no process",
        ),
        ({"type": "external_account", "credential_source": {"file": "/etc/passwd"}}, "runs no process"),
        ({"type": "service_account", "token_uri": "http://evil.example/token"}, "not https"),
    ],
)
def test_unusable_google_credentials_are_refused(info: dict[str, Any], needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        parse_gcp_credentials(json.dumps(info), "the gcp-credentials input")


def test_not_json_credentials_are_not_quoted() -> None:
    with pytest.raises(UsageError) as caught:
        parse_gcp_credentials("private-SECRET-material{", "the gcp-credentials input")
    assert "SECRET" not in str(caught.value)


# --- trust --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["api-version", "aws-region", "gcp-project", "gcp-region", "gcp-credentials", "azure-ad-token"]
)
def test_provider_choosing_values_are_not_config_keys(key: str) -> None:
    with pytest.raises(ConfigError, match="only by the workflow's inputs"):
        parse_config_text(f"{key}: x\n", ".qodo.yml (base branch)")


def test_auto_never_picks_a_cloud_provider() -> None:
    assert resolve_settings("auto", "k", "m", "https://r.openai.azure.com/openai").kind == "openai-compatible"
    assert resolve_settings("auto", "k", "", "").kind == "openai"


# --- SigV4, recomputed (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html) ------------


def sigv4_signature(request: Any, secret: str, region: str, service: str) -> str:
    import hashlib
    import hmac

    auth = request.headers["authorization"]
    signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0]
    amz_date = request.headers["x-amz-date"]
    path, _, query = request.path.partition("?")
    path = quote(path, safe="/~")  # every service but S3 signs the path URI-encoded once more
    canonical_headers = "".join(f"{name}:{' '.join(request.headers[name].split())}\n" for name in signed.split(";"))
    canonical = "\n".join(
        [request.method, path, query, canonical_headers, signed, hashlib.sha256(request.body).hexdigest()]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{secret}".encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_the_cli_says_cloud_providers_are_the_actions(capsys: pytest.CaptureFixture[str]) -> None:
    from qodo_review import cli

    diff = str(Path(__file__).resolve().parents[2] / "examples" / "sample.diff")
    code = cli.main(["review", "--diff", diff, "--provider", "bedrock"], env={}, stdout=io.StringIO())
    assert code == ExitCode.USAGE and "GitHub Action only" in capsys.readouterr().err


def test_a_cloud_fallback_is_another_model_of_the_same_account() -> None:
    from qodo_review.providers import resolve_fallback

    primary = bedrock("https://bedrock-runtime.us-west-2.amazonaws.com")
    second = resolve_fallback(primary, "", "", "anthropic.claude-haiku-4-5-20251001-v1:0", "")
    assert second is not None and (second.kind, second.host, second.cloud) == (
        primary.kind,
        primary.host,
        primary.cloud,
    )
    assert second.input_prefix == "fallback-"
    with pytest.raises(UsageError, match="another model of the same provider"):
        resolve_fallback(primary, "openai", "sk-x", "gpt-4.1", "")


def test_runner_paths_map_into_the_container_workspace() -> None:
    from qodo_review.providers.cloud import runner_path_in_container

    ws = "/home/runner/work/r/r"
    assert (
        runner_path_in_container(f"{ws}/gha-creds-1.json", ws, "/github/workspace")
        == "/github/workspace/gha-creds-1.json"
    )
    assert runner_path_in_container(f"{ws}x/creds.json", ws, "/github/workspace") == f"{ws}x/creds.json"  # not inside
    assert runner_path_in_container("/github/workspace/c.json", "", "/github/workspace") == "/github/workspace/c.json"


def test_the_sdk_environment_is_neutralised() -> None:
    from qodo_review.cloudenv import neutralise_sdk_env

    environ = {
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://evil",
        "AWS_ENDPOINT_URL": "http://evil",
        "AWS_PROFILE": "evil",
        "ANTHROPIC_VERTEX_BASE_URL": "http://evil",
        "AWS_ACCESS_KEY_ID": "kept: read before, harmless after",
        "PATH": "/usr/bin",
    }
    neutralise_sdk_env(environ)
    assert environ == {
        "AWS_ACCESS_KEY_ID": "kept: read before, harmless after",
        "PATH": "/usr/bin",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_GCE_CHECK": "True",
    }
