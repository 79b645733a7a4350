"""The action's image: its size, a full review from start to exit in the container against plain Python, and
the cold start to the first provider request in the container (OpenAI and Anthropic).

Run: `bash tests/image/build.sh [--standin] qodo-review:test` (it prints the build time), then
`QODO_IMAGE=qodo-review:test python bench/bench_image.py [--runs 5]`. The container is started as GitHub's
runner starts it (tests/image/container.py: /github/* mounted, the fakes on the host network), without the
test lockdown; plain Python is `python -I entrypoint.py` in a fresh process with the same inputs. Each clock
starts just before the process (the engine's `run`, or the interpreter) is spawned. A new fake GitHub per run,
so each is a first review, not an incremental one. Medians and bests of the runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "image")]
from bench_coldstart import FirstRequest  # noqa: E402
from container import engine, image, run_image  # noqa: E402
from e2e import SHA_BASE, SHA_HEAD, pr_event, run_action  # noqa: E402
from fakes.github_server import FakeGitHub  # noqa: E402
from fakes.llm_server import FakeLLM  # noqa: E402

SAMPLE = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")


def inputs_for(provider: str, llm_url: str) -> dict[str, str]:
    base = f"{llm_url}/v1" if provider == "openai" else llm_url
    return {"provider": provider, "base-url": base}


def timed(run: Callable[[Path, str], int], recorder: FirstRequest, tmp: Path, i: int) -> tuple[float, float]:
    """(seconds to the first provider request, seconds to exit) of one run on a fresh PR."""
    with FakeGitHub() as github:
        github.add_pull(7, "Add user search", "Adds find_users.", SHA_BASE, SHA_HEAD, SAMPLE)
        recorder.at = None
        start = time.perf_counter()
        code = run(tmp / str(i), github.url)
        end = time.perf_counter()
    if code != 0 or recorder.at is None:
        raise SystemExit(f"run {i} exited {code} with {'no' if recorder.at is None else 'a'} provider request")
    return recorder.at - start, end - start


def line(what: str, provider: str, runs: list[tuple[float, float]]) -> str:
    firsts, totals = [f for f, _ in runs], [t for _, t in runs]
    return (
        f"| {what} | {provider} | {statistics.median(firsts):.2f} s, {min(firsts):.2f} s | "
        f"{statistics.median(totals):.2f} s, {min(totals):.2f} s |"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    name = image()
    if not name:
        raise SystemExit("QODO_IMAGE names no image: build one with tests/image/build.sh")
    size = subprocess.run(
        [engine(), "image", "inspect", "--format", "{{.Size}}", name], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"image {name} ({engine()}): {int(size) / 1e6:.0f} MB")
    recorder = FirstRequest()
    with FakeLLM() as llm, tempfile.TemporaryDirectory() as tmp_name:
        llm.default = recorder
        tmp = Path(tmp_name)
        print("| where | provider | first request (median, best) | exit (median, best) |")
        print("|---|---|---:|---:|")
        for provider in ("openai", "anthropic"):
            values = inputs_for(provider, llm.url)

            def in_image(folder: Path, github_url: str, values: dict[str, str] = values) -> int:
                return run_image(
                    folder, github_url=github_url, llm_url=llm.url, payload=pr_event(), inputs=values, lockdown=False
                ).code

            def plain(folder: Path, github_url: str, values: dict[str, str] = values) -> int:
                return run_action(
                    folder, github_url=github_url, llm_url=llm.url, inputs=values, subprocess=True, isolated=True
                ).code

            for what, run in (("container", in_image), ("plain Python", plain)):
                runs = [timed(run, recorder, tmp / f"{provider}-{what}", i) for i in range(args.runs)]
                print(line(what, provider, runs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
