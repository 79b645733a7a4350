"""Issue 14, local servers and cost: the price table and its `prices:` override, the cost in every output,
`max-cost` stopping the calls, a keyless openai-compatible server, request-timeout reaching the SDK, and
the prompt laid out for caching (Anthropic's cache_control, both providers' cached-token usage).

The providers run through the real SDKs against the local wire-format fake (tests/fakes/llm_server.py);
the CLI runs through cli.main, the action through entrypoint's main (tests/e2e.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e import SHA_BASE, SHA_HEAD, FakeClock, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, anthropic_tool_message, chat_completion, running
from hypothesis import given
from hypothesis import strategies as st

from qodo_review import cli
from qodo_review.config import parse_config_text
from qodo_review.cost import PRICES, Price, Spend, cost_line, dollars, find_price, parse_prices
from qodo_review.errors import ConfigError, ProviderUnavailable
from qodo_review.models import Completion, Prompt, Usage
from qodo_review.providers import ProviderSettings, make_provider

ANSWER = {"summary": "Looks fine.", "findings": []}
GPT41 = find_price("gpt-4.1")


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    yield from running()


def added(path: str, lines: int) -> str:
    body = "".join(f"+value_{i} = compute({i})\n" for i in range(lines))
    head = f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
    return f"{head}@@ -0,0 +1,{lines} @@\n{body}"


def openai_reply(prompt_tokens: int, completion_tokens: int, cached: int) -> dict[str, Any]:
    body = chat_completion(json.dumps(ANSWER), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached}
    return body


def run_cli(tmp: Path, diff: str, *args: str, config: str = "", env: dict[str, str] | None = None) -> tuple[int, str]:
    (tmp / "pr.diff").write_text(diff)
    argv = ["review", "--diff", str(tmp / "pr.diff"), *args]
    if config:
        (tmp / "qodo.yml").write_text(config)
        argv += ["--config", str(tmp / "qodo.yml")]
    out = io.StringIO()
    code = cli.main(argv, env=env or {}, stdout=out, clock=FakeClock())
    return code, out.getvalue()


# --- the price table and the override -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4.1", Price(2.00, 0.50, 8.00)),
        ("gpt-4.1-mini-2025-04-14", Price(0.40, 0.10, 1.60)),  # the specific name before its family
        ("openai/gpt-4o-mini", Price(0.15, 0.075, 0.60)),  # as a proxy spells it
        ("claude-sonnet-4-6", Price(3.00, 0.30, 15.00, 3.75)),
        ("us.anthropic.claude-opus-4-1-20250805-v1:0", Price(15.00, 1.50, 75.00, 18.75)),  # Bedrock
        ("claude-opus-4-5@20251101", Price(5.00, 0.50, 25.00, 6.25)),  # Vertex
        ("qwen2.5-coder-32b", None),
    ],
)
def test_the_price_of_a_model_by_name(model: str, expected: Price | None) -> None:
    assert find_price(model) == expected


def test_every_table_price_is_per_million_tokens_and_cached_is_cheaper() -> None:
    for prefix, price in PRICES:
        assert 0 < price.output <= 1000 and 0 < price.input <= price.output, prefix
        assert price.cached_input <= price.input, prefix


def test_the_config_price_wins_over_the_table_and_the_longest_prefix_wins() -> None:
    overrides = parse_prices({"gpt-4.1": {"input": 1, "output": 4}, "gpt-4.1-mini": {"input": 0.2, "output": 0.8}})
    assert find_price("gpt-4.1-2025-04-14", overrides) == Price(1.0, 1.0, 4.0)  # cached-input: input's
    assert find_price("gpt-4.1-mini", overrides) == Price(0.2, 0.2, 0.8)
    assert find_price("my-llama", parse_prices({"my-llama": {"input": 0, "cached-input": 0, "output": 0}})) == (
        Price(0, 0, 0)
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prices: [gpt-4.1]", "'prices' must map model names to prices"),
        ("prices: {m: 2}", "'prices' entry 'm' must be a mapping of input, cached-input and output"),
        ("prices: {m: {input: 1}}", "'prices' entry 'm' needs 'output'"),
        ("prices: {m: {input: 1, output: 2, cache: 1}}", "'prices' entry 'm' has unknown field 'cache'"),
        ("prices: {m: {input: '1', output: 2}}", "'prices' entry 'm': input must be a number of dollars"),
        ("prices: {m: {input: -1, output: 2}}", "'prices' entry 'm': input must be between 0 and 10,000"),
        ("prices: {m: {input: true, output: 2}}", "'prices' entry 'm': input must be a number of dollars"),
        ("max-cost: 0", "'max-cost' must be more than 0"),
        ("max-cost: cheap", "'max-cost' must be an amount in US dollars, like 0.50"),
        ("max-cost: .nan", "'max-cost' must be more than 0"),
        ("request-timeout: 0.5", "'request-timeout' must be between 1 and 3600 seconds"),
        ("request-timeout: soon", "'request-timeout' must be a number of seconds, like 600"),
        ("request-timeout: true", "'request-timeout' must be a number of seconds"),
    ],
)
def test_bad_cost_and_timeout_keys_are_errors_that_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config_text(text, ".qodo.yml")
    assert str(err.value).startswith(f".qodo.yml: {message}")


def test_good_cost_and_timeout_keys() -> None:
    values = parse_config_text('request-timeout: 900\nmax-cost: "$0.50"\nprices: {m: {input: 1, output: 2}}', "f")
    assert values == {"request_timeout": 900.0, "max_cost": 0.5, "prices": {"m": Price(1.0, 1.0, 2.0)}}


@given(st.integers(0, 10**8), st.integers(0, 10**8), st.integers(0, 10**8), st.integers(0, 10**7))
def test_cached_tokens_never_cost_more_than_plain_ones(tokens_in: int, cached: int, written: int, out: int) -> None:
    price = Price(3.0, 0.3, 15.0, 3.75)
    cached = min(cached, tokens_in)
    assert price.of(tokens_in, cached, 0, out) <= price.of(tokens_in, 0, 0, out)
    assert price.of(tokens_in, 0, 0, out) >= 0


def test_the_cost_line() -> None:
    usage = Usage(calls=3, tokens_in=38_210, tokens_out=2_115, tokens_cached=12_004)
    assert cost_line(usage, 0.0431) == "≈ $0.043: 38,210 tokens in (12,004 cached), 2,115 out"
    assert cost_line(Usage(1, 10, 5), None) == "cost unknown: 10 tokens in, 5 out"
    amounts = (12.345, 0.5, 0.0012, 0.000015, 0)
    assert [dollars(x) for x in amounts] == ["$12.35", "$0.500", "$0.0012", "$0.000015", "$0"]


def test_spend_admits_a_call_only_while_its_upper_estimate_fits() -> None:
    spend = Spend(Price(2.0, 0.5, 8.0), limit=0.10)
    prompt = Prompt("s", "u", {}, max_output_tokens=4000, tokens_estimate=10_000)  # at most $0.02 + $0.032
    first = spend.admit(prompt)
    assert first == pytest.approx(0.052)
    assert spend.admit(prompt) is None  # 0.052 reserved + 0.052 > 0.10
    spend.record(Completion("x", tokens_in=10_000, tokens_out=1000, tokens_cached=8_000))  # $0.0128
    spend.release(first)
    assert spend.admit(prompt) is not None and spend.refused == 1


# --- cached tokens through the real SDKs ------------------------------------------------------------------


def test_openai_cached_tokens_are_read_from_the_usage(llm: FakeLLM) -> None:
    llm.enqueue(json=openai_reply(5_000, 300, 4_096))
    settings = ProviderSettings(kind="openai", model="gpt-4.1", base_url=llm.url + "/v1", api_key="sk-x")
    completion = make_provider(settings).complete(Prompt("s", "u", {"type": "object"}, 100))
    assert (completion.tokens_in, completion.tokens_cached, completion.tokens_out) == (5_000, 4_096, 300)


def test_anthropic_cache_reads_and_writes_count_as_input(llm: FakeLLM) -> None:
    body = anthropic_tool_message(ANSWER)
    body["usage"] = {
        "input_tokens": 700,
        "cache_read_input_tokens": 3_000,
        "cache_creation_input_tokens": 1_200,
        "output_tokens": 90,
    }
    llm.enqueue(json=body)
    settings = ProviderSettings(kind="anthropic", model="claude-sonnet-4-6", base_url=llm.url, api_key="sk-ant-x")
    completion = make_provider(settings).complete(Prompt("s", "u", {"type": "object"}, 100))
    assert (completion.tokens_in, completion.tokens_cached, completion.tokens_cache_write) == (4_900, 3_000, 1_200)
    price = Price(3.0, 0.3, 15.0, 3.75)
    assert price.of(4_900, 3_000, 1_200, 90) == pytest.approx((700 * 3 + 3_000 * 0.3 + 1_200 * 3.75 + 90 * 15) / 1e6)


# --- the prompt laid out for caching ------------------------------------------------------------------------


def test_every_call_of_a_review_opens_with_the_same_prefix_marked_for_anthropics_cache(
    tmp_path: Path, llm: FakeLLM
) -> None:
    diff = "".join(added(f"src/m{i}.py", 60) for i in range(6))
    code, out = run_cli(
        tmp_path,
        diff,
        *("--provider", "anthropic", "--base-url", llm.url, "--api-key", "sk-ant-test"),
        *("--max-input-tokens", "3000", "--title", "Add the compute helpers", "--format", "json"),
    )
    assert code == 0, out
    assert len(llm.requests) >= 3
    systems, heads = set(), set()
    for request in llm.requests:
        (message,) = request.json["messages"]
        first, rest = message["content"]
        assert first["cache_control"] == {"type": "ephemeral"} and "cache_control" not in rest
        assert "Pull request title: Add the compute helpers" in first["text"]
        assert "### File: " not in first["text"] and rest["text"].startswith("### File: ")
        systems.add(request.json["system"])
        heads.add(first["text"])
    assert len(systems) == 1 and len(heads) == 1  # one prefix: tools, system, then the PR's own text
    parts = [r.json["messages"][0]["content"][1]["text"] for r in llm.requests]
    assert all(p.endswith(f"of {len(parts)} of the diff; review only what is shown.") for p in parts)


def test_a_one_call_prompt_without_a_shared_part_is_sent_as_before(llm: FakeLLM) -> None:
    settings = ProviderSettings(kind="anthropic", model="claude-sonnet-4-6", base_url=llm.url, api_key="k")
    make_provider(settings).complete(Prompt("s", "just the diff", {"type": "object"}, 100))
    assert llm.requests[0].json["messages"] == [{"role": "user", "content": "just the diff"}]


# --- cost in the outputs ------------------------------------------------------------------------------------


def test_the_cli_reports_the_cost_from_the_price_table(tmp_path: Path, llm: FakeLLM) -> None:
    llm.enqueue(json=openai_reply(38_210, 2_115, 12_004))
    args = ("--provider", "openai", "--base-url", llm.url + "/v1", "--api-key", "sk-test", "--model", "gpt-4.1")
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    expected = ((38_210 - 12_004) * 2.00 + 12_004 * 0.50 + 2_115 * 8.00) / 1e6
    assert doc["usage"]["cost"] == pytest.approx(expected, abs=1e-6) and doc["usage"]["tokens_cached"] == 12_004
    llm.enqueue(json=openai_reply(38_210, 2_115, 12_004))
    code, text = run_cli(tmp_path, added("src/a.py", 3), *args)
    assert f"Cost ≈ {dollars(expected)}: 38,210 tokens in (12,004 cached), 2,115 out (list prices of " in text


def test_a_model_without_a_price_says_cost_unknown(tmp_path: Path, llm: FakeLLM) -> None:
    args = ("--provider", "openai-compatible", "--base-url", llm.url + "/v1", "--model", "my-llama")
    code, text = run_cli(tmp_path, added("src/a.py", 3), *args)
    assert code == 0
    assert "Cost unknown: 10 tokens in, 5 out (model `my-llama` is not in the price table of " in text
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, config="prices: {my-llama: {input: 1, output: 1}}")
    assert "Cost ≈ $0.000015: 10 tokens in, 5 out" in out


def action(tmp: Path, llm: FakeLLM, diff: str, config: str = "", **inputs: str) -> Any:
    with FakeGitHub() as github:
        github.add_pull(7, "Change", "", SHA_BASE, SHA_HEAD, diff)
        if config:
            github.set_file(".qodo.yml", SHA_BASE, config)
        return run_action(tmp, github_url=github.url, llm_url=llm.url, inputs=inputs)


def test_the_action_sets_the_cost_output_and_the_job_summary_line(tmp_path: Path, llm: FakeLLM) -> None:
    llm.enqueue(json=openai_reply(38_210, 2_115, 12_004))
    run = action(tmp_path, llm, added("src/a.py", 3), model="gpt-4.1")
    expected = ((38_210 - 12_004) * 2.00 + 12_004 * 0.50 + 2_115 * 8.00) / 1e6
    assert run.code == 0 and run.outputs["cost"] == f"{expected:.4f}"
    assert f"Cost ≈ {dollars(expected)}: 38,210 tokens in (12,004 cached), 2,115 out" in run.summary
    assert run.findings is not None and run.findings["usage"]["cost"] == pytest.approx(expected, abs=1e-6)


def test_the_action_says_cost_unknown_for_a_model_without_a_price(tmp_path: Path, llm: FakeLLM) -> None:
    run = action(tmp_path, llm, added("src/a.py", 3), provider="openai-compatible", model="my-llama")
    assert run.code == 0 and run.outputs["cost"] == "unknown"
    assert "Cost unknown: 10 tokens in, 5 out (model `my-llama` is not in the price table" in run.summary


# --- max-cost -----------------------------------------------------------------------------------------------

MANY = "".join(added(f"src/m{i}.py", 60) for i in range(6))
ONE_CALL = 0.0801  # each fake answer reports 20,000 tokens in and 5,000 out: $0.04 + $0.04 at gpt-4.1's price


def capped(tmp: Path, llm: FakeLLM, *args: str, config: str = "") -> tuple[int, dict[str, Any]]:
    llm.default = lambda request: _big_usage()
    code, out = run_cli(
        tmp,
        MANY,
        *("--provider", "openai", "--base-url", llm.url + "/v1", "--api-key", "sk-test", "--model", "gpt-4.1"),
        *("--max-input-tokens", "3000", "--max-cost", "0.2", "--format", "json", *args),
        config="parallel-calls: 1\n" + config,
    )
    return code, json.loads(out)


def _big_usage() -> Any:
    from fakes.llm_server import Reply

    return Reply(json=openai_reply(20_000, 5_000, 0))


def test_max_cost_stops_the_calls_and_counts_the_rest_not_reviewed(tmp_path: Path, llm: FakeLLM) -> None:
    code, doc = capped(tmp_path, llm)
    # Call 1: $0 spent + its estimate (under $0.08) fits; call 2: $0.08 + estimate fits; call 3 would pass $0.20.
    assert len(llm.requests) == 2 and doc["usage"]["calls"] == 2
    assert doc["usage"]["cost"] == pytest.approx(2 * 0.08)
    over = [s for s in doc["skipped"] if s["reason"].startswith("max-cost ($0.200) would have been passed")]
    assert over and all(s["kind"] == "not-reviewed" and not s["content_reason"] for s in over)
    reviewed, missing = doc["coverage"]["reviewed_lines"], sum(s["lines"] for s in over)
    assert reviewed + missing == 6 * 60 and reviewed > 0
    assert not doc["complete"] and code == 0  # no gate: the run says what was left, and does not fail
    assert any(n.startswith("max-cost $0.200: ") and "$0.160 spent" in n for n in doc["notices"])


def test_a_gated_review_stopped_by_max_cost_fails_even_with_allow_partial(tmp_path: Path, llm: FakeLLM) -> None:
    code, doc = capped(tmp_path, llm, "--fail-on", "high", config="allow-partial: true\n")
    assert code == 1 and doc["verdict"] == "fail" and doc["coverage"]["blocking_files"] > 0


def test_max_cost_with_no_known_price_is_a_usage_error_at_once(tmp_path: Path, llm: FakeLLM) -> None:
    args = ("--provider", "openai-compatible", "--base-url", llm.url + "/v1", "--model", "my-llama")
    code, _ = run_cli(tmp_path, added("src/a.py", 3), *args, "--max-cost", "1")
    assert code == 2 and not llm.requests
    run = action(tmp_path / "a", llm, added("src/a.py", 3), provider="openai-compatible", model="my-llama")
    assert run.code == 0
    run = action(
        tmp_path / "b", llm, added("src/a.py", 3), provider="openai-compatible", model="my-llama", **{"max-cost": "1"}
    )
    assert run.code == 2 and "Add it under `prices:` in .qodo.yml (my-llama: {input: " in run.summary
    assert len(llm.requests) == 1  # only the first action run called the model


# --- a keyless local server, and request-timeout ------------------------------------------------------------


def test_an_openai_compatible_server_is_called_without_a_key(tmp_path: Path, llm: FakeLLM) -> None:
    # An OpenAI key in the environment belongs to OpenAI: it is not sent to another endpoint.
    env = {"OPENAI_API_KEY": "sk-real-openai-key-0123456789"}
    args = ("--provider", "openai-compatible", "--base-url", llm.url + "/v1", "--model", "my-llama")
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--format", "json", env=env)
    doc = json.loads(out)
    assert code == 0 and doc["dry_run"] is False and doc["usage"]["calls"] == 1
    (request,) = llm.requests
    assert "sk-real-openai-key" not in json.dumps(request.headers)
    assert request.headers.get("authorization", "Bearer no-key") == "Bearer no-key"


def test_the_action_calls_a_keyless_openai_compatible_server(tmp_path: Path, llm: FakeLLM) -> None:
    run = action(tmp_path, llm, added("src/a.py", 3), provider="openai-compatible", model="my-llama", **{"api-key": ""})
    assert run.code == 0 and run.findings is not None and run.findings["dry_run"] is False
    assert len(llm.requests) == 1 and run.outputs["verdict"] == "pass"
    run = action(tmp_path / "openai", llm, added("src/a.py", 3), provider="openai", **{"api-key": ""})
    assert run.code == 2 and "Input 'api-key' is empty" in run.summary  # OpenAI itself still needs one


@pytest.mark.parametrize("kind", ["openai", "openai-compatible", "anthropic"])
def test_request_timeout_reaches_the_sdk(llm: FakeLLM, kind: str) -> None:
    reply = anthropic_tool_message(ANSWER) if kind == "anthropic" else chat_completion(json.dumps(ANSWER))
    llm.enqueue(json=reply, delay=4)
    url = llm.url if kind == "anthropic" else llm.url + "/v1"
    settings = ProviderSettings(kind=kind, model="m", base_url=url, api_key="k", timeout=1.0)
    with pytest.raises(ProviderUnavailable, match=r"did not answer within 1 s"):
        make_provider(settings).complete(Prompt("s", "u", {"type": "object"}, 100))


def test_the_request_timeout_flag_makes_a_slow_answer_a_retry(tmp_path: Path, llm: FakeLLM) -> None:
    llm.enqueue(json=chat_completion(json.dumps(ANSWER)), delay=4)  # the first answer comes too late
    args = ("--provider", "openai-compatible", "--base-url", llm.url + "/v1", "--model", "my-llama")
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--request-timeout", "1", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["complete"] and len(llm.requests) == 2
    assert any("retried 1 time" in n for n in doc["notices"])


def test_the_request_timeout_input_is_validated(tmp_path: Path, llm: FakeLLM) -> None:
    run = action(tmp_path, llm, added("src/a.py", 3), **{"request-timeout": "0"})
    assert run.code == 2 and "Input 'request-timeout' must be between 1 and 3600 seconds" in run.summary
    assert not llm.requests


def test_a_fallback_answer_is_priced_at_the_fallback_models_price(tmp_path: Path, llm: FakeLLM) -> None:
    for _ in range(4):  # the primary fails every attempt; the fallback answers
        llm.enqueue(status=500, json={"error": {"message": "down", "type": "server_error"}})
    llm.enqueue(json=openai_reply(20_000, 5_000, 0))
    args = ("--provider", "openai", "--base-url", llm.url + "/v1", "--api-key", "sk-test", "--model", "gpt-4.1")
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--fallback-model", "gpt-4.1-mini", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and llm.requests[-1].json["model"] == "gpt-4.1-mini"
    assert doc["usage"]["cost"] == pytest.approx((20_000 * 0.40 + 5_000 * 1.60) / 1e6)  # not gpt-4.1's $0.08


def test_max_cost_needs_the_fallback_models_price_too(tmp_path: Path, llm: FakeLLM) -> None:
    args = ("--provider", "openai", "--base-url", llm.url + "/v1", "--api-key", "sk-test", "--model", "gpt-4.1")
    code, _ = run_cli(tmp_path, added("src/a.py", 3), *args, "--fallback-model", "my-llama", "--max-cost", "1")
    assert code == 2 and not llm.requests


# --- what a tiny local model answers (seen from llama.cpp with Gemma 3 270M: bench/README.md) ----------------


def test_a_tiny_models_answers_end_in_a_clear_result(tmp_path: Path, llm: FakeLLM) -> None:
    args = ("--provider", "openai-compatible", "--base-url", llm.url + "/v1", "--model", "gemma-3-270m")
    # Whitespace up to the answer cap (what it wrote in json_object mode): cut off, cannot be split: incomplete.
    llm.enqueue(json=chat_completion("\n \n \t \t \t", finish_reason="length"))
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--format", "json")
    doc = json.loads(out)
    assert code == 3 and not doc["complete"] and "cut off" in doc["errors"][0]
    # A finding on a path not in the PR, and one on a line the diff does not show: listed, never lost.
    answer = {
        "summary": "ok",
        "findings": [
            {"path": "lib/other.py", "line": 3, "severity": "high", "category": "bug", "title": "t", "body": "b"},
            {"path": "src/a.py", "line": 900, "severity": "low", "category": "bug", "title": "u", "body": "c"},
        ],
    }
    llm.enqueue(json=chat_completion(json.dumps(answer)))
    code, out = run_cli(tmp_path, added("src/a.py", 3), *args, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["complete"]
    kept = [f["path"] for f in doc["findings"]] + [u["finding"]["path"] for u in doc["unverifiable"]]
    assert sorted(kept) == ["lib/other.py", "src/a.py"]
    outside = {n["finding"]["path"]: n["reason"] for n in doc["not_inline"]}
    assert "lib/other.py" in outside and "src/a.py" in outside  # not on a changed line: listed, with why
