"""Provider faults through the real SDKs over HTTP (FakeLLM), through the review core and the retry policy.

Each test scripts the fake to fail in sequence, then asserts what the user gets: how many requests went
out, how long the policy waited (an injected clock: no test sleeps), which findings survived, and the
message a failed part carries.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes.llm_server import (
    FakeLLM,
    anthropic_error,
    anthropic_text_message,
    anthropic_tool_message,
    chat_completion,
    openai_error,
)

from qodo_review.config import ReviewConfig
from qodo_review.diff import split_diff
from qodo_review.errors import ExitCode, ProviderAuthError
from qodo_review.models import PullRequest, Severity
from qodo_review.outcome import Outcome
from qodo_review.providers import ProviderSettings, make_provider
from qodo_review.redact import Redactor
from qodo_review.retry import REASK_NOTE, Resilient, Route
from qodo_review.review import review_diff

from .conftest import Clock, ResettingProxy

KEY = "sk-test-SECRET-0123456789"
MODELS = {"openai": "gpt-4.1", "anthropic": "claude-sonnet-4-6"}
KINDS = ["openai", "anthropic"]
PR = PullRequest(number=7, title="Add things", body="", base_sha="b" * 40, head_sha="c" * 40)


def new_file(path: str, lines: int = 30) -> str:
    body = "".join(f"+value_{i} = compute({i}, 'x')\n" for i in range(lines))
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n"
        f"@@ -0,0 +1,{lines} @@\n{body}"
    )


TWO_FILES = new_file("alpha.py") + new_file("beta.py")


def finding(path: str, line: int = 3, title: str = "Magic number") -> dict[str, Any]:
    return {
        "path": path,
        "line": line,
        "end_line": line,
        "side": "RIGHT",
        "severity": "medium",
        "category": "maintainability",
        "title": title,
        "body": "Name the constant.",
    }


def answer(kind: str, findings: list[dict[str, Any]] | None = None, summary: str = "Reviewed.") -> dict[str, Any]:
    doc = {"summary": summary, "findings": findings or []}
    if kind == "anthropic":
        return anthropic_tool_message(doc)
    return chat_completion(json.dumps(doc))


def error(kind: str, message: str, type: str = "api_error", code: str | None = None) -> dict[str, Any]:
    return anthropic_error(type, message) if kind == "anthropic" else openai_error(message, type=type, code=code)


def settings(kind: str, url: str, model: str = "", **overrides: Any) -> ProviderSettings:
    base = url if kind == "anthropic" else url + "/v1"
    return ProviderSettings(kind=kind, model=model or MODELS[kind], base_url=base, api_key=KEY, **overrides)


def review(
    llm_url: str,
    kind: str,
    clock: Clock,
    diff: str = TWO_FILES,
    *,
    fallback: ProviderSettings | None = None,
    config: ReviewConfig | None = None,
    **overrides: Any,
) -> Outcome:
    primary = settings(kind, llm_url, **overrides)
    second = Route(make_provider(fallback), fallback.model, fallback.host) if fallback else None
    caller = Resilient(
        Route(make_provider(primary), primary.model, primary.host),
        second,
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
    )
    return review_diff(
        PR,
        split_diff(diff),
        config or ReviewConfig(parallel_calls=1),
        provider=caller,
        redactor=Redactor(run_secrets=[KEY]),
        nonce="n0nce",
        provider_host=primary.host,
        model=primary.model,
    )


def assert_complete(report: Outcome, calls: int) -> None:
    assert report.errors == [] and report.complete, report.errors
    assert report.usage.calls == calls


# --- transient HTTP failures: fail twice, then succeed ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_twice_then_success(llm: FakeLLM, clock: Clock, kind: str, status: int) -> None:
    llm.enqueue(status, error(kind, "upstream failed"))
    llm.enqueue(status, body="<html><h1>Bad gateway</h1></html>", headers={"Content-Type": "text/html"})
    llm.enqueue(json=answer(kind, [finding("alpha.py")]))

    report = review(llm.url, kind, clock)

    assert_complete(report, calls=1)
    assert len(llm.requests) == 3
    assert clock.sleeps == [0.5, 1.0]  # exponential backoff (jitter pinned at 0)
    assert [f.title for f in report.findings] == ["Magic number"]
    assert "retried 2 times" in report.notices[-1]


@pytest.mark.parametrize(
    ("kind", "status", "headers", "waits"),
    [
        ("openai", 429, {"Retry-After": "7"}, [7.0, 7.0]),
        ("anthropic", 429, {"Retry-After": "7"}, [7.0, 7.0]),
        ("openai", 429, {"retry-after-ms": "250"}, [0.25, 0.25]),
        ("openai", 429, {}, [0.5, 1.0]),  # no hint: backoff
        ("anthropic", 529, {"Retry-After": "3"}, [3.0, 3.0]),  # overloaded
        ("openai", 503, {"Retry-After": "2"}, [2.0, 2.0]),  # a 503 may carry a hint too
    ],
)
def test_rate_limits_respect_retry_after(
    llm: FakeLLM, clock: Clock, kind: str, status: int, headers: dict[str, str], waits: list[float]
) -> None:
    kind_type = "overloaded_error" if status == 529 else "rate_limit_error"
    for _ in range(2):
        llm.enqueue(status, error(kind, "Rate limit reached", type=kind_type), headers=headers)

    report = review(llm.url, kind, clock)

    assert_complete(report, calls=1)
    assert len(llm.requests) == 3 and clock.sleeps == waits


def test_sdk_retries_are_off_so_counts_are_ours(llm: FakeLLM, clock: Clock) -> None:
    llm.enqueue(500, error("openai", "boom"))
    review(llm.url, "openai", clock)
    assert [r.headers["x-stainless-retry-count"] for r in llm.requests] == ["0", "0"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_provider_that_keeps_failing_makes_the_review_incomplete(llm: FakeLLM, clock: Clock, kind: str) -> None:
    for _ in range(4):
        llm.enqueue(503, error(kind, "Service Unavailable"), headers={"Retry-After": "1"})

    report = review(llm.url, kind, clock, config=ReviewConfig(parallel_calls=1))

    assert len(llm.requests) == 4 and clock.sleeps == [1.0, 1.0, 1.0]
    (message,) = report.errors
    assert message.startswith("Part 1: ") and "HTTP 503: Service Unavailable" in message
    assert "gave up after 4 attempts" in message and "Re-run the job later" in message
    assert not report.complete and report.lines_reviewed == 0 and report.findings == []


def test_an_incomplete_review_never_passes_a_gate(llm: FakeLLM, clock: Clock) -> None:
    for _ in range(4):
        llm.enqueue(502, error("openai", "bad gateway"))
    report = review(llm.url, "openai", clock, config=ReviewConfig(parallel_calls=1, fail_on=Severity.HIGH))
    assert report.verdict == "fail" and not report.complete


@pytest.mark.parametrize("kind", KINDS)
def test_timeouts_are_retried(llm: FakeLLM, clock: Clock, kind: str) -> None:
    llm.enqueue(json=answer(kind), delay=3.0)  # longer than the timeout below
    llm.enqueue(json=answer(kind, [finding("beta.py")]))

    report = review(llm.url, kind, clock, timeout=0.3)

    assert_complete(report, calls=1)
    assert len(llm.requests) == 2 and clock.sleeps == [0.5]
    assert [f.path for f in report.findings] == ["beta.py"]


@pytest.mark.parametrize("kind", KINDS)
def test_timeouts_every_time_name_the_timeout(llm: FakeLLM, clock: Clock, kind: str) -> None:
    for _ in range(4):
        llm.enqueue(json=answer(kind), delay=3.0)
    report = review(llm.url, kind, clock, timeout=0.2)
    assert "did not answer within 0.2 s. qodo-review gave up after 4 attempts." in report.errors[0]


@pytest.mark.parametrize("kind", KINDS)
def test_connection_resets_are_retried(llm: FakeLLM, clock: Clock, kind: str) -> None:
    with ResettingProxy(int(llm.url.rsplit(":", 1)[1]), resets=2) as proxy:
        report = review(proxy.url, kind, clock)
        assert proxy.connections == 3
    assert_complete(report, calls=1)
    assert len(llm.requests) == 1 and clock.sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("anthropic", anthropic_error("overloaded_error", "Overloaded")),
        ("openai", openai_error("The server had an error while processing your request.", type="server_error")),
    ],
)
def test_an_error_inside_an_http_200_is_retried(llm: FakeLLM, clock: Clock, kind: str, body: Any) -> None:
    llm.enqueue(200, body)
    llm.enqueue(json=answer(kind))

    report = review(llm.url, kind, clock)

    assert_complete(report, calls=1)
    assert len(llm.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_a_200_that_is_not_json_is_retried_then_names_base_url(llm: FakeLLM, clock: Clock, kind: str) -> None:
    for _ in range(4):
        llm.enqueue(200, body="<!doctype html><title>Login</title>", headers={"Content-Type": "text/html"})
    report = review(llm.url, kind, clock)
    assert "a body that is not JSON. Check the `base-url` input" in report.errors[0]


# --- configuration errors: never retried ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_stops_the_run_with_exit_2(llm: FakeLLM, clock: Clock, kind: str, status: int) -> None:
    kind_type = "authentication_error" if status == 401 else "permission_error"
    llm.enqueue(status, error(kind, f"Invalid key {KEY}", type=kind_type))

    with pytest.raises(ProviderAuthError) as caught:
        review(llm.url, kind, clock)
    assert caught.value.exit_code is ExitCode.USAGE
    assert "Check the `api-key` input" in str(caught.value) and KEY not in str(caught.value)
    assert len(llm.requests) == 1 and clock.sleeps == []


def test_a_rejected_fallback_key_names_the_fallback_input(llm: FakeLLM, clock: Clock) -> None:
    for _ in range(4):
        llm.enqueue(503, error("openai", "down"))
    llm.enqueue(401, error("anthropic", "invalid x-api-key", type="authentication_error"))
    fallback = settings("anthropic", llm.url, model="claude-haiku-4-5", input_prefix="fallback-")

    with pytest.raises(ProviderAuthError, match="Check the `fallback-api-key` input"):
        review(llm.url, "openai", clock, fallback=fallback)


# --- size: split and retry ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        (
            "openai",
            400,
            openai_error("This model's maximum context length is 128000 tokens.", code="context_length_exceeded"),
        ),
        ("anthropic", 400, anthropic_error("invalid_request_error", "prompt is too long: 210000 tokens > 200000")),
        ("anthropic", 413, anthropic_error("request_too_large", "Request exceeds the maximum allowed size.")),
    ],
)
def test_context_overflow_splits_the_chunk_and_keeps_every_finding(
    llm: FakeLLM, clock: Clock, kind: str, status: int, body: Any
) -> None:
    llm.enqueue(status, body)
    llm.enqueue(json=answer(kind, [finding("alpha.py")], summary="First half."))
    llm.enqueue(json=answer(kind, [finding("beta.py")], summary="Second half."))

    report = review(llm.url, kind, clock)

    assert_complete(report, calls=2)
    assert len(llm.requests) == 3 and clock.sleeps == []
    first, second = (r.json for r in llm.requests[1:])
    assert "alpha.py" in json.dumps(first) and "beta.py" not in json.dumps(first)
    assert "beta.py" in json.dumps(second) and "alpha.py" not in json.dumps(second)
    assert sorted(f.path for f in report.findings) == ["alpha.py", "beta.py"]
    assert report.summary == "First half.\n\nSecond half."
    assert sorted(report.manifest.files) == [("alpha.py", 30), ("beta.py", 30)]  # each file counted once


@pytest.mark.parametrize(
    ("kind", "cut"),
    [
        ("openai", chat_completion('{"summary": "Review', finish_reason="length")),
        ("anthropic", anthropic_tool_message({"summary": "Rev"}, stop_reason="max_tokens")),
    ],
)
def test_a_cut_off_answer_is_split_and_asked_again(llm: FakeLLM, clock: Clock, kind: str, cut: Any) -> None:
    llm.enqueue(json=cut)
    llm.enqueue(json=answer(kind, [finding("alpha.py")]))
    llm.enqueue(json=answer(kind, [finding("beta.py")]))

    report = review(llm.url, kind, clock)

    assert_complete(report, calls=3)  # the cut-off answer's tokens are counted too
    assert sorted(f.path for f in report.findings) == ["alpha.py", "beta.py"]


def test_a_cut_off_answer_that_cannot_be_split_marks_the_part_not_reviewed(llm: FakeLLM, clock: Clock) -> None:
    llm.enqueue(json=chat_completion('{"summary": "Rev', finish_reason="length"))

    report = review(llm.url, "openai", clock, diff=new_file("alpha.py", 5))

    assert report.errors == ["Part 1: The answer was cut off at the output limit. It could not be split further."]
    assert not report.complete and report.findings == [] and len(llm.requests) == 1


# --- unusable answers: one re-ask, then the part fails (never silently accepted) -------------------------------

BAD_ANSWERS = [
    pytest.param("openai", chat_completion("Looks good to me!"), id="openai-not-json"),
    pytest.param("openai", chat_completion('{"summary": "x", "findings": {"oops": 1}, '), id="openai-malformed"),
    pytest.param("openai", chat_completion('{"summary": "x", "findings": "none found"}'), id="openai-wrong-shape"),
    pytest.param("openai", chat_completion(None, refusal="I can't help with that."), id="openai-refusal"),
    pytest.param("openai", chat_completion(""), id="openai-empty"),
    pytest.param("anthropic", anthropic_text_message("No JSON here."), id="anthropic-not-json"),
    pytest.param("anthropic", anthropic_tool_message({"summary": "x", "findings": 42}), id="anthropic-wrong-shape"),
    pytest.param("anthropic", anthropic_text_message("", stop_reason="refusal"), id="anthropic-refusal"),
    pytest.param("anthropic", {"type": "message", "content": "not a list"}, id="anthropic-garbled"),
]


@pytest.mark.parametrize(("kind", "bad"), BAD_ANSWERS)
def test_an_unusable_answer_is_asked_for_again(llm: FakeLLM, clock: Clock, kind: str, bad: Any) -> None:
    llm.enqueue(json=bad)
    llm.enqueue(json=answer(kind, [finding("alpha.py")]))

    report = review(llm.url, kind, clock)

    assert report.errors == [] and [f.path for f in report.findings] == ["alpha.py"]
    assert len(llm.requests) == 2
    system = (
        llm.requests[1].json.get("system") if kind == "anthropic" else llm.requests[1].json["messages"][0]["content"]
    )
    assert system.endswith(REASK_NOTE)
    assert "could not be used and was asked for again" in " ".join(report.notices)


@pytest.mark.parametrize(("kind", "bad"), BAD_ANSWERS)
def test_two_unusable_answers_fail_the_part(llm: FakeLLM, clock: Clock, kind: str, bad: Any) -> None:
    llm.enqueue(json=bad)
    llm.enqueue(json=bad)

    report = review(llm.url, kind, clock)

    (message,) = report.errors
    assert "was asked twice; neither answer was usable" in message
    assert report.findings == [] and not report.complete and len(llm.requests) == 2


# --- nothing lost ---------------------------------------------------------------------------------------------


def test_one_failed_part_keeps_the_others_findings(llm: FakeLLM, clock: Clock) -> None:
    config = ReviewConfig(parallel_calls=1, max_input_tokens=1000)
    llm.enqueue(json=answer("openai", [finding("alpha.py")]))
    for _ in range(4):
        llm.enqueue(500, error("openai", "boom"))

    report = review(llm.url, "openai", clock, config=config)

    assert report.calls_planned == 2
    assert [f.path for f in report.findings] == ["alpha.py"]
    assert len(report.errors) == 1 and report.errors[0].startswith("Part 2: ")
    assert not report.complete and report.lines_reviewed == 30  # only the part that was answered


# --- the fallback model ----------------------------------------------------------------------------------------


def test_the_fallback_model_on_the_same_provider_answers(llm: FakeLLM, clock: Clock) -> None:
    for _ in range(4):
        llm.enqueue(429, error("openai", "Rate limit reached", type="rate_limit_error"), headers={"Retry-After": "1"})
    llm.enqueue(
        json=chat_completion(
            json.dumps({"summary": "From the fallback.", "findings": [finding("alpha.py")]}), model="gpt-4.1-mini"
        )
    )
    fallback = settings("openai", llm.url, model="gpt-4.1-mini", input_prefix="fallback-")

    report = review(llm.url, "openai", clock, fallback=fallback)

    assert_complete(report, calls=1)
    assert [r.json["model"] for r in llm.requests] == ["gpt-4.1"] * 4 + ["gpt-4.1-mini"]
    assert report.summary == "From the fallback." and len(report.findings) == 1
    assert any(
        n.startswith("The fallback model `gpt-4.1-mini` at 127.0.0.1") and "answered 1 of 1 call" in n
        for n in report.notices
    )
    assert report.manifest.model == "gpt-4.1, gpt-4.1-mini"


def test_the_fallback_on_another_provider_is_named_in_the_manifest(clock: Clock) -> None:
    with FakeLLM() as primary, FakeLLM() as other:
        for _ in range(4):
            primary.enqueue(502, error("openai", "bad gateway"))
        fallback = settings("anthropic", other.url, model="claude-haiku-4-5", input_prefix="fallback-")
        report = review(primary.url, "openai", clock, fallback=fallback)
        assert len(other.requests) == 1
    assert_complete(report, calls=1)
    hosts = report.manifest.provider_host.split(", ")
    assert len(hosts) == 2 and all(h.startswith("127.0.0.1:") for h in hosts)
