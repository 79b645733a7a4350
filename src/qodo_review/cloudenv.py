"""The cloud credentials an earlier step of the job left (environment variables, a credentials file) or the
workflow passed as inputs, read once by the action's main(); and the SDK variables removed after that.

I/O at the edge: the only file read is the Google credentials file, and only for provider vertex.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from .errors import UsageError
from .providers.cloud import (
    MAX_CREDENTIALS_BYTES,
    SDK_ENV_PREFIXES_UNSET,
    SDK_ENV_SET,
    SDK_ENV_UNSET,
    CloudCredentials,
    parse_gcp_credentials,
    runner_path_in_container,
)


def read_credentials(env: Mapping[str, str]) -> CloudCredentials:
    """Never raises: a problem with the Google credentials is kept and raised only if provider is vertex."""
    provider = env.get("QODO_PROVIDER", "").strip().lower()
    gcp_info, source, problem, unparsed = None, "", "", ""
    if provider == "vertex":
        try:
            gcp_info, source = _gcp_credentials(env)
        except UsageError as exc:
            problem = str(exc)
            unparsed = env.get("QODO_GCP_CREDENTIALS", "").strip()
    return CloudCredentials(
        # Exactly what aws-actions/configure-aws-credentials exports; nothing else AWS reads is consulted.
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID", "").strip() if provider == "bedrock" else "",
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY", "").strip() if provider == "bedrock" else "",
        aws_session_token=env.get("AWS_SESSION_TOKEN", "").strip() if provider == "bedrock" else "",
        azure_ad_token=env.get("QODO_AZURE_AD_TOKEN", "").strip(),
        gcp_info=gcp_info,
        gcp_source=source,
        gcp_problem=problem,
        gcp_unparsed=unparsed,
    )


def _gcp_credentials(env: Mapping[str, str]) -> tuple[dict[str, object] | None, str]:
    """The gcp-credentials input, else the file at GOOGLE_APPLICATION_CREDENTIALS seen from this container."""
    text = env.get("QODO_GCP_CREDENTIALS", "").strip()
    if text:
        return parse_gcp_credentials(text, "the gcp-credentials input"), "the gcp-credentials input"
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip()
    if not path:
        return None, ""
    # The runner's path of the workspace (action.yml passes github.workspace) is mounted at GITHUB_WORKSPACE.
    local = runner_path_in_container(path, env.get("QODO_RUNNER_WORKSPACE", ""), env.get("GITHUB_WORKSPACE", ""))
    source = f"GOOGLE_APPLICATION_CREDENTIALS ({path})"
    try:
        with open(local, "rb") as fh:
            data = fh.read(MAX_CREDENTIALS_BYTES + 1)
    except OSError as exc:
        raise UsageError(
            f"{source} cannot be read from the action's container ({exc.strerror}). Fix: let "
            "google-github-actions/auth write it inside the workspace (its default, create_credentials_file: "
            "true), or pass the JSON as gcp-credentials."
        ) from None
    if len(data) > MAX_CREDENTIALS_BYTES:
        raise UsageError(f"{source} is larger than {MAX_CREDENTIALS_BYTES} bytes: it is not a credentials file.")
    return parse_gcp_credentials(data.decode("utf-8", "replace"), source), source


def neutralise_sdk_env(environ: MutableMapping[str, str]) -> None:
    """Remove what would make the SDKs or botocore/google-auth look elsewhere for endpoints or credentials
    (they read the process environment themselves), and switch off their file and metadata fallbacks."""
    for name in list(environ):
        if name in SDK_ENV_UNSET or name.startswith(SDK_ENV_PREFIXES_UNSET):
            del environ[name]
    environ.update(SDK_ENV_SET)
