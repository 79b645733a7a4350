"""LLM providers behind one Protocol; the registry maps a provider kind to its module.

Only the chosen provider's SDK is imported, and only when ``make_provider`` is called.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from ..errors import UsageError
from ..models import Completion, Prompt


class Provider(Protocol):
    """One method: send a prompt, return the completion, or raise one of our ProviderErrors."""

    def complete(self, prompt: Prompt) -> Completion: ...


@dataclass(frozen=True)
class ProviderSettings:
    """Where the code goes and with which key. Built only from trusted workflow inputs."""

    kind: str  # "openai" | "anthropic" | "openai-compatible"
    model: str
    base_url: str
    api_key: str = field(repr=False, default="")
    timeout: float = 120.0
    max_retries: int = 2

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
}

DEFAULT_BASE_URLS = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
DEFAULT_MODELS = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-6", "openai-compatible": ""}
PROVIDER_KINDS = ("auto", "openai", "anthropic", "openai-compatible")


def resolve_settings(provider: str, api_key: str, model: str, base_url: str) -> ProviderSettings:
    """Decide the provider kind, model and endpoint from the inputs alone (never the SDKs' env vars)."""
    kind = provider.strip().lower() or "auto"
    if kind not in PROVIDER_KINDS:
        raise UsageError(
            f"Input 'provider' is {provider!r}; it must be one of {', '.join(PROVIDER_KINDS)}."
        )
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
    return ProviderSettings(kind=kind, model=chosen_model, base_url=url.rstrip("/"), api_key=api_key)


def make_provider(settings: ProviderSettings) -> Provider:
    """Import the chosen provider's module (and so its SDK) now, and only that one."""
    module_name, class_name = REGISTRY[settings.kind]
    cls = getattr(importlib.import_module(module_name), class_name)
    provider: Provider = cls(settings)
    return provider
