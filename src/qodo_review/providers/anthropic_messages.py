"""The Anthropic Messages adapter: structured output through one forced tool call."""

from __future__ import annotations

import json

import anthropic
import httpx2
from anthropic.types import Message, TextBlockParam, ToolParam, ToolUseBlock

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

# Texts of a 400 that mean "the prompt is too big": "prompt is too long: 210000 tokens > 200000 maximum"
# and "input length and `max_tokens` exceed context limit: ...".
CONTEXT_MARKERS = ("prompt is too long", "exceed context limit", "context window")
# anthropic 2.x sleeps for any Retry-After the server sends (it caps at ~50 days) before retrying. A longer
# hint than this ends the SDK's retries instead, and RateLimited.retry_after lets our own policy decide.
MAX_SDK_RETRY_WAIT = 60.0
# stop reasons that mean the answer was cut off rather than finished
TRUNCATED = ("max_tokens", "model_context_window_exceeded")


class AnthropicMessages:
    """Sends a Prompt to /v1/messages and maps every SDK failure to our error tree."""

    def __init__(self, settings: ProviderSettings) -> None:
        self._settings = settings
        self._host = settings.host
        # Built once: the per-call clients share it. Loading the CA bundle takes ~35 ms of CPU under the GIL,
        # which per call serialized the parallel calls (bench/bench_parallel.py).
        self._tls = httpx2.create_ssl_context(trust_env=settings.trust_env)

    def complete(self, prompt: Prompt) -> Completion:
        name = prompt.schema_name
        tool: ToolParam = {"name": name, "description": "Return the result", "input_schema": prompt.schema}
        # One client per call: nothing to close later, and concurrent calls share no state.
        with self._client() as client:
            try:
                message = client.messages.create(
                    model=self._settings.model,
                    max_tokens=prompt.max_output_tokens,
                    system=prompt.system,
                    messages=[{"role": "user", "content": user_content(prompt)}],
                    tools=[tool],
                    tool_choice={"type": "tool", "name": name},
                )
            except anthropic.AnthropicError as err:
                # `from None`: the SDK's exception text may echo the key.
                raise self._error(err) from None
            except ValueError:  # a 200 whose body is not JSON (json.JSONDecodeError escapes the SDK)
                raise self._not_json() from None
        if not isinstance(message, Message):  # the SDK hands back the raw text of a non-JSON 200
            raise self._not_json()
        try:
            return self._completion(message)
        except (TypeError, AttributeError, KeyError, IndexError, ValueError):
            # The SDK does not validate a 200's body: a proxy or a compatible server may send anything.
            raise AnswerError(f"{self._host} answered in an unexpected shape (not a message).") from None

    def _http(self) -> httpx2.Client:
        """The HTTP client under the SDK's (the Bedrock and Vertex adapters use it too)."""
        s = self._settings
        return httpx2.Client(
            # A redirect would send the code and the key to another host: it is an error, never followed.
            follow_redirects=False,
            timeout=s.timeout,
            verify=self._tls,
            trust_env=s.trust_env,
            event_hooks={"response": [stop_long_sdk_retries]},
        )

    def _client(self) -> anthropic.Anthropic:
        s = self._settings
        http = self._http()
        client = anthropic.Anthropic(
            # An explicit key, even empty, stops ANTHROPIC_API_KEY/_AUTH_TOKEN, ANTHROPIC_PROFILE, the
            # config directory and the workload-identity variables from being consulted.
            api_key=s.api_key,
            base_url=s.base_url,
            timeout=s.timeout,
            max_retries=s.max_retries,
            http_client=http,
            webhook_key="",  # None would read ANTHROPIC_WEBHOOK_SIGNING_KEY
            # None would read ANTHROPIC_OPEN_TELEMETRY*, and spans and trace propagation default to on.
            open_telemetry=False,
        )
        # No argument stops ANTHROPIC_CUSTOM_HEADERS from being merged into every request: drop them.
        client._custom_headers = {}
        return client

    def _not_json(self) -> ProviderUnavailable:
        return ProviderUnavailable(
            f"{self._host} answered HTTP 200 with a body that is not JSON. Check the `"
            f"{self._settings.input_prefix}base-url` input: it must be the API's URL, not a web page."
        )

    def _completion(self, message: Message) -> Completion:
        if message.type == "error":  # type: ignore[comparison-overlap]  # an error inside an HTTP 200
            raise self._body_error((message.model_extra or {}).get("error"))
        if message.stop_reason == "refusal":
            raise AnswerError("The model refused to review this change (stop_reason 'refusal').")
        truncated = message.stop_reason in TRUNCATED
        tool_uses = [block for block in message.content if isinstance(block, ToolUseBlock)]
        if tool_uses:
            text = json.dumps(tool_uses[0].input, ensure_ascii=False)
        else:
            text = "".join(block.text for block in message.content if block.type == "text")
        if not text.strip() and not truncated:
            raise AnswerError(f"The model returned an empty answer (stop_reason {message.stop_reason!r}).")
        usage = message.usage
        # input_tokens counts only what came after the last cache breakpoint: the cache's reads and writes are
        # input too (docs.anthropic.com, prompt caching: "Tracking cache performance").
        read, written = max(0, usage.cache_read_input_tokens or 0), max(0, usage.cache_creation_input_tokens or 0)
        return Completion(
            text=text,
            tokens_in=usage.input_tokens + read + written,
            tokens_out=usage.output_tokens,
            finish_reason="length" if truncated else "stop",
            model=message.model or self._settings.model,
            tokens_cached=read,
            tokens_cache_write=written,
        )

    def _error(self, err: anthropic.AnthropicError) -> QodoError:
        """The one place an Anthropic SDK exception becomes ours; no text in it may carry the key."""
        host = self._host
        prefix = self._settings.input_prefix
        if isinstance(err, anthropic.APIConnectionError):  # a timeout is one too
            return unreachable(
                self._settings, timed_out=isinstance(err, anthropic.APITimeoutError), cause=err.__cause__, text=str(err)
            )
        if not isinstance(err, anthropic.APIStatusError):
            return ProviderError(f"{host} failed: {self._scrub(str(err))}")
        status = err.status_code
        detail = self._scrub(server_message(err))
        if status in (401, 403):
            return rejected_key(self._settings, status, detail, "Anthropic key", "ANTHROPIC_API_KEY")
        if status == 404:
            if "model" in detail.lower():
                return UsageError(
                    f"{host} does not know model {self._settings.model!r} (HTTP 404: {detail}). Set the "
                    f"`{prefix}model` input to a model your key can use."
                )
            return UsageError(
                f"{host} has no messages endpoint at {self._settings.base_url} (HTTP 404: {detail}). "
                f"Check the `{prefix}base-url` input (for Anthropic it has no /v1)."
            )
        if (err.error_code or "").endswith("spend_limit_reached"):
            return ProviderError(
                f"{host}: the organization's spend limit was reached ({detail}). Raise the limit in the "
                "Anthropic console or wait for it to reset; retrying will not help."
            )
        if status in (429, 529):
            what = "is overloaded" if status == 529 else "rate-limited the request"
            return RateLimited(f"{host} {what} ({detail}).", retry_after(err.response.headers))
        if status == 413 or (status == 400 and any(m in detail.lower() for m in CONTEXT_MARKERS)):
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

    def _body_error(self, error: object) -> ProviderError:
        """An error object sent with HTTP 200: overloaded and api errors are transient, as with a 529/500."""
        kind = str(error.get("type") or "") if isinstance(error, dict) else ""
        detail = self._scrub(str(error.get("message") or kind) if isinstance(error, dict) else str(error))[:300]
        text = f"{self._host} answered HTTP 200 with an error ({kind or 'unknown'}: {detail})."
        if kind == "rate_limit_error":
            return RateLimited(text)
        if kind in ("overloaded_error", "api_error", "timeout_error", ""):
            return ProviderUnavailable(text)
        return ProviderError(text)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._settings.api_key)


def user_content(prompt: Prompt) -> str | list[TextBlockParam]:
    """The user turn; with a shared start, two text blocks, the first marked as the end of the cacheable
    prefix (tools, system, then it), so every call of a run after the first reads it from Anthropic's cache.
    A prefix shorter than the model's minimum (1,024 tokens for Sonnet and Opus) is simply not cached."""
    shared = prompt.shared
    if not shared or not prompt.user.startswith(shared) or len(prompt.user) == len(shared):
        return prompt.user
    return [
        {"type": "text", "text": shared, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": prompt.user[len(shared) :]},
    ]


def server_message(err: anthropic.APIStatusError) -> str:
    """The server's own words: error.message from the JSON body, else the start of the raw body."""
    if err.api_message:
        return err.api_message
    text = err.body if isinstance(err.body, str) else ""
    return " ".join(text.split())[:300] or err.response.reason_phrase or "no message"


def stop_long_sdk_retries(response: httpx2.Response) -> None:
    """httpx response hook: a Retry-After beyond MAX_SDK_RETRY_WAIT tells the SDK not to retry."""
    wait = retry_after(response.headers)
    if wait is not None and wait > MAX_SDK_RETRY_WAIT:
        response.headers["x-should-retry"] = "false"
