"""The fallback-* inputs: how they resolve against the primary, and the fallback answering end to end."""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e import SHA_BASE, SHA_HEAD, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, anthropic_error, chat_completion, openai_error

from qodo_review import cli
from qodo_review.errors import UsageError
from qodo_review.inputs import INPUT_ENV, parse_inputs
from qodo_review.providers import ProviderSettings, resolve_fallback, resolve_settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
PRIMARY = resolve_settings("openai", "sk-primary-0123456789", "gpt-4.1", "")


def fallback(provider: str = "", key: str = "", model: str = "", url: str = "") -> ProviderSettings | None:
    return resolve_fallback(PRIMARY, provider, key, model, url)


# --- resolution -------------------------------------------------------------------------------------------


def test_no_fallback_inputs_means_no_fallback() -> None:
    assert fallback() is None


def test_a_fallback_model_on_the_same_endpoint_reuses_the_key() -> None:
    chosen = fallback(model="gpt-4.1-mini")
    assert chosen is not None
    assert (chosen.kind, chosen.model, chosen.base_url) == ("openai", "gpt-4.1-mini", "https://api.openai.com/v1")
    assert chosen.api_key == PRIMARY.api_key and chosen.input_prefix == "fallback-"
    assert "sk-primary" not in repr(chosen)


def test_another_provider_takes_its_own_key_and_default_model() -> None:
    chosen = fallback(provider="anthropic", key="sk-ant-other")
    assert chosen is not None
    assert (chosen.kind, chosen.model, chosen.base_url) == (
        "anthropic",
        "claude-sonnet-4-6",
        "https://api.anthropic.com",
    )
    assert chosen.api_key == "sk-ant-other"


def test_the_primary_key_never_goes_to_another_endpoint() -> None:
    with pytest.raises(
        UsageError,
        match=r"Input 'fallback-api-key' is empty, and the fallback endpoint is not the "
        r"primary's, so the primary key is not sent there",
    ):
        fallback(model="llama3", url="https://llm.internal.example/v1")
    with pytest.raises(UsageError, match="fallback-api-key"):
        fallback(provider="anthropic")


def test_an_openai_compatible_fallback_may_have_no_key() -> None:
    chosen = fallback(provider="openai-compatible", model="qwen2.5-coder", url="http://localhost:11434/v1")
    assert chosen is not None and chosen.api_key == "" and chosen.kind == "openai-compatible"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"provider": "watsonx", "model": "x"},
            "Input 'fallback-provider' is 'watsonx'; it must be one of auto, openai",
        ),
        (  # a cloud provider is a fallback only of itself: no second set of credentials to send elsewhere
            {"provider": "bedrock", "model": "x"},
            "Input 'fallback-provider' is 'bedrock' with provider 'openai': a cloud provider's fallback",
        ),
        ({"key": "sk-x"}, "Input 'fallback-api-key' is set but 'fallback-model' is empty"),
        ({"model": "gpt-4.1"}, "Input 'fallback-model' names the primary model itself ('gpt-4.1' at api.openai.com)"),
        (
            {"provider": "openai-compatible", "url": "http://localhost:11434/v1"},
            "Input 'fallback-model' is empty: an openai-compatible endpoint needs a model name.",
        ),
        ({"model": "m", "url": "ftp://x", "key": "k"}, "Input 'fallback-base-url' is 'ftp://x'"),
    ],
)
def test_bad_fallback_inputs_name_the_input(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        fallback(**kwargs)
    assert str(caught.value).startswith(message), str(caught.value)
    assert caught.value.exit_code == 2


def test_the_inputs_are_read_from_their_environment_variables() -> None:
    env = {
        INPUT_ENV["fallback-model"]: " gpt-4.1-mini ",
        INPUT_ENV["fallback-provider"]: "openai",
        INPUT_ENV["fallback-api-key"]: "sk-fb",
        INPUT_ENV["fallback-base-url"]: "https://proxy.example/v1",
    }
    inputs = parse_inputs(env)
    assert (inputs.fallback_model, inputs.fallback_provider, inputs.fallback_base_url) == (
        "gpt-4.1-mini",
        "openai",
        "https://proxy.example/v1",
    )
    assert inputs.fallback_api_key == "sk-fb" and "sk-fb" not in repr(inputs)


def test_action_yml_maps_every_fallback_input() -> None:
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    for name in ("fallback-model", "fallback-provider", "fallback-api-key", "fallback-base-url"):
        assert re.search(rf"^  {name}:\n    description: .+\n    required: false\n", text, re.M), name
        assert f"    {INPUT_ENV[name]}: ${{{{ inputs.{name} }}}}\n" in text
        assert f"| `{name}` |" in (ROOT / "README.md").read_text(encoding="utf-8")


# --- end to end ------------------------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        fake.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE_DIFF)
        yield fake


def test_the_action_falls_back_and_says_so(tmp_path: Path, github: FakeGitHub) -> None:
    with FakeLLM() as primary, FakeLLM() as second:
        for _ in range(4):
            primary.enqueue(
                503,
                openai_error("The engine is currently overloaded", type="server_error"),
                headers={"retry-after-ms": "10"},
            )
        run = run_action(
            tmp_path,
            github_url=github.url,
            llm_url=primary.url,
            inputs={
                "fallback-provider": "anthropic",
                "fallback-api-key": "sk-ant-fallback-key-123456",
                "fallback-base-url": second.url,
                "fallback-model": "claude-haiku-4-5",
            },
            extra_env={
                "QODO_TEST_ALLOWED_PORTS": ",".join(u.rsplit(":", 1)[1] for u in (github.url, primary.url, second.url))
            },
        )
        assert len(primary.requests) == 4 and len(second.requests) == 1
        assert "sk-ant-fallback-key-123456" in json.dumps(second.requests[0].headers)
        assert "sk-test-key" not in json.dumps(second.requests[0].headers)  # the primary key stays home
    assert run.code == 0, run.stdout + run.stderr
    summary = re.sub(r"\\(.)", r"\1", run.summary)
    assert "The fallback model `claude-haiku-4-5` at 127.0.0.1" in summary and "answered 1 of 1 call" in summary
    assert "The engine is currently overloaded" in summary
    assert "::add-mask::sk-ant-fallback-key-123456" in run.stdout
    assert "sk-ant-fallback-key-123456" not in run.stdout.replace("::add-mask::sk-ant-fallback-key-123456", "")
    assert run.outputs["complete"] == "true"


def test_a_bad_fallback_input_stops_before_anything_is_sent(tmp_path: Path, github: FakeGitHub) -> None:
    with FakeLLM() as llm:
        run = run_action(
            tmp_path,
            github_url=github.url,
            llm_url=llm.url,
            inputs={"fallback-provider": "anthropic", "fallback-model": "claude-haiku-4-5"},
        )
        assert llm.requests == []
    assert run.code == 2 and "Input 'fallback-api-key' is empty" in run.stdout
    assert github.check_runs == [] and github.issue_comments == []


def test_the_cli_fallback_flags(tmp_path: Path) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(SAMPLE_DIFF, encoding="utf-8")
    with FakeLLM() as llm:
        for _ in range(4):
            llm.enqueue(529, anthropic_error("overloaded_error", "Overloaded"), headers={"retry-after-ms": "10"})
        llm.enqueue(json=chat_completion(json.dumps({"summary": "From the fallback.", "findings": []})))
        out, err = io.StringIO(), io.StringIO()
        original, sys.stderr = sys.stderr, err
        try:
            code = cli.main(
                [
                    "review",
                    "--diff",
                    str(diff),
                    "--provider",
                    "anthropic",
                    "--base-url",
                    llm.url,
                    "--api-key",
                    "sk-ant-primary",
                    "--fallback-provider",
                    "openai-compatible",
                    "--fallback-base-url",
                    f"{llm.url}/v1",
                    "--fallback-model",
                    "local-model",
                    "--format",
                    "json",
                ],
                env={},
                stdout=out,
            )
        finally:
            sys.stderr = original
        assert [r.path for r in llm.requests] == ["/v1/messages"] * 4 + ["/v1/chat/completions"]
    doc = json.loads(out.getvalue())
    assert code == 0 and doc["summary"] == "From the fallback." and doc["complete"] is True, err.getvalue()
    assert any("The fallback model `local-model`" in n for n in doc["notices"])
