"""The cacheable share of a review's input tokens, on the 3,000-file benchmark PR (bench_parallel.py's diff).

Every call of a run opens with the same prefix: the system prompt (with the repository's instructions), the
answer schema (Anthropic's tool), and the start of the user turn up to the end of the PR's title and
description (``Prompt.shared``). From the second call on, a provider's prompt cache can serve that prefix:
OpenAI by itself when it is 1,024 tokens or more, Anthropic where it is marked (cache_control), from 1,024
tokens for Sonnet and Opus. This counts, on dry-run prompts (no provider), the prefix of each call and the
share of all input tokens that calls after the first could read from the cache. Token counts are the
project's estimate (tokens.estimate_tokens, 1.0-1.6x cl100k): the share is a ratio of two estimates.

    python bench/bench_cache.py [--lines 150000] [--max-calls 8]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_diff import generate_diff

from qodo_review.config import ReviewConfig
from qodo_review.diff import split_diff
from qodo_review.models import PullRequest
from qodo_review.redact import Redactor
from qodo_review.review import review_diff
from qodo_review.tokens import estimate_tokens

# A description and instructions of the length real ones have (a few paragraphs; a team's review rules).
DESCRIPTION = (
    "Moves the request pipeline to the new async client, and renames the handler modules to match the "
    "package layout. The retry policy is unchanged; the timeouts now come from the settings object. "
) * 12
INSTRUCTIONS = (
    "We use SQLAlchemy 2 with explicit sessions; flag raw SQL built from strings, sessions shared between "
    "threads, and queries inside loops. Public functions need type hints and a docstring. "
) * 8


def measure(lines: int, max_calls: int, description: str, instructions: str) -> dict[str, object]:
    diff, _ = generate_diff(files=3000, changed_lines=lines, seed=1)
    files = split_diff(diff)
    pr = PullRequest(number=1, title="Move to the async client", body=description, base_sha="a" * 40, head_sha="b" * 40)
    config = ReviewConfig(max_calls=max_calls, instructions=instructions)
    report = review_diff(
        pr,
        files,
        config,
        provider=None,
        redactor=Redactor(),
        nonce="0123456789abcdef",
        model="claude-sonnet-4-6",
        provider_host="api.anthropic.com",
    )
    schema = estimate_tokens(json.dumps(report.prompts[0].schema)) if report.prompts else 0
    prefixes = [estimate_tokens(p.system) + schema + estimate_tokens(p.shared) for p in report.prompts]
    totals = [p.tokens_estimate + schema for p in report.prompts]
    cacheable = sum(prefixes[1:])  # the first call writes the cache; the others can read it
    return {
        "calls": len(report.prompts),
        "input_tokens": sum(totals),
        "prefix_tokens": prefixes[0] if prefixes else 0,
        "cacheable_tokens": cacheable,
        "share": cacheable / sum(totals) if totals else 0.0,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=150_000, help="changed lines over the 3,000 files")
    parser.add_argument("--max-calls", type=int, nargs="+", default=[8, 200])
    args = parser.parse_args(argv)
    print("| max-calls | PR text | calls | input tokens | shared prefix per call | cacheable | share |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for max_calls in args.max_calls:
        for label, body, rules in (
            ("no description", "", ""),
            ("description + instructions", DESCRIPTION, INSTRUCTIONS),
        ):
            r = measure(args.lines, max_calls, body, rules)
            print(
                f"| {max_calls} | {label} | {r['calls']} | {r['input_tokens']:,} | {r['prefix_tokens']:,} | "
                f"{r['cacheable_tokens']:,} | {float(r['share']):.1%} |"  # type: ignore[arg-type]
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
