"""Claude on Google Vertex AI through the anthropic SDK's own Vertex client: POST
.../publishers/anthropic/models/{model}:rawPredict with a bearer token that google-auth gets from the
credentials main() read (a service-account key, or the workload identity file google-github-actions/auth
writes): never from the metadata server, gcloud's configuration or GOOGLE_APPLICATION_CREDENTIALS itself.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import anthropic
import google.auth.transport.requests  # imported with the adapter, so run.preload_sdk overlaps it with GitHub
import google.oauth2.service_account  # noqa: F401
import requests
from anthropic.lib.vertex import AnthropicVertex

from ..errors import ProviderAuthError, ProviderUnavailable, QodoError, UsageError
from . import ProviderSettings
from .anthropic_messages import AnthropicMessages
from .cloud import GCP_SCOPE


class VertexMessages(AnthropicMessages):
    """The Messages adapter with the AnthropicVertex client and a token shared by the run's calls."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._tokens = GoogleToken(settings)

    def _client(self) -> anthropic.Anthropic:
        s = self._settings
        client = AnthropicVertex(
            region=s.cloud.region,
            project_id=s.cloud.project,
            access_token=self._tokens.get(),  # explicit: google.auth.default() is never called
            base_url=s.base_url,  # explicit: ANTHROPIC_VERTEX_BASE_URL is never read
            timeout=s.timeout,
            max_retries=s.max_retries,
            http_client=self._http(),
            open_telemetry=False,
        )
        client._custom_headers = {}  # ANTHROPIC_CUSTOM_HEADERS, as for Anthropic
        return client  # type: ignore[return-value]

    def _error(self, err: anthropic.AnthropicError) -> QodoError:
        if isinstance(err, anthropic.APIStatusError) and err.status_code in (401, 403, 404):
            return self._vertex_error(err)
        return super()._error(err)

    def _vertex_error(self, err: anthropic.APIStatusError) -> QodoError:
        s = self._settings
        detail = self._scrub(google_message(err))
        where = f"{self._host} (HTTP {err.status_code}: {detail})"
        if err.status_code == 401:
            return ProviderAuthError(
                f"{where}: Google did not accept the token. Fix: run google-github-actions/auth in this job right "
                "before this step, or pass a valid service-account key as gcp-credentials."
            )
        if err.status_code == 403:
            return ProviderAuthError(
                f"{where}: the identity may not call Claude in project {s.cloud.project}. Fix: grant it "
                "roles/aiplatform.user on the project, enable the Vertex AI API and the model in Model Garden."
            )
        return UsageError(
            f"{where}: region {s.cloud.region} of project {s.cloud.project} does not serve model {s.model!r}. Fix: "
            "set `model` to a Claude model id enabled there (e.g. claude-sonnet-4-5@20250929) or `gcp-region` to "
            "a region that has it (us-east5, europe-west1, global)."
        )

    def _scrub(self, text: str) -> str:
        return self._tokens.scrub(super()._scrub(text))


class GoogleToken:
    """An OAuth access token from google-auth, refreshed when it is about to expire, one refresh at a time."""

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._credentials: Any = None
        self._issued: set[str] = set()

    def get(self) -> str:
        with self._lock:
            if self._credentials is None:
                self._credentials = load_credentials(self._settings.cloud.credentials.gcp_info or {})
            if not self._credentials.valid:
                self._refresh()
            token = str(self._credentials.token)
            self._issued.add(token)
            return token

    def scrub(self, text: str) -> str:
        for token in self._issued:
            text = text.replace(token, "***")
        return text

    def _refresh(self) -> None:
        import google.auth.exceptions
        from google.auth.transport.requests import Request

        session = requests.Session()
        session.trust_env = self._settings.trust_env  # proxies and CA bundles only with use-proxy-env
        session.max_redirects = 0  # a token request is never redirected elsewhere
        source = self._settings.cloud.credentials.gcp_source or "the Google credentials"
        try:
            self._credentials.refresh(Request(session))
        except google.auth.exceptions.RefreshError as exc:
            raise ProviderAuthError(
                f"Google refused a token for {source} ({self.scrub(short(exc))}). Fix: run "
                "google-github-actions/auth in this job just before this step (its OIDC token and the workload "
                "identity binding must be valid), or pass a current service-account key as gcp-credentials."
            ) from None
        except google.auth.exceptions.GoogleAuthError as exc:  # TransportError: the token endpoint is unreachable
            raise ProviderUnavailable(f"Could not get a Google token for {source}: {self.scrub(short(exc))}") from None
        finally:
            session.close()


def load_credentials(info: Mapping[str, Any]) -> Any:
    """google-auth credentials from the parsed JSON, by type (providers/cloud.py accepted only these)."""
    kind = info.get("type")
    if kind == "service_account":
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_info(dict(info), scopes=[GCP_SCOPE])  # type: ignore[no-untyped-call]
        except ValueError:
            raise UsageError(
                "The service-account key in gcp-credentials cannot be loaded (its private_key or client_email is "
                "missing or malformed). Fix: pass the key file's whole JSON, as downloaded."
            ) from None
    if kind == "external_account":
        from google.auth import identity_pool

        try:
            return identity_pool.Credentials.from_info(dict(info), scopes=[GCP_SCOPE])  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise UsageError(f"The workload identity credentials cannot be used: {short(exc)}") from None
    from google.oauth2 import credentials

    return credentials.Credentials.from_authorized_user_info(dict(info), scopes=[GCP_SCOPE])  # type: ignore[no-untyped-call]


def google_message(err: anthropic.APIStatusError) -> str:
    """Google's {"error": {"message"}}, sometimes inside a one-element list."""
    body = err.body[0] if isinstance(err.body, list) and err.body else err.body
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    text = message if isinstance(message, str) and message else err.api_message
    return " ".join((text or err.response.reason_phrase or "no message").split())[:300]


def short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
