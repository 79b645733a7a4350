"""Everything before the first provider call, on huge diffs: decode, split, select, budget, redact + prompts.

Run: `python bench/bench_pipeline.py` (about a minute). Each measurement is a fresh child process pinned
to one core that reads the diff's bytes from a file (as the action gets them from GitHub) and runs
`review.review_diff` with a provider that answers at once: "first call at" is the time from the bytes to
the first request, "whole run" everything the pipeline does besides waiting for the model (every prompt
built and redacted, secret scan, placement). `--dry-run` passes provider=None instead, which also keeps
every prompt in memory (what `dry-run: true` prints). Times are the best of `--repeat` runs; peak memory
is the child's high-water RSS (VmHWM: interpreter, imports and the diff's bytes included; not ru_maxrss,
which Linux carries over from the parent across fork and exec).

Inputs: the generated PR (bench/gen_diff.py, ~1,000 files, ~900,000 changed lines, ~33 MB) at 0.25x,
0.5x and 1x to show growth is linear, plus the real 0.9 MB and 5 MB diffs when ../shared/realdata is there.
`--max-calls N`: 8 is the action's default; 1000 sends every line of the generated PR.
`--max-input-tokens N` sets the call size (default: the model's, 60,000 for gpt-4.1), `--scales 1` runs the
1x input only. Full coverage as issue 11 measures it: `--max-calls 200 --max-input-tokens 200000 --dry-run`.

Each input also gets a "floor" row, measured in the same child processes: decode the bytes, split the text
into lines, and one pass over the lines in Python (count the changed ones). No pipeline can do less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_diff import generate_diff

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "diffs" / "real-commits"
REAL_DIFFS = ("requests_1960dab_large_vendor_swap.diff", "gitleaks_f653ab7_very_large_vendor.diff")
FULL = {"files": 1000, "changed_lines": 900_000}


class Instant:
    """A provider that answers at once with an empty review and notes when it was first called: what the
    pipeline does before the first request would leave, and all it does besides waiting for answers."""

    def __init__(self) -> None:
        self.first: float | None = None

    def complete(self, prompt: object) -> object:
        from qodo_review.models import Completion

        if self.first is None:
            self.first = time.perf_counter()
        return Completion(text='{"summary": "ok", "findings": []}', tokens_in=1, tokens_out=1)


def floor(data: bytes) -> float:
    """The physical floor: decode, split into lines, one Python pass over them. Seconds."""
    start = time.perf_counter()
    changed = 0
    for line in data.decode("utf-8", "replace").split("\n"):
        if line[:1] in "+-":
            changed += 1
    return time.perf_counter() - start


def child(path: str, max_calls: int, dry: bool, max_input_tokens: int | None, parallel: int = 4) -> dict[str, object]:
    """One measured run (in a child process): stage times in seconds and the process's peak RSS in MB."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from qodo_review.config import ReviewConfig
    from qodo_review.diff import decode_diff, split_diff
    from qodo_review.models import PullRequest
    from qodo_review.redact import Redactor
    from qodo_review.review import review_diff

    base_rss = peak_rss()
    data = Path(path).read_bytes()
    start = time.perf_counter()
    text = decode_diff(data)
    decoded = time.perf_counter()
    files = split_diff(text)
    split = time.perf_counter()
    pr = PullRequest(number=1, title="Huge change", body="A benchmark.", base_sha="a" * 40, head_sha="b" * 40)
    provider = None if dry else Instant()
    report = review_diff(
        pr,
        files,
        ReviewConfig(max_calls=max_calls, max_input_tokens=max_input_tokens, parallel_calls=parallel),
        provider=provider,  # type: ignore[arg-type]
        redactor=Redactor(),
        nonce="0123456789abcdef",
        model="gpt-4.1",
        provider_host="api.openai.com",
    )
    end = time.perf_counter()
    floor_seconds = floor(data)
    stages = {"decode": decoded - start, "split": split - decoded, **report.timings}
    first = provider.first - start if provider is not None and provider.first is not None else None
    return {
        "stages": stages,
        "total": end - start,
        "floor": floor_seconds,
        "first_call": first,
        "rss": peak_rss(),
        "base_rss": base_rss,
        "files": len(files),
        "lines": sum(f.changed for f in files),
        "calls": report.calls_planned,
        "reviewed_lines": report.lines_reviewed,
    }


def peak_rss() -> float:
    """This process's peak resident memory in MB (Linux VmHWM; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / (1024 if sys.platform == "darwin" else 1)


def measure(
    path: Path, max_calls: int, repeat: int, dry: bool, max_input_tokens: int | None, parallel: int = 4
) -> dict[str, object]:
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(path),
                "--max-calls",
                str(max_calls),
                *(["--dry-run"] if dry else []),
                *(["--max-input-tokens", str(max_input_tokens)] if max_input_tokens else []),
                *(["--parallel-calls", str(parallel)]),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout))
    best = min(runs, key=lambda r: float(r["total"]))  # type: ignore[arg-type]
    best["rss"] = max(float(r["rss"]) for r in runs)  # type: ignore[arg-type]
    best["floor"] = min(float(r["floor"]) for r in runs)  # type: ignore[arg-type]
    return best


def floor_row(label: str, size: int, result: dict[str, object]) -> str:
    seconds = float(result["floor"])  # type: ignore[arg-type]
    return (
        f"| {label}: floor | {size / 1e6:.1f} MB | | | | {seconds:.2f} s | {seconds / (size / 1e6) * 1000:.0f} ms/MB"
        f" | | | decode + split + one pass; whole run / floor = {float(result['total']) / seconds:.1f} |"  # type: ignore[arg-type]
    )


def row(label: str, size: int, result: dict[str, object]) -> str:
    stages = result["stages"]
    assert isinstance(stages, dict)
    total = float(result["total"])  # type: ignore[arg-type]
    parts = " ".join(f"{name} {seconds:.2f}" for name, seconds in stages.items())
    first = result["first_call"]
    first_text = f"{float(first):.2f} s" if first is not None else "-"  # type: ignore[arg-type]
    return (
        f"| {label} | {size / 1e6:.1f} MB | {result['files']:,} | {result['lines']:,} | {first_text} | "
        f"{total:.2f} s | {total / (size / 1e6) * 1000:.0f} ms/MB | {float(result['rss']):.0f} MB "  # type: ignore[arg-type]
        f"({float(result['base_rss']):.0f}) | {result['calls']} | {parts} |"
    )  # type: ignore[arg-type]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--max-calls", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-input-tokens", type=int, default=None, help="tokens per call (the model's default)")
    parser.add_argument("--parallel-calls", type=int, default=4, help="worker threads (the action's default: 4)")
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    parser.add_argument("--no-real", action="store_true", help="skip the real diffs")
    parser.add_argument("--dry-run", action="store_true", help="provider=None: build and keep every prompt")
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.max_calls, args.dry_run, args.max_input_tokens, args.parallel_calls)))
        return 0
    print(
        "| input | size | files | +/- lines | first call at | whole run | per MB | peak RSS (after imports) | "
        "calls | stages (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for scale in args.scales:
            text, shape = generate_diff(
                files=int(FULL["files"] * scale), changed_lines=int(FULL["changed_lines"] * scale)
            )
            path = Path(tmp) / f"generated-{scale}.diff"
            path.write_bytes(text.encode())
            del text
            result = measure(
                path, args.max_calls, args.repeat, args.dry_run, args.max_input_tokens, args.parallel_calls
            )
            print(row(f"generated {scale:g}x", shape.size, result), flush=True)
            print(floor_row(f"generated {scale:g}x", shape.size, result), flush=True)
        for name in () if args.no_real else REAL_DIFFS:
            path = REAL / name
            if path.exists():
                print(
                    row(
                        name.split("_")[0] + " " + name.split("_")[1],
                        path.stat().st_size,
                        measure(
                            path, args.max_calls, args.repeat, args.dry_run, args.max_input_tokens, args.parallel_calls
                        ),
                    ),
                    flush=True,
                )
    tokens = f"{args.max_input_tokens:,}" if args.max_input_tokens else "60,000"
    print(
        f"\nmax-calls {args.max_calls}, model gpt-4.1 ({tokens}-token calls), one core: `python {' '.join(sys.argv)}`"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
