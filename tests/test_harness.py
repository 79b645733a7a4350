"""The in-process runs are held to the same lockdown as the subprocess ones: the flight recorder refuses and
records a connection to a port that is not one of the fakes', and any process but read-only git."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from fakes.lockdown import sitecustomize as lockdown


def test_the_in_process_lockdown_refuses_and_records(tmp_path: Path) -> None:
    violations, audit = tmp_path / "violations.txt", tmp_path / "audit.jsonl"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        lockdown.activate("1", str(violations), str(audit))
        try:
            with socket.socket() as client, pytest.raises(ConnectionRefusedError, match="network lockdown"):
                client.connect(("127.0.0.1", port))
            with pytest.raises(PermissionError, match="process lockdown"):
                subprocess.run(["true"], check=False)
            (tmp_path / "written.txt").write_text("x")
        finally:
            lockdown.deactivate()
        with socket.socket() as client:  # off again: the rest of the test session is not locked down
            client.connect(("127.0.0.1", port))
    assert violations.read_text().splitlines() == [f"connect 127.0.0.1:{port}", "process true"]
    kinds = [json.loads(line)["kind"] for line in audit.read_text().splitlines()]
    assert kinds.count("violation") == 2 and "write" in kinds
