"""LLM providers behind one Protocol; the registry maps a provider kind to its module.

Only the chosen provider's SDK is imported, and only when ``make_provider`` is called.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import UsageError
from ..models import Completion, Prompt
from .cloud import CLOUD_KINDS, Cloud, CloudCredentials, CloudInputs, resolve_cloud


class Provider(Protocol):
    """One method: send a prompt, return the completion, or raise one of our ProviderErrors."""

    def complete(self, prompt: Prompt) -> Completion: ...


@dataclass(frozen=True)
class ProviderSettings:
    """Where the code goes and with which key. Built only from trusted workflow inputs."""

    kind: str  # "openai" | "anthropic" | "openai-compatible" | "azure-openai" | "bedrock" | "vertex"
    model: str
    base_url: str
    api_key: str = field(repr=False, default="")
    timeout: float = 120.0
    # The SDKs' own retries are off: retry.py owns the policy (Retry-After, the run's time budget, counts).
    max_retries: int = 0
    # How the inputs that configure this endpoint are named in messages: "" or "fallback-" (fallback-api-key).
    input_prefix: str = ""
    # HTTP(S)_PROXY, ALL_PROXY, SSL_CERT_FILE/DIR are honoured only when the workflow says so (input
    # use-proxy-env): an earlier step can set them through $GITHUB_ENV, and a proxy plus a CA of its own
    # would read the code and the key in clear.
    trust_env: bool = False
    # The cloud providers' region, project, API version and credentials (providers/cloud.py).
    cloud: Cloud = field(default_factory=Cloud, repr=False)
    # The model whose limits apply when the name says nothing (an Azure deployment): input model-family.
    family: str = ""

    @property
    def host(self) -> str:
        """host[:port] only: never the user:password@ a base-url may carry."""
        parts = urlsplit(self.base_url)
        return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname or "")


# kind -> (module, class). "openai-compatible" is the OpenAI adapter with another base URL.
REGISTRY: dict[str, tuple[str, str]] = {
    "openai": ("qodo_review.providers.openai_chat", "OpenAIChat"),
    "openai-compatible": ("qodo_review.providers.openai_chat", "OpenAIChat"),
    "anthropic": ("qodo_review.providers.anthropic_messages", "AnthropicMessages"),
    "azure-openai": ("qodo_review.providers.azure_openai", "AzureOpenAIChat"),
    "bedrock": ("qodo_review.providers.bedrock", "BedrockMessages"),
    "vertex": ("qodo_review.providers.vertex", "VertexMessages"),
}

DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
DEFAULT_MODELS = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-6", "openai-compatible": ""}
PROVIDER_KINDS = ("auto", "openai", "anthropic", "openai-compatible")


def resolve_settings(
    provider: str,
    api_key: str,
    model: str,
    base_url: str,
    *,
    trust_env: bool = False,
    cloud: CloudInputs | None = None,
    credentials: CloudCredentials | None = None,
) -> ProviderSettings:
    """Decide the provider kind, model and endpoint from the inputs alone (never the SDKs' env vars)."""
    kind = provider.strip().lower() or "auto"
    if kind in CLOUD_KINDS:  # named explicitly, never chosen by auto
        inputs = cloud or CloudInputs()
        url, settings = resolve_cloud(kind, inputs, credentials or CloudCredentials(), model.strip(), base_url.strip())
        return ProviderSettings(
            kind=kind,
            model=model.strip(),
            base_url=url,
            api_key=api_key,
            trust_env=trust_env,
            cloud=settings,
            family=inputs.model_family.strip(),
        )
    if kind not in PROVIDER_KINDS:
        kinds = ", ".join((*PROVIDER_KINDS, *CLOUD_KINDS))
        raise UsageError(f"Input 'provider' is {provider!r}; it must be one of {kinds}.")
    if kind == "auto":
        if api_key.startswith("sk-ant-") or "anthropic" in urlsplit(base_url).netloc:
            kind = "anthropic"
        elif base_url:
            kind = "openai-compatible"
        else:
            kind = "openai"
    url = base_url.strip() or DEFAULT_BASE_URLS.get(kind, "")
    if not url:
        raise UsageError(
            "Input 'provider' is openai-compatible but 'base-url' is empty: set base-url to your "
            "endpoint, e.g. http://localhost:11434/v1 for Ollama."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"Input 'base-url' is {url!r}: it must be an http(s) URL such as https://host/v1.")
    chosen_model = model.strip() or DEFAULT_MODELS.get(kind, "")
    if not chosen_model:
        raise UsageError("Input 'model' is empty: an openai-compatible endpoint needs a model name.")
    return ProviderSettings(
        kind=kind, model=chosen_model, base_url=url.rstrip("/"), api_key=api_key, trust_env=trust_env
    )


def resolve_fallback(
    primary: ProviderSettings, provider: str, api_key: str, model: str, base_url: str
) -> ProviderSettings | None:
    """The fallback model's settings from the fallback-* inputs, or None when none is set.

    Unset fallback inputs inherit the primary's provider and endpoint; the primary's key is reused only
    for the same endpoint, so it never goes to a host it was not given for.
    """
    provider, model, base_url = provider.strip().lower(), model.strip(), base_url.strip()
    if not (provider or model or base_url):
        if api_key:
            raise UsageError(
                "Input 'fallback-api-key' is set but 'fallback-model' is empty: name the model to "
                "use when the primary keeps failing (with: fallback-model: gpt-4.1-mini)."
            )
        return None
    if primary.kind in CLOUD_KINDS or provider in CLOUD_KINDS:
        return _cloud_fallback(primary, provider, api_key, model, base_url)
    if provider and provider not in PROVIDER_KINDS:
        raise UsageError(
            f"Input 'fallback-provider' is {provider!r}; it must be one of "
            f"{', '.join(PROVIDER_KINDS)}, or empty for the same provider as 'provider'."
        )
    same_kind = provider in ("", primary.kind)
    url = base_url or (primary.base_url if same_kind else "")
    key = api_key or (primary.api_key if same_kind and url.rstrip("/") == primary.base_url else "")
    if not key and (provider or primary.kind) != "openai-compatible":
        raise UsageError(
            "Input 'fallback-api-key' is empty, and the fallback endpoint is not the primary's, so "
            "the primary key is not sent there. Pass its key from a secret "
            "(with: fallback-api-key: ${{ secrets.FALLBACK_API_KEY }})."
        )
    try:
        settings = resolve_settings(provider or primary.kind, key, model, url)
    except UsageError as exc:
        raise UsageError(re.sub(r"'(provider|base-url|model)'", r"'fallback-\1'", str(exc))) from None
    if (settings.kind, settings.model, settings.base_url) == (primary.kind, primary.model, primary.base_url):
        raise UsageError(
            f"Input 'fallback-model' names the primary model itself ({primary.model!r} at "
            f"{primary.host}); set another model, or remove the fallback-* inputs."
        )
    return replace(
        settings,
        timeout=primary.timeout,
        max_retries=primary.max_retries,
        input_prefix="fallback-",
        trust_env=primary.trust_env,
    )


def make_provider(settings: ProviderSettings) -> Provider:
    """Import the chosen provider's module (and so its SDK) now, and only that one."""
    module_name, class_name = REGISTRY[settings.kind]
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: Provider = cls(settings)
    return provider


def _cloud_fallback(
    primary: ProviderSettings, provider: str, api_key: str, model: str, base_url: str
) -> ProviderSettings:
    """A cloud provider's fallback is another model (deployment) of the same account, region and credentials:
    code then goes to no host the primary's inputs did not name."""
    if provider not in ("", primary.kind) or base_url or api_key:
        raise UsageError(
            f"Input 'fallback-provider' is {provider or primary.kind!r} with provider {primary.kind!r}: a cloud "
            "provider's fallback is another model of the same provider; set only fallback-model."
        )
    if not model or model == primary.model:
        raise UsageError(
            f"Input 'fallback-model' is {model!r}: name another model (deployment) of {primary.host}, "
            "or remove the fallback-* inputs."
        )
    return replace(primary, model=model, input_prefix="fallback-", family="")
