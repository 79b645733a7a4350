"""Shared doubles for the fault-injection suite: a fake clock, a scripted provider, a resetting proxy."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fakes.llm_server import FakeLLM

from qodo_review.models import Completion, Prompt

ANSWER = {"summary": "ok", "findings": []}


@dataclass
class Clock:
    """An injected monotonic clock; sleep() advances it and records each wait."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def done(text: str = json.dumps(ANSWER), finish_reason: str = "stop") -> Completion:
    return Completion(text=text, tokens_in=10, tokens_out=5, finish_reason=finish_reason, model="scripted")


class Scripted:
    """A provider (the one-method Protocol) that plays outcomes in order: a Completion or an error to raise."""

    def __init__(self, *outcomes: Completion | Exception) -> None:
        self.outcomes = list(outcomes)
        self.prompts: list[Prompt] = []
        self._lock = threading.Lock()

    def complete(self, prompt: Prompt) -> Completion:
        with self._lock:
            self.prompts.append(prompt)
            outcome = self.outcomes.pop(0) if self.outcomes else done()
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


class ResettingProxy:
    """TCP proxy in front of a server: the first `resets` connections are closed with a TCP RST after
    the request arrives (a connection reset by peer), later ones are relayed to the server."""

    def __init__(self, target_port: int, resets: int) -> None:
        self.resets, self.target_port, self.connections = resets, target_port, 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def __enter__(self) -> ResettingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        # Stop the accept loop before closing its socket: a closed descriptor number is soon reused by another
        # test's server, whose connections a loop still blocked in accept() would steal.
        self._closed = True
        self._thread.join()
        self._server.close()

    def _serve(self) -> None:
        self._server.settimeout(0.05)
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self.connections += 1
            if self.connections <= self.resets:
                try:
                    client.recv(65536)
                    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
                finally:
                    client.close()
                continue
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while data := src.recv(65536):
                    dst.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
        back.start()
        pump(client, upstream)
        back.join(timeout=10)
        client.close()
        upstream.close()


class ActThenFail:
    """An HTTP proxy in front of a fake server: every request is carried out, but the first `times` that
    match (method, path regex) are answered with `status` instead, as when GitHub's gateway times out
    after the API has already acted (a 502 on a POST that did post)."""

    def __init__(self, target: str, method: str, path_regex: str, status: int = 502, times: int = 1) -> None:
        import http.client
        import re
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        self.prefix, self.faults, fault_status = parts.path.rstrip("/"), times, status
        self.hits: list[str] = []
        rule, proxy = re.compile(path_regex), self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                data, status = answer.read(), answer.status
                reply_headers = [
                    (k, v)
                    for k, v in answer.getheaders()
                    if k.lower() not in ("content-length", "connection", "transfer-encoding")
                ]
                upstream.close()
                if self.command == method and rule.search(self.path) and proxy.faults > 0:
                    proxy.faults -= 1
                    proxy.hits.append(f"{self.command} {self.path}")
                    status, data = fault_status, b"<html><body><h1>Bad Gateway</h1></body></html>"
                    reply_headers = [("Content-Type", "text/html")]
                self.send_response(status)
                for name, value in reply_headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _relay

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def __enter__(self) -> ActThenFail:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()
