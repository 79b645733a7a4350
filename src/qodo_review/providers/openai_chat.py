"""The OpenAI Chat Completions adapter; "openai-compatible" (Azure, Ollama, vLLM, proxies) is this one too."""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import TypeVar

import httpx2
import openai
from openai._base_client import Platform
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from ..errors import (
    AnswerError,
    ContextTooLong,
    ProviderError,
    ProviderUnavailable,
    QodoError,
    RateLimited,
    UsageError,
)
from ..models import Completion, Prompt
from . import ProviderSettings
from ._http import rejected_key, retry_after, scrub, unreachable

_Client = TypeVar("_Client", bound=openai.OpenAI)

# Texts of a 400 that mean "the prompt is too big": OpenAI's code, and the wording vLLM and llama.cpp use.
CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "context window",
    "exceeds the available context size",
)
# Older compatible servers answer 400 to json_schema ("response_format ... not supported"); each weaker
# format is then tried once.
FORMAT_MARKERS = ("response_format", "json_schema", "json_object", "response format")
# Compatible servers need no key (Ollama, vLLM), but the SDK refuses to start without one, and an empty
# key would let it read OPENAI_API_KEY.
NO_KEY = "no-key"
# platform.system() -> the SDK's own names for the X-Stainless-OS header (openai._base_client.get_platform).
PLATFORMS: dict[str, Platform] = {"Linux": "Linux", "Darwin": "MacOS", "Windows": "Windows"}


class OpenAIChat:
    """Sends a Prompt to /chat/completions and maps every SDK failure to our error tree."""

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self._host = settings.host
        # Built once: the per-call clients share it. Loading the CA bundle takes ~35 ms of CPU under the GIL,
        # which per call serialized the parallel calls (bench/bench_parallel.py).
        self._tls = httpx2.create_ssl_context(trust_env=settings.trust_env)

    def complete(self, prompt: Prompt) -> Completion:
        # One client per call: nothing to close later, and concurrent calls share no state.
        with self._client() as client:
            response = self._create_with_fallback(client, prompt)
        if not isinstance(response, ChatCompletion):  # the SDK hands back the raw text of a non-JSON 200
            raise self._not_json()
        try:
            return self._completion(response)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError):
            # The SDK does not validate a 200's body: a proxy or a compatible server may send anything.
            raise AnswerError(f"{self._host} answered in an unexpected shape (not a chat completion).") from None

    def _client(self) -> openai.OpenAI:
        s = self._settings
        client = openai.OpenAI(
            api_key=s.api_key or NO_KEY,
            base_url=s.base_url,
            timeout=s.timeout,
            max_retries=s.max_retries,
            http_client=self._http(),
            # Empty strings, not None: None makes the SDK read OPENAI_ADMIN_KEY, OPENAI_ORG_ID, ...
            admin_api_key="",
            organization="",
            project="",
            webhook_secret="",
        )
        return quiet(client)

    def _http(self) -> httpx2.Client:
        """The SDK's HTTP client. A redirect would send the code and the key to another host: it is an
        error, never followed."""
        s = self._settings
        return httpx2.Client(follow_redirects=False, timeout=s.timeout, verify=self._tls, trust_env=s.trust_env)

    def _create_with_fallback(self, client: openai.OpenAI, prompt: Prompt) -> ChatCompletion:
        formats = response_formats(prompt)
        for index, response_format in enumerate(formats):
            try:
                return self._create(client, prompt, response_format)
            except openai.BadRequestError as err:
                if index + 1 < len(formats) and rejects_format(err):
                    continue
                # `from None`: the SDK's exception text may echo the key.
                raise self._error(err) from None
            except openai.OpenAIError as err:
                raise self._error(err) from None
            except ValueError:  # a 200 whose body is not JSON (json.JSONDecodeError escapes the SDK)
                raise self._not_json() from None
        raise AssertionError("unreachable: the last format either returns or raises")

    def _create(self, client: openai.OpenAI, prompt: Prompt, response_format: ResponseFormat | None) -> ChatCompletion:
        # Azure OpenAI serves OpenAI's models: the o-series and gpt-5 there reject max_tokens too.
        official = self._settings.kind in ("openai", "azure-openai")
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ]
        # No temperature: reasoning models reject it. max_completion_tokens is OpenAI's current name;
        # most compatible servers only know max_tokens.
        return client.chat.completions.create(
            model=self._settings.model,
            messages=messages,
            max_completion_tokens=prompt.max_output_tokens if official else openai.omit,
            max_tokens=openai.omit if official else prompt.max_output_tokens,
            response_format=response_format if response_format is not None else openai.omit,
            store=False if self._settings.kind == "openai" else openai.omit,  # no retention on OpenAI's side
        )

    def _not_json(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"{self._host} answered HTTP 200 with a body that is not JSON. Check the `"
            f"{self._settings.input_prefix}base-url` input: it must be the API's URL, not a web page."
        )

    def _completion(self, response: ChatCompletion) -> Completion:
        error = (response.model_extra or {}).get("error")
        if error is not None:  # some servers report a failure inside an HTTP 200
            detail = self._scrub(str(error.get("message") if isinstance(error, Mapping) else error))[:300]
            raise ProviderUnavailable(f"{self._host} answered HTTP 200 with an error: {detail}")
        if not response.choices:
            raise AnswerError(f"{self._host} returned no choices for the review request.")
        choice = response.choices[0]
        message = choice.message
        if message.refusal:
            raise AnswerError(f"The model refused to review: {self._scrub(message.refusal)}")
        if choice.finish_reason == "content_filter":
            raise AnswerError(f"{self._host}'s content filter stopped the answer.")
        truncated = choice.finish_reason == "length"
        # An empty cut-off answer (a reasoning model that spent the cap thinking) is a truncation the
        # caller can act on, not a refusal.
        if not message.content and not truncated:
            raise AnswerError(f"The model returned an empty answer (finish_reason {choice.finish_reason!r}).")
        usage = response.usage
        # OpenAI caches a prompt's first 1,024+ tokens by itself; prompt_tokens counts the cached ones too.
        details = usage.prompt_tokens_details if usage else None
        return Completion(
            text=message.content or "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
            finish_reason="length" if truncated else "stop",
            model=response.model or self._settings.model,
            tokens_cached=max(0, details.cached_tokens or 0) if details else 0,
        )

    def _error(self, err: openai.OpenAIError) -> QodoError:
        """The one place an OpenAI SDK exception becomes ours; no text in it may carry the key."""
        host = self._host
        prefix = self._settings.input_prefix
        if isinstance(err, openai.APIConnectionError):  # a timeout is one too
            return unreachable(
                self._settings, timed_out=isinstance(err, openai.APITimeoutError), cause=err.__cause__, text=str(err)
            )
        if not isinstance(err, openai.APIStatusError):
            return ProviderError(f"{host} failed: {self._scrub(str(err))}")
        status = err.status_code
        detail = self._scrub(server_message(err.body, err.response))
        code = (err.code or "").lower()
        if status in (401, 403):
            return rejected_key(self._settings, status, detail, f"key for {host}", "OPENAI_API_KEY")
        if status == 404:
            if "model" in code or "model" in detail.lower():
                return UsageError(
                    f"{host} does not know model {self._settings.model!r} (HTTP 404: {detail}). Set the "
                    f"`{prefix}model` input to a model your key can use."
                )
            return UsageError(
                f"{host} has no chat completions endpoint at {self._settings.base_url} (HTTP 404: {detail}). "
                f"Check the `{prefix}base-url` input; OpenAI-compatible servers usually end in /v1."
            )
        if status == 429:
            if code == "insufficient_quota":
                return ProviderError(f"{host}: the account's quota is used up ({detail}); add credit.")
            wait = retry_after(err.response.headers)
            return RateLimited(f"{host} rate-limited the request ({detail}).", wait)
        if status == 413 or (status == 400 and is_context_overflow(code, detail)):
            return ContextTooLong(f"{host}: the prompt exceeds the model's context window ({detail}).")
        if 300 <= status < 400:
            location = self._scrub(err.response.headers.get("location", "?"))
            return ProviderError(
                f"{host} answered HTTP {status} redirecting to {location}. Redirects are not followed, so "
                f"the code and the key go only to the configured host: set `{prefix}base-url` to the final URL."
            )
        if status >= 500 or status in (408, 409):  # the statuses the SDK itself would retry
            return ProviderUnavailable(f"{host} answered HTTP {status}: {detail}", retry_after(err.response.headers))
        return ProviderError(f"{host} answered HTTP {status}: {detail}")

    def _scrub(self, text: str) -> str:
        return scrub(text, self._settings.api_key)


def response_formats(prompt: Prompt) -> list[ResponseFormat | None]:
    """Structured output first, then plain JSON mode, then nothing (the prompt still asks for JSON)."""
    schema: ResponseFormat = {
        "type": "json_schema",
        "json_schema": {"name": prompt.schema_name, "schema": prompt.schema, "strict": False},
    }
    return [schema, {"type": "json_object"}, None]


def rejects_format(err: openai.BadRequestError) -> bool:
    text = f"{err.param or ''} {err.code or ''} {server_message(err.body, err.response)}".lower()
    return not is_context_overflow((err.code or "").lower(), text) and any(m in text for m in FORMAT_MARKERS)


def is_context_overflow(code: str, detail: str) -> bool:
    text = f"{code} {detail}".lower()
    return any(marker in text for marker in CONTEXT_MARKERS)


def server_message(body: object, response: httpx2.Response) -> str:
    """The server's own words: error.message from the JSON body, else the start of the raw body."""
    if isinstance(body, Mapping):
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
    text = body if isinstance(body, str) else _safe_text(response)
    return " ".join(text.split())[:300] or response.reason_phrase or "no message"


def _safe_text(response: httpx2.Response) -> str:
    try:
        return response.text
    except (httpx2.ResponseNotRead, UnicodeDecodeError):
        return ""


def quiet(client: _Client) -> _Client:
    """Drop what no constructor argument can stop: the OpenAI-Organization/-Project headers the empty
    strings would send, and the headers parsed from OPENAI_CUSTOM_HEADERS (which may carry an Authorization
    that replaces our key). The SDK's X-Stainless-OS header comes from platform.platform(), which runs
    `uname -p` in a subprocess on the first request; the action starts no process (SECURITY.md), so it is
    named here."""
    client.organization = None
    client.project = None
    client._custom_headers = {}
    client._ambient_authorizations = frozenset()
    client._platform = PLATFORMS.get(platform.system(), "Unknown")
    return client
