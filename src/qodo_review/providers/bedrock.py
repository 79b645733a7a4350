"""Claude on AWS Bedrock through the anthropic SDK's own Bedrock client: POST /model/{id}/invoke, signed with
SigV4 from exactly the three AWS_* values main() read (what aws-actions/configure-aws-credentials exports).

botocore is given the keys explicitly, so its credential chain (profiles, config and credentials files,
credential_process, SSO, container and instance metadata) is never consulted; main() also points its files at
/dev/null, disables the metadata service and removes AWS_ENDPOINT_URL* and AWS_PROFILE (providers/cloud.py).
"""

from __future__ import annotations

import anthropic

# The SDK's signer imports these at the first request; imported with the adapter instead, run.preload_sdk overlaps
# them with the GitHub round trips (boto3 is the second-largest import of a Bedrock run, bench/README.md).
import boto3  # type: ignore[import-untyped]  # noqa: F401
import botocore.auth  # type: ignore[import-untyped]  # noqa: F401
from anthropic.lib.bedrock import AnthropicBedrock

from ..errors import ProviderAuthError, QodoError, UsageError
from . import ProviderSettings
from .anthropic_messages import AnthropicMessages

# Bedrock names the error in this header (and in the body's "__type"), e.g. "AccessDeniedException:http://..."
ERROR_TYPE_HEADER = "x-amzn-errortype"
EXPIRED = ("ExpiredTokenException", "ExpiredToken", "RequestExpired")
BAD_KEYS = ("UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignatureException")


class BedrockMessages(AnthropicMessages):
    """The Messages adapter with the AnthropicBedrock client; the model is a Bedrock model or profile id."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        creds = settings.cloud.credentials
        self._secrets = [
            v for v in (creds.aws_secret_access_key, creds.aws_session_token, creds.aws_access_key_id) if v
        ]

    def _client(self) -> anthropic.Anthropic:
        s = self._settings
        creds = s.cloud.credentials
        try:
            client = AnthropicBedrock(
                aws_access_key=creds.aws_access_key_id,
                aws_secret_key=creds.aws_secret_access_key,
                aws_session_token=creds.aws_session_token or None,
                aws_region=s.cloud.region,
                base_url=s.base_url,  # explicit: ANTHROPIC_BEDROCK_BASE_URL is never read
                timeout=s.timeout,
                max_retries=s.max_retries,
                http_client=self._http(),
                open_telemetry=False,
            )
        except ValueError:  # AWS_BEARER_TOKEN_BEDROCK set beside the keys (main() removes it; a shell may not)
            raise UsageError(
                "AWS_BEARER_TOKEN_BEDROCK is set: provider bedrock signs with the AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY pair only; unset that variable."
            ) from None
        client._custom_headers = {}  # ANTHROPIC_CUSTOM_HEADERS, as for Anthropic
        # The SDK's client type differs (a Bedrock client), its messages.create is the same call.
        return client  # type: ignore[return-value]

    def _error(self, err: anthropic.AnthropicError) -> QodoError:
        if isinstance(err, anthropic.APIStatusError) and err.status_code in (400, 401, 403, 404):
            mapped = self._bedrock_error(err)
            if mapped is not None:
                return mapped
        return super()._error(err)

    def _bedrock_error(self, err: anthropic.APIStatusError) -> QodoError | None:
        s = self._settings
        kind = aws_error_type(err)
        detail = self._scrub(aws_message(err))
        where = f"{self._host} (HTTP {err.status_code} {kind or ''}: {detail})"
        if kind in EXPIRED or "expired" in detail.lower():
            return ProviderAuthError(
                f"{where}: the AWS session token has expired. Fix: run aws-actions/configure-aws-credentials in this "
                "job right before this step, with role-duration-seconds longer than the job's timeout."
            )
        if kind in BAD_KEYS or err.status_code == 401:
            return ProviderAuthError(
                f"{where}: AWS did not accept the credentials. Fix: let aws-actions/configure-aws-credentials set "
                "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in this job (OIDC role)."
            )
        if err.status_code == 403 or kind == "AccessDeniedException":
            return ProviderAuthError(
                f"{where}: the role may not invoke model {s.model!r} in {s.cloud.region}. Fix: allow "
                f"bedrock:InvokeModel on arn:aws:bedrock:{s.cloud.region}::foundation-model/* (and the inference "
                "profile) for the role, and enable access to the model in the Bedrock console of that region."
            )
        text = detail.lower()
        if err.status_code == 404 or (kind in ("ValidationException", "ResourceNotFoundException") and "model" in text):
            return UsageError(
                f"{where}: region {s.cloud.region} does not serve model {s.model!r}. Fix: set `model` to a model or "
                "inference-profile id offered there (e.g. us.anthropic.claude-sonnet-4-5-20250929-v1:0), or "
                "`aws-region` to a region that has it."
            )
        return None

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return super()._scrub(text)


def aws_error_type(err: anthropic.APIStatusError) -> str:
    """ "AccessDeniedException" from the x-amzn-ErrorType header or the body's __type."""
    raw = err.response.headers.get(ERROR_TYPE_HEADER, "")
    if not raw and isinstance(err.body, dict):
        raw = str(err.body.get("__type") or "")
    return raw.split(":", 1)[0].rsplit("#", 1)[-1][:80]


def aws_message(err: anthropic.APIStatusError) -> str:
    """AWS errors carry {"message": ...} (or "Message"), not Anthropic's envelope."""
    body = err.body
    if isinstance(body, dict):
        for name in ("message", "Message"):
            if isinstance(body.get(name), str) and body[name]:
                return " ".join(str(body[name]).split())[:300]
    return err.api_message or err.response.reason_phrase or "no message"
