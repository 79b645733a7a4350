"""Network lockdown and flight recorder for end-to-end runs of the action.

In a subprocess it is loaded through PYTHONPATH by tests/e2e.py and switched on from the environment at
start-up. In-process runs import this module and switch it on for the length of one run (`activate`,
`deactivate`); the hook is installed once and does nothing while no run is active.

An audit hook (PEP 578) sees every socket connect, datagram, DNS lookup, process start and file opened for
writing, whoever asks for it: our code, an SDK, or the C code below them; once installed it cannot be
removed, so nothing in the process can switch the lockdown off by patching `socket` back.

- Connections go only to 127.0.0.1 or ::1 on a port listed in QODO_TEST_ALLOWED_PORTS (the fake GitHub and
  the fake provider), and names are resolved only for the loopback. Anything else is refused.
- Processes: only git, for its read-only `diff` and `cat-file` (fetch.py's local diff); anything else,
  and any fork, exec, spawn or shell, is refused.

Each refusal is one line in QODO_TEST_VIOLATIONS, which the tests assert is empty. With QODO_TEST_AUDIT set,
every such event is also recorded there, one JSON object per line (`kind` plus details), so a test can
prove where data went, which processes ran, and which files and directories were created.
"""

import json
import os
import socket
import sys
import threading

_ALLOWED_PORTS: set[int] = set()
_LOOPBACK_ADDRESSES = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
_LOCAL_NAMES = (*_LOOPBACK_ADDRESSES, "localhost")
# git subcommands that only read the object database (fetch.py's hardened `Git` runs nothing else).
_READ_ONLY_GIT = ("diff", "cat-file")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _open_log(path: str) -> int | None:
    """Opened before the hook is on: writing to it later must not raise an `open` event itself."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None


_VIOLATIONS: int | None = None
_AUDIT: int | None = None
_ACTIVE = False
_INSTALLED = False


def activate(ports: str, violations: str, audit: str) -> None:
    """Lock down and record from now on: ports as in QODO_TEST_ALLOWED_PORTS, the two log paths."""
    global _VIOLATIONS, _AUDIT, _ACTIVE, _INSTALLED
    _ALLOWED_PORTS.clear()
    _ALLOWED_PORTS.update(int(p) for p in ports.split(",") if p.strip())
    _VIOLATIONS, _AUDIT = _open_log(violations), _open_log(audit)
    _ACTIVE = True
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED = True


def deactivate() -> None:
    """In-process runs only: stop recording and close the logs (the hook stays, and does nothing)."""
    global _VIOLATIONS, _AUDIT, _ACTIVE
    _ACTIVE = False
    for fd in (_VIOLATIONS, _AUDIT):
        if fd is not None:
            os.close(fd)
    _VIOLATIONS = _AUDIT = None


def _record(kind: str, **details: object) -> None:
    if _AUDIT is not None:
        os.write(_AUDIT, (json.dumps({"kind": kind, **details}, default=repr) + "\n").encode())


def _refuse(what: str, error: Exception) -> Exception:
    if _VIOLATIONS is not None:
        os.write(_VIOLATIONS, (what + "\n").encode())
    _record("violation", what=what)
    return error


def _text(value: object) -> str:
    return os.fsdecode(value) if isinstance(value, str | bytes | os.PathLike) else repr(value)


# --- network -----------------------------------------------------------------------------------------------


def _on_connect(args: tuple[object, ...], kind: str = "connect") -> None:
    address = args[1]
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        _record(kind, host=host, port=port)
        if host in _LOOPBACK_ADDRESSES and port in _ALLOWED_PORTS:
            return
        raise _refuse(f"{kind} {host}:{port}", ConnectionRefusedError(f"network lockdown: {kind} {host}:{port}"))
    # A unix socket or anything else: the action has no reason to open one.
    _record(kind, address=_text(address))
    raise _refuse(f"{kind} {_text(address)}", ConnectionRefusedError(f"network lockdown: {kind} {address!r}"))


def _on_resolve(host: object) -> None:
    name = _text(host) if host is not None else ""
    _record("resolve", host=name)
    if name and name not in _LOCAL_NAMES:
        raise _refuse(f"resolve {name}", socket.gaierror(socket.EAI_NONAME, f"network lockdown: resolve {name}"))


def _on_reverse(address: object) -> None:
    host = address[0] if isinstance(address, tuple) and address else address
    _on_resolve(host)


# --- processes ---------------------------------------------------------------------------------------------


def _argv(args: object) -> list[str]:
    if isinstance(args, str | bytes | os.PathLike):
        return [_text(args)]
    return [_text(a) for a in args] if isinstance(args, list | tuple) else [repr(args)]


def _git_subcommand(argv: list[str]) -> str:
    """The subcommand of `git [--no-pager] [-c key=value]... <subcommand> ...`."""
    i = 1
    while i < len(argv):
        if argv[i] == "-c":
            i += 2
        elif argv[i].startswith("-"):
            i += 1
        else:
            return argv[i]
    return ""


def _on_process(executable: object, args: object) -> None:
    argv = _argv(args)
    program = os.path.basename(_text(executable) if executable is not None else argv[0])
    _record("process", argv=argv)
    if program == "git" and _git_subcommand(argv) in _READ_ONLY_GIT:
        return
    raise _refuse(f"process {' '.join(argv)[:300]}", PermissionError(f"process lockdown: {argv[:3]!r}"))


def _refuse_always(event: str) -> None:
    raise _refuse(f"process {event}", PermissionError(f"process lockdown: {event}"))


# --- files -------------------------------------------------------------------------------------------------


def _on_open(path: object, mode: object, flags: object) -> None:
    if isinstance(path, int):  # an already open descriptor
        return
    writes = (
        any(c in mode for c in "wax+")
        if isinstance(mode, str)
        else (isinstance(flags, int) and bool(flags & _WRITE_FLAGS))
    )
    if writes:
        name = os.path.abspath(_text(path))
        if not name.startswith("/dev/"):
            _record("write", path=name)


def _on_made(kind: str, path: object) -> None:
    _record(kind, path=os.path.abspath(_text(path)))


_HANDLERS = {
    "socket.connect": lambda a: _on_connect(a),
    "socket.sendto": lambda a: _on_connect(a, "sendto"),
    "socket.sendmsg": lambda a: _on_connect(a, "sendmsg") if a[1] is not None else None,
    "socket.getaddrinfo": lambda a: _on_resolve(a[0]),
    "socket.gethostbyname": lambda a: _on_resolve(a[0]),
    "socket.gethostbyaddr": lambda a: _on_resolve(a[0]),
    "socket.getnameinfo": lambda a: _on_reverse(a[0]),
    "subprocess.Popen": lambda a: _on_process(a[0], a[1]),
    "os.posix_spawn": lambda a: _on_process(a[0], a[1]),
    "os.exec": lambda a: _on_process(a[0], a[1]),
    "os.spawn": lambda a: _on_process(a[1], a[2]),
    "os.system": lambda a: _refuse_always(f"os.system {_text(a[0])[:200]}"),
    "os.fork": lambda a: _refuse_always("os.fork"),
    "os.forkpty": lambda a: _refuse_always("os.forkpty"),
    "pty.spawn": lambda a: _refuse_always("pty.spawn"),
    "open": lambda a: _on_open(a[0], a[1], a[2]),
    "os.mkdir": lambda a: _on_made("mkdir", a[0]),
    "tempfile.mkdtemp": lambda a: _on_made("mkdtemp", a[0]),
    "tempfile.mkstemp": lambda a: _on_made("mkstemp", a[0]),
    "os.remove": lambda a: _on_made("remove", a[0]),
    "os.rmdir": lambda a: _on_made("rmdir", a[0]),
    "shutil.rmtree": lambda a: _on_made("rmtree", a[0]),
    "os.rename": lambda a: _on_made("rename", a[1]),
}


def _fake_server_thread() -> bool:
    """In-process runs share the process with the fake servers and the test proxies; their request threads
    (socketserver's, named "Thread-N (process_request_thread)") are not the action's, and reach the fakes
    on ports the action is not given. A subprocess has none of them."""
    return threading.current_thread().name.endswith("(process_request_thread)")


def _hook(event: str, args: tuple[object, ...]) -> None:
    if not _ACTIVE or _fake_server_thread():
        return
    handler = _HANDLERS.get(event)
    if handler is not None:
        handler(args)


if __name__ == "sitecustomize" and any(
    os.environ.get(v) for v in ("QODO_TEST_ALLOWED_PORTS", "QODO_TEST_VIOLATIONS", "QODO_TEST_AUDIT")
):
    activate(
        os.environ.get("QODO_TEST_ALLOWED_PORTS", ""),
        os.environ.get("QODO_TEST_VIOLATIONS", ""),
        os.environ.get("QODO_TEST_AUDIT", ""),
    )
