"""A local LLM server speaking the OpenAI Chat Completions (and Embeddings) and Anthropic Messages wire formats
(stdlib only).

In tests: ``with FakeLLM() as llm: ...``, script replies with ``llm.enqueue(...)``, inspect ``llm.requests``.
Standalone (end-to-end tests, benchmark): ``python tests/fakes/llm_server.py --port 0 --delay 0.5``
prints ``READY http://127.0.0.1:PORT`` once it listens and serves until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any

DEFAULT_ANSWER: dict[str, Any] = {"summary": "Looks fine.", "findings": []}


@dataclass(frozen=True)
class Request:
    """One request as the server received it; header names are lower-case."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    body: bytes = b""


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a JSON document or raw ``body`` bytes, sent after ``delay`` seconds."""

    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    body: bytes | str | None = None


# --- wire-format builders ---------------------------------------------------------------------------


def chat_completion(
    content: str | None,
    finish_reason: str = "stop",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
    model: str = "fake-model",
    refusal: str | None = None,
) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` object with one choice."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _anthropic_message(content: list[dict[str, Any]], stop_reason: str, model: str) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 7},
    }


def anthropic_tool_message(
    input_obj: Any, name: str = "review", stop_reason: str = "tool_use", model: str = "fake-model"
) -> dict[str, Any]:
    """An Anthropic ``message`` whose only content block is a ``tool_use`` carrying ``input_obj``."""
    block = {"type": "tool_use", "id": "toolu_fake", "name": name, "input": input_obj}
    return _anthropic_message([block], stop_reason, model)


def anthropic_text_message(text: str, stop_reason: str = "end_turn", model: str = "fake-model") -> dict[str, Any]:
    """An Anthropic ``message`` with one text block."""
    return _anthropic_message([{"type": "text", "text": text}], stop_reason, model)


def openai_error(
    message: str, type: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """The OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def anthropic_error(
    type: str, message: str, details: dict[str, Any] | None = None, request_id: str = "req_fake"
) -> dict[str, Any]:
    """The Anthropic error envelope: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
    error: dict[str, Any] = {"type": type, "message": message}
    if details is not None:
        error["details"] = details
    return {"type": "error", "error": error, "request_id": request_id}


EMBEDDING_DIMS = 64


def fake_embedding(text: str, dims: int = EMBEDDING_DIMS) -> list[float]:
    """A deterministic unit vector: the character trigrams of the text's lower-cased words, hashed into ``dims``
    buckets. Lexical, not semantic: alike texts get alike vectors, which is all the tests need."""
    vector = [0.0] * dims
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        padded = f" {word} "
        for i in range(len(padded) - 2):
            digest = hashlib.blake2b(padded[i : i + 3].encode(), digest_size=4).digest()
            vector[int.from_bytes(digest, "big") % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def embeddings_response(texts: list[str], model: str = "fake-embeddings") -> dict[str, Any]:
    """An OpenAI ``list`` of ``embedding`` objects, one per input, in order."""
    tokens = sum(len(t) // 4 + 1 for t in texts)
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": fake_embedding(t)} for i, t in enumerate(texts)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def default_reply(request: Request) -> Reply:
    """A valid answer in the wire format of the request's path, carrying ``DEFAULT_ANSWER``."""
    body = request.json if isinstance(request.json, dict) else {}
    model = str(body.get("model") or "fake-model")
    if _route(request.path) == "openai":
        return Reply(json=chat_completion(json.dumps(DEFAULT_ANSWER), model=model))
    if _route(request.path) == "embeddings":
        texts = body.get("input")
        return Reply(json=embeddings_response([texts] if isinstance(texts, str) else list(texts or []), model))
    if _route(request.path) == "anthropic":
        choice = body.get("tool_choice")
        name = choice.get("name", "review") if isinstance(choice, dict) else "review"
        return Reply(json=anthropic_tool_message(DEFAULT_ANSWER, name=str(name), model=model))
    if _route(request.path) == "token":
        return Reply(json=token_reply(request.path))
    return Reply(status=404, json=openai_error(f"No route for {request.path}", code="not_found"))


# Google's token endpoints as the cloud tests fake them: OAuth2 (service account), STS (workload identity), the
# GitHub OIDC token URL a credential source names, and IAM's impersonation.
FAKE_GOOGLE_TOKEN = "ya29.fake-google-access-token-0123456789"


def token_reply(path: str) -> dict[str, Any]:
    if path.startswith("/oidc"):
        return {"value": "eyJfake.github-oidc.jwt"}
    if ":generateAccessToken" in path:
        return {"accessToken": FAKE_GOOGLE_TOKEN, "expireTime": "2099-01-01T00:00:00Z"}
    return {
        "access_token": FAKE_GOOGLE_TOKEN,
        "expires_in": 3600,
        "token_type": "Bearer",
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
    }


def _route(path: str) -> str:
    bare = path.split("?", 1)[0].rstrip("/")
    if bare.endswith("/chat/completions"):
        return "openai"
    # Anthropic's Messages, Bedrock's invoke and Vertex's rawPredict all carry the Messages body.
    if bare.endswith(("/v1/messages", "/invoke", ":rawPredict")):
        return "anthropic"
    if bare.endswith(("/token", ":generateAccessToken")) or bare.startswith("/oidc"):
        return "token"
    if bare.endswith("/embeddings"):
        return "embeddings"
    return ""


# --- the server -------------------------------------------------------------------------------------


class FakeLLM:
    """A threaded HTTP server on 127.0.0.1: records every request, answers from a FIFO of scripted replies."""

    def __init__(self, port: int = 0, delay: float = 0.0) -> None:
        self.requests: list[Request] = []
        self.default: Callable[[Request], Reply] = default_reply
        self.delay = delay  # added before every default reply (the benchmark's "model latency")
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def enqueue(
        self,
        status: int = 200,
        json: Any = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        body: bytes | str | None = None,
    ) -> None:
        """Queue one reply; replies are used in order, then ``default`` answers."""
        with self._lock:
            self._queue.append(Reply(status, json, dict(headers or {}), delay, body))

    def start(self) -> FakeLLM:
        # A short poll interval: shutdown() waits for the loop to notice, 0.5 s by default, per test.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-llm", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()  # wakes handlers sleeping on a delay
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._closing.set()
            self._server.server_close()

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _next_reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            scripted = self._queue.popleft() if self._queue else None
        if scripted is not None:
            return scripted
        reply = self.default(request)
        return Reply(reply.status, reply.json, reply.headers, reply.delay + self.delay, reply.body)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closing.wait(seconds)


def running(port: int = 0, delay: float = 0.0) -> Iterator[FakeLLM]:
    """For a pytest fixture: ``yield from running()`` starts a FakeLLM and closes it after the test."""
    with FakeLLM(port, delay) as server:
        yield server


def _handler_for(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = None
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request("POST", self.path, headers, payload, raw)
            self._send(fake._next_reply(request))

        def do_GET(self) -> None:
            request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}, None)
            self._send(fake._next_reply(request))

        def _send(self, reply: Reply) -> None:
            fake._sleep(reply.delay)
            if reply.body is not None:
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
            else:
                data = json.dumps(reply.json).encode()
            headers = {"Content-Type": "application/json", **reply.headers}
            self.send_response(reply.status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            # One request per connection: no keep-alive handler thread outlives a test.
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests and the benchmark read stdout

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve fake OpenAI and Anthropic answers on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args(argv)
    server = FakeLLM(args.port, args.delay)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"READY {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
