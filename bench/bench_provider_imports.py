"""Import cost of each provider adapter (and so of its SDK and credential libraries) in a fresh interpreter.

Run: `python bench/bench_provider_imports.py [--runs 5]`. Each adapter module is imported alone, as
make_provider does for the chosen provider; the line gives the median and best wall time of the runs, and the
credential libraries it loaded (boto3/botocore for Bedrock, google-auth for Vertex are imported only at the
first request, by the SDK: the second column adds them).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

ADAPTERS = {
    "openai": ("qodo_review.providers.openai_chat", ""),
    "anthropic": ("qodo_review.providers.anthropic_messages", ""),
    "azure-openai": ("qodo_review.providers.azure_openai", ""),
    "bedrock": ("qodo_review.providers.bedrock", "import boto3, botocore.auth"),
    "vertex": ("qodo_review.providers.vertex", "import google.oauth2.service_account, google.auth.transport.requests"),
}


def timed(code: str) -> float:
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"{'provider':14} {'adapter import':>22} {'+ credential libraries':>26}")
    for kind, (module, extra) in ADAPTERS.items():
        alone = [timed(f"import {module}") for _ in range(runs)]
        full = [timed(f"import {module}; {extra}") for _ in range(runs)] if extra else alone
        print(
            f"{kind:14} {statistics.median(alone):9.3f} s (best {min(alone):.3f}) "
            f"{statistics.median(full):9.3f} s (best {min(full):.3f})"
        )


if __name__ == "__main__":
    main()
