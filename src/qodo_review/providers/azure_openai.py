"""Azure OpenAI through the openai SDK's own Azure client: the deployment in the path, api-version in the query,
the resource key (api-key header) or a Microsoft Entra ID token (Authorization: Bearer)."""

from __future__ import annotations

import openai

from ..errors import ProviderAuthError, QodoError, UsageError
from . import ProviderSettings
from .openai_chat import OpenAIChat, quiet, server_message


class AzureOpenAIChat(OpenAIChat):
    """The Chat Completions adapter with the AzureOpenAI client; the model is the deployment name."""

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self._token = settings.cloud.credentials.azure_ad_token

    def _client(self) -> openai.OpenAI:
        s = self._settings
        # The key or the token, never both (the SDK refuses both); every other argument explicit, so none of
        # AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_AD_TOKEN, OPENAI_API_VERSION is read.
        # project is not in the overloads' signatures, but None would make the SDK read OPENAI_PROJECT_ID.
        client: openai.AzureOpenAI = openai.AzureOpenAI(  # type: ignore[call-overload]
            azure_endpoint=s.base_url,
            azure_deployment=s.model,
            api_version=s.cloud.api_version,
            api_key=None if self._token else s.api_key,
            azure_ad_token=self._token or None,
            timeout=s.timeout,
            max_retries=s.max_retries,
            http_client=self._http(),
            admin_api_key="",
            organization="",
            project="",
            webhook_secret="",
        )
        # As for OpenAI: no organization/project headers, no OPENAI_CUSTOM_HEADERS, no `uname` subprocess.
        return quiet(client)

    def _error(self, err: openai.OpenAIError) -> QodoError:
        if isinstance(err, openai.APIStatusError) and err.status_code in (401, 403, 404):
            return self._azure_error(err)
        return super()._error(err)

    def _azure_error(self, err: openai.APIStatusError) -> QodoError:
        host, status = self._host, err.status_code
        detail = self._scrub(server_message(err.body, err.response))
        code = (err.code or "").lower()
        prefix = self._settings.input_prefix
        if status == 404:
            if "deployment" in code or "deployment" in detail.lower():
                return UsageError(
                    f"{host} has no deployment {self._settings.model!r} (HTTP 404: {detail}). Set the `{prefix}model` "
                    "input to the deployment name shown under Deployments in Azure AI Foundry."
                )
            return UsageError(
                f"{host} has no chat completions endpoint for api-version {self._settings.cloud.api_version} "
                f"(HTTP 404: {detail}). Check the `base-url` input (the resource endpoint) and `api-version`."
            )
        if self._token:
            expired = "expired" in detail.lower() or "lifetime" in detail.lower()
            why = "the Entra ID token has expired" if expired else "the Entra ID identity may not use this deployment"
            return ProviderAuthError(
                f"{host} rejected the request (HTTP {status}: {detail}): {why}. Fix: get the token in this job "
                "just before this step (az account get-access-token --resource https://cognitiveservices.azure.com) "
                "for an identity with the 'Cognitive Services OpenAI User' role on the resource."
            )
        return ProviderAuthError(
            f"{host} rejected the API key (HTTP {status}: {detail}). Check the `{prefix}api-key` input: it must be "
            "a key of this Azure OpenAI resource (Keys and Endpoint), passed as "
            "`api-key: ${{ secrets.AZURE_OPENAI_API_KEY }}`."
        )

    def _scrub(self, text: str) -> str:
        text = super()._scrub(text)
        return text.replace(self._token, "***") if self._token else text
