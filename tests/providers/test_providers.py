"""Provider adapters through the real openai/anthropic SDKs over real HTTP against a local FakeLLM."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.llm_server import (
    FakeLLM,
    anthropic_error,
    anthropic_text_message,
    anthropic_tool_message,
    chat_completion,
    openai_error,
    running,
)

from qodo_review.errors import (
    AnswerError,
    ContextTooLong,
    ExitCode,
    ProviderAuthError,
    ProviderError,
    RateLimited,
    UsageError,
)
from qodo_review.models import Completion, Prompt
from qodo_review.providers import ProviderSettings, make_provider

KEY = "sk-test-SECRET-0123456789"
SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
PROMPT = Prompt(
    system="You review code. Answer in JSON.", user="diff --git a/x b/x", schema=SCHEMA, max_output_tokens=321
)
ANSWER = {"summary": "Looks fine.", "findings": []}
MODELS = {"openai": "gpt-4.1", "openai-compatible": "llama3.1", "anthropic": "claude-sonnet-4-6"}
ALL_KINDS = ["openai", "openai-compatible", "anthropic"]


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    yield from running()


def settings(kind: str, url: str, **overrides: Any) -> ProviderSettings:
    base = url + "/v1" if kind != "anthropic" else url
    values: dict[str, Any] = {"model": MODELS[kind], "base_url": base, "api_key": KEY, "max_retries": 0}
    values.update(overrides)
    return ProviderSettings(kind=kind, **values)


def complete(kind: str, server: FakeLLM, **overrides: Any) -> Completion:
    return make_provider(settings(kind, server.url, **overrides)).complete(PROMPT)


def error_body(kind: str, message: str, type: str = "invalid_request_error", code: str | None = None) -> Any:
    if kind == "anthropic":
        return anthropic_error(type, message)
    return openai_error(message, type=type, code=code)


# --- success and request shapes ---------------------------------------------------------------------


def test_openai_request_shape_and_completion(llm: FakeLLM) -> None:
    completion = complete("openai", llm)

    assert completion == Completion(json.dumps(ANSWER), 10, 5, "stop", "gpt-4.1")
    (request,) = llm.requests
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {
        "model": "gpt-4.1",
        "messages": [
            {"role": "system", "content": PROMPT.system},
            {"role": "user", "content": PROMPT.user},
        ],
        "max_completion_tokens": 321,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "review", "schema": SCHEMA, "strict": False},
        },
        "store": False,
    }


def test_openai_compatible_sends_max_tokens_and_no_store(llm: FakeLLM) -> None:
    completion = complete("openai-compatible", llm)

    assert completion.text == json.dumps(ANSWER)
    body = llm.requests[0].json
    assert body["max_tokens"] == 321
    assert "max_completion_tokens" not in body and "store" not in body and "temperature" not in body
    assert body["model"] == "llama3.1"
    assert body["response_format"]["type"] == "json_schema"


def test_anthropic_request_shape_and_completion(llm: FakeLLM) -> None:
    completion = complete("anthropic", llm)

    assert completion == Completion(json.dumps(ANSWER), 12, 7, "stop", "claude-sonnet-4-6")
    (request,) = llm.requests
    assert request.path == "/v1/messages"
    assert request.json == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 321,
        "system": PROMPT.system,
        "messages": [{"role": "user", "content": PROMPT.user}],
        "tools": [{"name": "review", "description": "Return the result", "input_schema": SCHEMA}],
        "tool_choice": {"type": "tool", "name": "review"},
    }


def test_anthropic_without_tool_use_falls_back_to_text_blocks(llm: FakeLLM) -> None:
    llm.enqueue(json=anthropic_text_message('{"summary": "ok"}'))

    assert complete("anthropic", llm).text == '{"summary": "ok"}'


# --- structured-output fallback ---------------------------------------------------------------------

FORMAT_REJECTED = openai_error("response_format json_schema is not supported by this model", param="response_format")
JSON_MODE_REJECTED = openai_error("Unknown value for response_format.type: json_object", param="response_format")


def test_rejected_json_schema_falls_back_to_json_object(llm: FakeLLM) -> None:
    llm.enqueue(400, FORMAT_REJECTED)

    assert complete("openai-compatible", llm).text == json.dumps(ANSWER)
    formats = [r.json.get("response_format") for r in llm.requests]
    assert formats == [
        {"type": "json_schema", "json_schema": {"name": "review", "schema": SCHEMA, "strict": False}},
        {"type": "json_object"},
    ]


def test_rejected_json_object_falls_back_to_no_response_format(llm: FakeLLM) -> None:
    llm.enqueue(400, FORMAT_REJECTED)
    llm.enqueue(400, JSON_MODE_REJECTED)

    assert complete("openai-compatible", llm).text == json.dumps(ANSWER)
    assert [r.json.get("response_format", {}).get("type") for r in llm.requests] == [
        "json_schema",
        "json_object",
        None,
    ]


def test_other_bad_request_is_not_retried_with_another_format(llm: FakeLLM) -> None:
    llm.enqueue(400, openai_error(f"Unsupported value: 'messages[0].role' with key {KEY}", param="messages"))

    with pytest.raises(ProviderError) as caught:
        complete("openai", llm)
    assert type(caught.value) is ProviderError
    assert "Unsupported value: 'messages[0].role'" in str(caught.value)
    assert KEY not in str(caught.value) and "***" in str(caught.value)
    assert len(llm.requests) == 1


# --- error mapping ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("status", [401, 403])
def test_rejected_key_is_an_auth_error_without_the_key(llm: FakeLLM, kind: str, status: int) -> None:
    kind_type = "authentication_error" if status == 401 else "permission_error"
    llm.enqueue(status, error_body(kind, f"Incorrect API key provided: {KEY}.", type=kind_type))

    with pytest.raises(ProviderAuthError) as caught:
        complete(kind, llm, max_retries=2)
    message = str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE
    assert int(caught.value.exit_code) == 2
    assert "`api-key`" in message and "secrets." in message
    assert f"127.0.0.1:{llm.url.rsplit(':', 1)[1]}" in message
    assert KEY not in message and "Incorrect API key provided: ***" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(llm.requests) == 1  # never retried


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_unknown_model_names_the_model_input(llm: FakeLLM, kind: str) -> None:
    message = f"The model `{MODELS[kind]}` does not exist" if kind != "anthropic" else "model: nope"
    llm.enqueue(404, error_body(kind, message, type="not_found_error", code="model_not_found"))

    with pytest.raises(UsageError, match="`model` input") as caught:
        complete(kind, llm)
    assert caught.value.exit_code == ExitCode.USAGE


def test_wrong_endpoint_names_the_base_url_input(llm: FakeLLM) -> None:
    llm.enqueue(404, body="404 page not found", headers={"Content-Type": "text/plain"})

    with pytest.raises(UsageError, match="`base-url` input"):
        complete("openai-compatible", llm)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_rate_limit_carries_retry_after(llm: FakeLLM, kind: str) -> None:
    llm.enqueue(429, error_body(kind, "Rate limit reached", type="rate_limit_error"), headers={"Retry-After": "7"})

    with pytest.raises(RateLimited) as caught:
        complete(kind, llm)
    assert caught.value.retry_after == 7.0
    assert "rate-limited" in str(caught.value)


def test_rate_limit_without_retry_after_has_none(llm: FakeLLM) -> None:
    llm.enqueue(429, openai_error("Rate limit reached", type="rate_limit_error"))

    with pytest.raises(RateLimited) as caught:
        complete("openai", llm)
    assert caught.value.retry_after is None


def test_openai_insufficient_quota_is_not_a_rate_limit(llm: FakeLLM) -> None:
    llm.enqueue(
        429,
        openai_error("You exceeded your current quota", type="insufficient_quota", code="insufficient_quota"),
    )

    with pytest.raises(ProviderError, match="quota") as caught:
        complete("openai", llm)
    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_sdk_retry_recovers_from_one_server_error(llm: FakeLLM, kind: str) -> None:
    # retry-after-ms keeps the SDK's back-off short
    llm.enqueue(500, error_body(kind, "boom", type="api_error"), headers={"retry-after-ms": "10"})

    assert complete(kind, llm, max_retries=1).text == json.dumps(ANSWER)
    assert [r.headers["x-stainless-retry-count"] for r in llm.requests] == ["0", "1"]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_server_error_after_retries_is_a_provider_error(llm: FakeLLM, kind: str) -> None:
    llm.enqueue(502, body="<html>Bad Gateway</html>", headers={"Content-Type": "text/html"})

    with pytest.raises(ProviderError, match="HTTP 502") as caught:
        complete(kind, llm)
    assert caught.value.exit_code == ExitCode.INCOMPLETE


def test_anthropic_long_retry_after_ends_the_sdk_retries(llm: FakeLLM) -> None:
    llm.enqueue(429, anthropic_error("rate_limit_error", "slow down"), headers={"Retry-After": "3600"})

    outcome: list[BaseException] = []

    def call() -> None:
        try:
            complete("anthropic", llm, max_retries=2)
        except BaseException as err:
            outcome.append(err)

    # In a daemon thread so that a regression fails here instead of sleeping an hour in the SDK.
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the SDK is sleeping on Retry-After instead of raising"
    (error,) = outcome
    assert isinstance(error, RateLimited) and error.retry_after == 3600.0
    assert len(llm.requests) == 1


CONTEXT_ERRORS = [
    (
        "openai",
        400,
        openai_error(
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 200000 tokens.",
            code="context_length_exceeded",
        ),
    ),
    (
        "openai-compatible",
        400,
        openai_error(
            "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
            type="BadRequestError",
        ),
    ),
    (
        "anthropic",
        400,
        anthropic_error("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"),
    ),
    (
        "anthropic",
        413,
        anthropic_error("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    ),
]


@pytest.mark.parametrize(("kind", "status", "body"), CONTEXT_ERRORS)
def test_context_overflow_is_context_too_long(llm: FakeLLM, kind: str, status: int, body: Any) -> None:
    llm.enqueue(status, body)

    with pytest.raises(ContextTooLong):
        complete(kind, llm)
    assert len(llm.requests) == 1  # a context overflow is not mistaken for a rejected response_format


@pytest.mark.parametrize(
    ("kind", "reply"),
    [
        ("openai", chat_completion('{"summary": "cut', finish_reason="length")),
        ("openai", chat_completion("", finish_reason="length")),
        ("anthropic", anthropic_tool_message({"summary": "cut"}, stop_reason="max_tokens")),
    ],
)
def test_truncated_answer_has_finish_reason_length(llm: FakeLLM, kind: str, reply: Any) -> None:
    llm.enqueue(json=reply)

    assert complete(kind, llm).finish_reason == "length"


def test_anthropic_overloaded_is_rate_limited(llm: FakeLLM) -> None:
    llm.enqueue(529, anthropic_error("overloaded_error", "Overloaded"), headers={"Retry-After": "3"})

    with pytest.raises(RateLimited, match="overloaded") as caught:
        complete("anthropic", llm)
    assert caught.value.retry_after == 3.0


def test_anthropic_spend_limit_is_not_a_rate_limit(llm: FakeLLM) -> None:
    details = {"error_code": "enforced_spend_limit_reached"}
    llm.enqueue(429, anthropic_error("rate_limit_error", "You have reached your spend limit.", details=details))

    with pytest.raises(ProviderError, match="spend limit was reached") as caught:
        complete("anthropic", llm)
    assert not isinstance(caught.value, RateLimited)


@pytest.mark.parametrize(
    ("kind", "reply"),
    [
        ("openai", chat_completion(None, refusal="I can't help with that.")),
        ("openai", chat_completion("")),
        ("anthropic", anthropic_text_message("", stop_reason="refusal")),
        ("anthropic", anthropic_text_message("")),
    ],
)
def test_refusal_or_empty_answer_is_an_answer_error(llm: FakeLLM, kind: str, reply: Any) -> None:
    llm.enqueue(json=reply)

    with pytest.raises(AnswerError):
        complete(kind, llm)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_timeout_is_a_provider_error(llm: FakeLLM, kind: str) -> None:
    llm.enqueue(json=chat_completion("late"), delay=5.0)

    with pytest.raises(ProviderError, match=r"did not answer within 0\.3 s"):
        complete(kind, llm, timeout=0.3)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_connection_refused_is_a_provider_error(kind: str) -> None:
    with socket.socket() as sock:  # a port that was just free, so nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ProviderError, match=f"Could not connect to 127.0.0.1:{port}"):
        make_provider(settings(kind, f"http://127.0.0.1:{port}")).complete(PROMPT)


# --- where requests go: environment and redirects ---------------------------------------------------

DEAD_URL = "http://127.0.0.1:9"


def test_openai_sdk_environment_is_ignored(llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "OPENAI_BASE_URL": DEAD_URL,
        "OPENAI_API_KEY": "env-key",
        "OPENAI_ADMIN_KEY": "env-admin",
        "OPENAI_ORG_ID": "org-env",
        "OPENAI_PROJECT_ID": "proj-env",
        "OPENAI_CUSTOM_HEADERS": "X-From-Env: 1\nAuthorization: Bearer env-header-key",
    }.items():
        monkeypatch.setenv(name, value)

    complete("openai", llm)

    headers = llm.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    for name in ("x-from-env", "openai-organization", "openai-project"):
        assert name not in headers


def test_anthropic_sdk_environment_is_ignored(llm: FakeLLM, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "ANTHROPIC_BASE_URL": DEAD_URL,
        "ANTHROPIC_API_KEY": "env-key",
        "ANTHROPIC_AUTH_TOKEN": "env-token",
        "ANTHROPIC_CUSTOM_HEADERS": "X-From-Env: 1\nanthropic-beta: env-beta",
        "ANTHROPIC_PROFILE": "no-such-profile",
        "ANTHROPIC_FEDERATION_RULE_ID": "rule",
        "ANTHROPIC_IDENTITY_TOKEN": "id-token",
        "ANTHROPIC_ORGANIZATION_ID": "org",
        "ANTHROPIC_OPEN_TELEMETRY_TRACES_CONTENT_MODE": "content",
    }.items():
        monkeypatch.setenv(name, value)

    complete("anthropic", llm)

    headers = llm.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    for name in ("x-from-env", "anthropic-beta", "traceparent"):
        assert name not in headers


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_redirect_is_not_followed(llm: FakeLLM, kind: str) -> None:
    with FakeLLM() as elsewhere:
        path = "/v1/messages" if kind == "anthropic" else "/v1/chat/completions"
        llm.enqueue(307, body=b"", headers={"Location": elsewhere.url + path})

        with pytest.raises(ProviderError, match="HTTP 307") as caught:
            complete(kind, llm, max_retries=2)
        assert elsewhere.requests == []
    assert elsewhere.url in str(caught.value) and "`base-url`" in str(caught.value)


# --- lazy SDK imports -------------------------------------------------------------------------------

LAZY = """
import sys
import threading
from qodo_review.providers import ProviderSettings, make_provider
assert "openai" not in sys.modules and "anthropic" not in sys.modules, "package import pulled an SDK"
make_provider(ProviderSettings({kind!r}, "m", "http://127.0.0.1:9/v1", "k"))
assert {loaded!r} in sys.modules
assert {other!r} not in sys.modules, "the other SDK was imported"
"""


@pytest.mark.parametrize(
    ("kind", "loaded", "other"), [("openai", "openai", "anthropic"), ("anthropic", "anthropic", "openai")]
)
def test_only_the_chosen_sdk_is_imported(kind: str, loaded: str, other: str) -> None:
    code = LAZY.format(kind=kind, loaded=loaded, other=other)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- recorded real traffic --------------------------------------------------------------------------

# The `realdata` fixture (conftest.py) skips these when ../shared/realdata is absent.


def cassette(realdata: Path, name: str) -> dict[str, Any]:
    """The first recorded response of a VCR cassette under realdata/llm-api/."""
    import yaml

    document = yaml.safe_load((realdata / "llm-api" / name).read_text())
    response: dict[str, Any] = document["interactions"][0]["response"]
    return response


def test_recorded_anthropic_message_parses(llm: FakeLLM, realdata: Path) -> None:
    response = cassette(
        realdata,
        "error-cassettes-pydantic-ai/anthropic_messages_200_with_retry_after_header.test_no_tools_no_output.yaml",
    )
    llm.enqueue(json=response["parsed_body"])

    completion = complete("anthropic", llm)

    assert completion.text == "".join(block["text"] for block in response["parsed_body"]["content"])
    assert "Paris" in completion.text
    assert (completion.tokens_in, completion.tokens_out) == (14, 65)
    assert completion.finish_reason == "stop" and completion.model == "claude-sonnet-4-5-20250929"


def test_recorded_openai_completion_parses(llm: FakeLLM, realdata: Path) -> None:
    spec = json.loads((realdata / "llm-api/openai-openapi/chat-completions.subset.json").read_text())
    example = next(e for e in spec["createChatCompletion"]["x-oaiMeta_examples"] if e["title"] == "Default")
    llm.enqueue(body=example["response"])

    completion = complete("openai", llm)

    assert completion == Completion("Hello! How can I assist you today?", 19, 10, "stop", "gpt-5.4")


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        (
            "anthropic",
            "anthropic_messages_400.test_anthropic_explicit_effort_xhigh_unsupported_model_errors.yaml",
            "does not support effort level 'xhigh'",
        ),
        (
            "openai",
            "openai_chat_400.test_openai_web_search_tool_model_not_supported.yaml",
            "Web search options not supported with this model.",
        ),
        (
            "openai",
            "openai_chat_400_unsupported_value.test_openai_o1_mini_system_role_system.yaml",
            "Unsupported value",
        ),
    ],
)
def test_recorded_bad_request_is_a_provider_error(
    llm: FakeLLM, realdata: Path, kind: str, name: str, expected: str
) -> None:
    response = cassette(realdata, f"error-cassettes-pydantic-ai/{name}")
    llm.enqueue(response["status"]["code"], response["parsed_body"])

    with pytest.raises(ProviderError) as caught:
        complete(kind, llm)
    assert type(caught.value) is ProviderError
    assert expected in str(caught.value)
    assert len(llm.requests) == 1


# --- the fake itself, as end-to-end tests and the benchmark run it ----------------------------------


def test_fake_llm_runs_standalone() -> None:
    import urllib.request

    script = Path(__file__).parents[1] / "fakes" / "llm_server.py"
    with subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--delay", "0"], stdout=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, url = proc.stdout.readline().split()
            assert ready == "READY" and url.startswith("http://127.0.0.1:")
            request = urllib.request.Request(url + "/v1/chat/completions", data=b'{"model": "m"}', method="POST")
            with urllib.request.urlopen(request, timeout=10) as answer:
                body = json.load(answer)
            assert json.loads(body["choices"][0]["message"]["content"]) == ANSWER
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stdout.close() if proc.stdout else None
    assert proc.returncode == 0
