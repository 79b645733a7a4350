"""Wall time of a whole review of a 3,000-file PR against a provider that answers after a fixed delay.

Run: `python bench/bench_parallel.py [--delay 0.5] [--parallel 1 4 8]`. The fake provider and the fake
GitHub are started standalone (tests/fakes/*_server.py, as separate processes), the PR is too large for
GitHub's diff (406), so its 3,000 files come through 30 pages of the files list; the action
(entrypoint.py) reviews it with `parallel-calls` from the base branch's .qodo.yml and max-calls high
enough to send everything. For each parallelism: the calls made, the model stage's wall time from the
job summary, the ideal ceil(calls / parallel) x delay, the sum calls x delay, and the whole run.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_coldstart import action_env
from gen_diff import generate_diff

ROOT = Path(__file__).resolve().parents[1]
SHA_BASE, SHA_HEAD = "b" * 40, "c" * 40


def serve(script: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start a fake server process; its URL from the READY line."""
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fakes" / script), "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise SystemExit(f"{script} did not start: {line!r}")
    return proc, line.split()[1]


def review(tmp: Path, diff_text: str, parallel: int, llm_url: str) -> tuple[float, str]:
    """One action run on a fresh fake GitHub: (wall seconds, job summary)."""
    setup = tmp / "setup.json"
    setup.write_text(
        json.dumps(
            {
                "pulls": [
                    {
                        "number": 7,
                        "title": "Huge",
                        "body": "",
                        "base_sha": SHA_BASE,
                        "head_sha": SHA_HEAD,
                        "diff_text": diff_text,
                        "diff_too_large": True,
                    }
                ],
                "files": [[".qodo.yml", SHA_BASE, f"parallel-calls: {parallel}\nmax-calls: 200\n"]],
            }
        ),
        encoding="utf-8",
    )
    github, github_url = serve("github_server.py", "--setup", str(setup))
    try:
        env = action_env(tmp, github_url, llm_url, "openai")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "entrypoint.py")], env=env, cwd=tmp, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - start
    finally:
        github.terminate()
        github.wait()
    summary = (tmp / "summary.md").read_text(encoding="utf-8")
    (tmp / "summary.md").unlink()
    if done.returncode != 0:
        raise SystemExit(f"the review failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--lines", type=int, default=150_000, help="changed lines over the 3,000 files")
    args = parser.parse_args(argv)
    diff_text, shape = generate_diff(files=3000, changed_lines=args.lines, seed=1)
    print(
        f"PR: {shape.files:,} files, {shape.added + shape.removed:,} changed lines, {shape.size / 1e6:.1f} MB; "
        f"provider delay {args.delay} s\n"
    )
    print(
        "| parallel-calls | calls | model stage | ideal ceil(calls/parallel) x delay | sum calls x delay | whole run |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    llm, llm_url = serve("llm_server.py", "--delay", str(args.delay))
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            for parallel in args.parallel:
                wall, summary = review(Path(tmp_name), diff_text, parallel, llm_url)
                calls = int(re.search(r"Model calls: ([\d,]+)", summary)[1].replace(",", ""))  # type: ignore[index]
                model = float(re.search(r"model calls ([\d.]+) s", summary)[1])  # type: ignore[index]
                ideal = math.ceil(calls / parallel) * args.delay
                print(
                    f"| {parallel} | {calls} | {model:.2f} s | {ideal:.2f} s | {calls * args.delay:.2f} s | "
                    f"{wall:.2f} s |",
                    flush=True,
                )
    finally:
        llm.terminate()
        llm.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
