"""Network lockdown for end-to-end subprocesses (loaded through PYTHONPATH by the tests).

Every outbound connection must go to 127.0.0.1 on a port listed in QODO_TEST_ALLOWED_PORTS (the fake
GitHub and the fake provider). Anything else is refused and written to QODO_TEST_VIOLATIONS, which the
test then asserts is empty. DNS lookups of other names are refused the same way.
"""

import os
import socket

_ALLOWED = {int(p) for p in os.environ.get("QODO_TEST_ALLOWED_PORTS", "").split(",") if p.strip()}
_LOG = os.environ.get("QODO_TEST_VIOLATIONS", "")
_LOCAL_NAMES = ("127.0.0.1", "localhost", "::1")


def _violation(what: str) -> OSError:
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(what + "\n")
    return ConnectionRefusedError(f"network lockdown: {what}")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check(address: object) -> None:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        if host in ("127.0.0.1", "::1") and port in _ALLOWED:
            return
        raise _violation(f"connect {host}:{port}")
    if isinstance(address, (str, bytes)):  # unix sockets are local
        return
    raise _violation(f"connect {address!r}")


def _connect(self: socket.socket, address: object) -> None:
    _check(address)
    _real_connect(self, address)  # type: ignore[arg-type]


def _connect_ex(self: socket.socket, address: object) -> int:
    _check(address)
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    name = host.decode() if isinstance(host, bytes) else host
    if name not in _LOCAL_NAMES and name is not None:
        raise _violation(f"resolve {name}")
    return _real_getaddrinfo(host, *args, **kwargs)


if _ALLOWED or _LOG:
    socket.socket.connect = _connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = _getaddrinfo
