"""Benchmark of the diff stage: split_diff / parse_file against a full unidiff parse.

Run: `python bench/bench_diff.py` (add `--quick` for a 10x smaller generated diff).
Inputs: the generated huge PR (bench/gen_diff.py defaults: ~1,000 files, ~900,000 changed lines,
~33 MB) and, when present, the real 5 MB gitleaks diff from ../shared/realdata beside the project.
Times are the best of several runs without tracing; peaks are tracemalloc's (Python allocations made
by the step, the input excluded), measured in a separate traced run because tracing slows code down.
"""

from __future__ import annotations

import gc
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_diff import generate_diff

from qodo_review.diff import RawFile, decode_diff, parse_file, split_diff

REAL = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "realdata"
    / "diffs"
    / "real-commits"
    / "gitleaks_f653ab7_very_large_vendor.diff"
)
SAMPLE = 0.10  # the share of files parse_file is measured on (what a budget might send)


def measure(step: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(best seconds, traced peak MB) of step()."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = step()
        best = min(best, time.perf_counter() - start)
        del result
    gc.collect()
    tracemalloc.start()
    result = step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return best, peak / 1e6


def sample(raws: list[RawFile]) -> list[RawFile]:
    return random.Random(0).sample(raws, max(1, int(len(raws) * SAMPLE)))


def bench(name: str, data: bytes, rows: list[tuple[str, str, float, float]], with_unidiff: bool) -> None:
    text = decode_diff(data)
    raws = split_diff(text)
    picked = sample(raws)
    lines = sum(r.added + r.removed for r in raws)
    label = f"{name} ({len(data) / 1e6:.1f} MB, {len(raws)} files, {lines:,} +/- lines)"

    def pipeline() -> list[Any]:
        files = split_diff(decode_diff(data))
        return [parse_file(raw) for raw in sample(files)]

    steps: list[tuple[str, Callable[[], Any], int]] = [
        ("decode_diff", lambda: decode_diff(data), 3),
        ("split_diff", lambda: split_diff(text), 5),
        (
            f"parse_file on {len(picked)} files ({sum(r.changed for r in picked):,} lines)",
            lambda: [parse_file(raw) for raw in picked],
            3,
        ),
        ("decode + split + parse sample", pipeline, 3),
        ("parse_file on every file", lambda: [parse_file(raw) for raw in raws], 1),
    ]
    if with_unidiff:
        import unidiff

        steps.append(
            (
                "unidiff PatchSet on the same sample (no conversion)",
                lambda: [unidiff.PatchSet(raw.text) for raw in picked],
                3,
            )
        )
        steps.append(("unidiff PatchSet (full parse)", lambda: unidiff.PatchSet(text), 1))
    for step_name, step, repeat in steps:
        seconds, peak = measure(step, repeat)
        rows.append((label, step_name, seconds * 1000, peak))
        print(f"  {step_name}: {seconds * 1000:.0f} ms, {peak:.0f} MB", file=sys.stderr)


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    rows: list[tuple[str, str, float, float]] = []
    start = time.perf_counter()
    text, shape = generate_diff(files=100, changed_lines=90_000) if quick else generate_diff()
    print(f"generated {shape} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    data = text.encode()
    del text
    bench("generated", data, rows, with_unidiff="--no-unidiff" not in argv)
    if REAL.exists():
        bench("gitleaks real", REAL.read_bytes(), rows, with_unidiff="--no-unidiff" not in argv)
    width = max(len(step) for _, step, _, _ in rows)
    current = ""
    for label, step, ms, peak in rows:
        if label != current:
            print(f"\n{label}\n{'step':<{width}}  {'time':>9}  {'peak':>8}")
            current = label
        print(f"{step:<{width}}  {ms:>6.0f} ms  {peak:>5.0f} MB")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess max RSS (whole run, unidiff included): {maxrss:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
