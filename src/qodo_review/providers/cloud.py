"""The cloud providers' settings (Azure OpenAI, AWS Bedrock, Google Vertex AI): endpoints, regions and the hosts
contacted, decided from the trusted inputs and the credentials an earlier step left, all passed in as values.

Pure: main() reads the environment and the credentials file; this module checks them, says which hosts they
lead to (the privacy manifest) and which of their values are secrets (masked and redacted everywhere).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import UsageError

CLOUD_KINDS = ("azure-openai", "bedrock", "vertex")
# Azure OpenAI's latest dated GA API version (learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle):
# structured outputs (json_schema) and max_completion_tokens, which the o-series and gpt-5 deployments require.
DEFAULT_AZURE_API_VERSION = "2024-10-21"
# google-github-actions/auth and service-account keys both grant this scope; Vertex needs nothing narrower.
GCP_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_GCP_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105  (a URL, not a password)
DEFAULT_STS_URL = "https://sts.googleapis.com/v1/token"
# The credentials file types google-auth turns into a token without the metadata server or a subprocess:
# a service-account key, workload identity federation (what google-github-actions/auth writes) and a user's
# gcloud login. An "executable" or "aws" credential source, or a certificate, is refused below.
GCP_TYPES = ("service_account", "external_account", "authorized_user")
# The longest credentials file read (a service-account key is about 2.4 KB).
MAX_CREDENTIALS_BYTES = 100_000
_REGION = re.compile(r"^[a-z]{2,}(?:-[a-z0-9]+)+$|^global$|^us$|^eu$")
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,61}[a-z0-9]$|^[0-9]{6,20}$")
# Variables the SDKs and their credential libraries read on their own, each of which could send the code or a
# credential elsewhere or load credentials we did not choose (an earlier step sets them through $GITHUB_ENV).
# main() removes them from the process environment once it has read what it needs.
SDK_ENV_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CA_BUNDLE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "ANTHROPIC_VERTEX_BASE_URL",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "CLOUD_ML_REGION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_API_USE_CLIENT_CERTIFICATE",
    "GCE_METADATA_HOST",
    "GCE_METADATA_IP",
    "GCE_METADATA_ROOT",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_VERSION",
)
SDK_ENV_PREFIXES_UNSET = ("AWS_ENDPOINT_URL",)  # AWS_ENDPOINT_URL and every AWS_ENDPOINT_URL_<SERVICE>
# And these are set: botocore then reads no config or credentials file and never asks the instance metadata.
SDK_ENV_SET = {
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "True",
}


@dataclass(frozen=True)
class CloudCredentials:
    """What an earlier step left for the cloud providers, read by main(); every value is a run secret."""

    aws_access_key_id: str = field(default="", repr=False)
    aws_secret_access_key: str = field(default="", repr=False)
    aws_session_token: str = field(default="", repr=False)
    azure_ad_token: str = field(default="", repr=False)
    gcp_info: Mapping[str, Any] | None = field(default=None, repr=False)  # the parsed credentials JSON
    gcp_source: str = ""  # where it came from, for messages: the input or the file
    gcp_problem: str = ""  # why it could not be read (raised only when provider is vertex)
    # The gcp-credentials input's text when it could not be parsed: still a secret, redacted line by line.
    gcp_unparsed: str = field(default="", repr=False)

    def secrets(self) -> list[str]:
        """Every credential value, for masking and redaction (a private key line by line, by the Redactor)."""
        values = [self.aws_access_key_id, self.aws_secret_access_key, self.aws_session_token, self.azure_ad_token]
        values += gcp_secrets(self.gcp_info or {})
        values.append(self.gcp_unparsed)
        return [v for v in values if v]


@dataclass(frozen=True)
class CloudInputs:
    """The provider-choosing inputs of the cloud providers (inputs only: never .qodo.yml keys)."""

    api_version: str = ""
    model_family: str = ""
    aws_region: str = ""
    gcp_project: str = ""
    gcp_region: str = ""


@dataclass(frozen=True)
class Cloud:
    """A cloud provider's own settings, as ProviderSettings.cloud."""

    api_version: str = ""
    region: str = ""
    project: str = ""
    credentials: CloudCredentials = field(default_factory=CloudCredentials, repr=False)
    # Hosts contacted for a token (never sent code): shown in the privacy manifest.
    token_hosts: tuple[str, ...] = ()


def resolve_cloud(
    kind: str, inputs: CloudInputs, credentials: CloudCredentials, model: str, base_url: str
) -> tuple[str, Cloud]:
    """The endpoint and the Cloud of an azure-openai, bedrock or vertex run; UsageError names the input to fix."""
    parts = urlsplit(base_url)
    if base_url and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise UsageError(f"Input 'base-url' is {base_url[:100]!r}: it must be an https URL such as https://host.")
    if kind == "azure-openai":
        return _azure(inputs, credentials, model, base_url)
    if kind == "bedrock":
        return _bedrock(inputs, credentials, model, base_url)
    return _vertex(inputs, credentials, model, base_url)


def _azure(inputs: CloudInputs, credentials: CloudCredentials, model: str, base_url: str) -> tuple[str, Cloud]:
    if not base_url:
        raise UsageError(
            "Input 'base-url' is empty: provider azure-openai needs your resource's endpoint, like "
            "https://my-resource.openai.azure.com (the deployment name goes in 'model')."
        )
    if not model:
        raise UsageError(
            "Input 'model' is empty: provider azure-openai needs the deployment name (with: model: my-gpt-41), "
            "and 'model-family' the model behind it (with: model-family: gpt-4.1)."
        )
    path = urlsplit(base_url).path.rstrip("/")
    if path not in ("", "/openai"):
        raise UsageError(
            f"Input 'base-url' is {base_url!r}: for azure-openai give the resource endpoint only, like "
            "https://my-resource.openai.azure.com; the SDK adds /openai/deployments/<model> itself."
        )
    version = inputs.api_version or DEFAULT_AZURE_API_VERSION
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(-preview)?", version):
        raise UsageError(f"Input 'api-version' is {version!r}; use a dated version like {DEFAULT_AZURE_API_VERSION}.")
    endpoint = base_url[: len(base_url) - len("/openai")] if base_url.rstrip("/").endswith("/openai") else base_url
    return endpoint.rstrip("/"), Cloud(api_version=version, credentials=credentials)


def _bedrock(inputs: CloudInputs, credentials: CloudCredentials, model: str, base_url: str) -> tuple[str, Cloud]:
    region = _region(inputs.aws_region, "aws-region", "us-east-1")
    if not model:
        raise UsageError(
            "Input 'model' is empty: provider bedrock needs a Bedrock model or inference-profile id, like "
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0."
        )
    # An explicit base-url is a VPC endpoint (PrivateLink) of bedrock-runtime; otherwise the region's own.
    url = base_url or f"https://bedrock-runtime.{region}.amazonaws.com"
    return url.rstrip("/"), Cloud(region=region, credentials=credentials)


def _vertex(inputs: CloudInputs, credentials: CloudCredentials, model: str, base_url: str) -> tuple[str, Cloud]:
    region = _region(inputs.gcp_region, "gcp-region", "us-east5")
    project = inputs.gcp_project.strip()
    if not _PROJECT.match(project):
        raise UsageError(
            f"Input 'gcp-project' is {project!r}: provider vertex needs your Google Cloud project id, "
            "like my-project-123 (with: gcp-project: my-project-123)."
        )
    if not model:
        raise UsageError(
            "Input 'model' is empty: provider vertex needs a Claude model id, like claude-sonnet-4-5@20250929."
        )
    if credentials.gcp_problem:
        raise UsageError(credentials.gcp_problem)
    hosts = gcp_token_hosts(credentials.gcp_info, credentials.gcp_source) if credentials.gcp_info else ()
    url = base_url or vertex_base_url(region)
    return url.rstrip("/"), Cloud(region=region, project=project, credentials=credentials, token_hosts=hosts)


def vertex_base_url(region: str) -> str:
    """The anthropic SDK's own choice for a region (global and the us/eu multi-regions have their own hosts)."""
    special = {
        "global": "https://aiplatform.googleapis.com/v1",
        "us": "https://aiplatform.us.rep.googleapis.com/v1",
        "eu": "https://aiplatform.eu.rep.googleapis.com/v1",
    }
    return special.get(region, f"https://{region}-aiplatform.googleapis.com/v1")


def _region(value: str, name: str, example: str) -> str:
    region = value.strip().lower()
    if not region:
        raise UsageError(f"Input '{name}' is empty: name the region of the model (with: {name}: {example}).")
    if not _REGION.match(region) or len(region) > 40:
        raise UsageError(f"Input '{name}' is {value!r}; give a region name like {example}.")
    return region


def missing_credentials(kind: str) -> str:
    """The fix for a cloud run without credentials, in one sentence."""
    if kind == "azure-openai":
        return (
            "Provider azure-openai has no credentials: pass the resource key (with: api-key: "
            "${{ secrets.AZURE_OPENAI_API_KEY }}) or a Microsoft Entra ID token from azure/login "
            "(with: azure-ad-token: ${{ steps.entra.outputs.token }}), as in the README's Azure workflow."
        )
    if kind == "bedrock":
        return (
            "Provider bedrock has no AWS credentials: run aws-actions/configure-aws-credentials (OIDC, with "
            "permissions: id-token: write) in this job before this step, so AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN are set."
        )
    return (
        "Provider vertex has no Google credentials: run google-github-actions/auth (OIDC, with permissions: "
        "id-token: write) in this job before this step, or pass a service-account key "
        "(with: gcp-credentials: ${{ secrets.GCP_CREDENTIALS }})."
    )


def has_credentials(kind: str, api_key: str, credentials: CloudCredentials) -> bool:
    """Whether the run can authenticate: the api-key input, or for a cloud provider what it takes instead."""
    if kind == "azure-openai":
        return bool(api_key or credentials.azure_ad_token)
    if kind == "bedrock":
        return bool(credentials.aws_access_key_id and credentials.aws_secret_access_key)
    if kind == "vertex":
        return credentials.gcp_info is not None
    return bool(api_key)


# --- Google credentials files -----------------------------------------------------------------------------


def parse_gcp_credentials(text: str, source: str) -> dict[str, Any]:
    """The credentials JSON, checked; UsageError says what is wrong without quoting any of it."""
    try:
        info = json.loads(text)
    except ValueError:
        raise UsageError(
            f"The Google credentials in {source} are not JSON. Pass the service-account key file's whole "
            "contents, or let google-github-actions/auth write the file."
        ) from None
    if not isinstance(info, dict):
        raise UsageError(f"The Google credentials in {source} are not a JSON object.")
    kind = info.get("type")
    if kind not in GCP_TYPES:
        raise UsageError(
            f"The Google credentials in {source} are of type {str(kind)[:40]!r}; use a service-account key, "
            "a workload identity federation file (google-github-actions/auth) or an authorized_user file."
        )
    if kind == "external_account":
        source_spec = info.get("credential_source")
        if (
            not isinstance(source_spec, dict)
            or set(source_spec) - {"url", "headers", "format"}
            or "url" not in source_spec
        ):
            raise UsageError(
                f"The Google credentials in {source} take their subject token from something other than a URL "
                "(an executable, a file, a certificate or AWS): only the URL source google-github-actions/auth "
                "writes is accepted, since this action runs no process and reads no other file."
            )
    gcp_token_hosts(info, source)  # every URL in it must be https (or http on the loopback for tests)
    return info


def gcp_token_hosts(info: Mapping[str, Any] | None, source: str = "the credentials") -> tuple[str, ...]:
    """The hosts a token request goes to, in order: the subject-token URL, the STS or OAuth token endpoint,
    the impersonation endpoint."""
    if not info:
        return ()
    urls: list[str] = []
    if info.get("type") == "external_account":
        spec = info.get("credential_source") or {}
        urls += [str(spec.get("url") or ""), str(info.get("token_url") or DEFAULT_STS_URL)]
        if info.get("service_account_impersonation_url"):
            urls.append(str(info["service_account_impersonation_url"]))
    else:
        urls.append(str(info.get("token_uri") or DEFAULT_GCP_TOKEN_URI))
    hosts: list[str] = []
    for url in urls:
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise UsageError(f"The Google credentials in {source} name a token URL that is not https: {url[:100]!r}.")
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
        if host not in hosts:
            hosts.append(host)
    return tuple(hosts)


def gcp_secrets(info: Mapping[str, Any]) -> list[str]:
    """The secret values of a credentials JSON: keys, client secrets, refresh tokens, and the header values
    (the GitHub OIDC request token) of a URL credential source."""
    values = [str(info.get(name) or "") for name in ("private_key", "private_key_id", "client_secret", "refresh_token")]
    spec = info.get("credential_source")
    if isinstance(spec, dict) and isinstance(spec.get("headers"), dict):
        for value in spec["headers"].values():
            text = str(value)
            values.append(text)
            values.append(text.split(" ", 1)[-1])  # the token without "Bearer "
    return [v for v in values if v]


def runner_path_in_container(path: str, runner_workspace: str, container_workspace: str) -> str:
    """A file path as the runner wrote it (google-github-actions/auth sets GOOGLE_APPLICATION_CREDENTIALS to
    <runner workspace>/gha-creds-*.json) seen from this container, where the workspace is mounted elsewhere."""
    runner = runner_workspace.rstrip("/")
    if runner and container_workspace and (path == runner or path.startswith(runner + "/")):
        return container_workspace.rstrip("/") + path[len(runner) :]
    return path
