"""The Markdown sanitiser on the worst inputs we could construct, at n and 2n characters.

Run: `python bench/bench_sanitize.py [--size 32000] [--repeat 5]`. For each input, the best of `--repeat`
runs of sanitize_markdown at n and at 2n characters (with `max_chars` above the output, so no cut), the
ratio of the two (linear: at most about 2), and the throughput at 2n. Then the same inputs at 200,000
characters with the default limits: the input is cut to MAX_INPUT_CHARS and the result to 20,000, which is
the case issue 10 measured (200 KB of `&#64;` took 5 s with the old settle loop and bisection).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from qodo_review.sanitize import MAX_INPUT_CHARS, sanitize_markdown

REPO = "github.com/o/r"


def inputs() -> dict[str, Callable[[int], str]]:
    """name -> n -> an input of about n characters."""

    def rep(unit: str) -> Callable[[int], str]:
        return lambda n: (unit * (n // len(unit) + 1))[:n]

    return {
        "entities &#64;": rep("&#64;"),
        "named entities": rep("&commat;&lt;"),
        "mentions": rep("@a "),
        "emails": rep("a@b.co "),
        "open brackets": rep("["),
        "nested brackets": lambda n: "[" * (n // 2) + "]" * (n // 2),
        "open links": rep("[a]("),
        "link chain (allowed)": rep("[a](https://github.com/o/r/x) "),
        "link chain (foreign)": rep("[a](https://evil.example/x) "),
        "bare urls": rep("https://github.com/o/r/x "),
        "backticks": rep("`a"),
        "backtick runs": lambda n: "".join("`" * (i % 7 + 1) + "x" for i in range(n // 5)),
        "emphasis delimiters": rep("*_a"),
        "angle brackets": rep("<"),
        "comment openers": rep("<!--"),
        "comments": rep("@<!-- x -->a"),
        "backslashes": rep("\\"),
        "deep blockquote": lambda n: ">" * (n - 2) + " x",
        "deep list": lambda n: "".join("  " * i + "- x\n" for i in range(200)) * (n // 40000 + 1),
        "fences": rep("```\n"),
        "table": lambda n: "|a|\n|-|\n" + ("|`x|y`|\n" * (n // 8)),
        "definitions": rep("[r]: https://evil.example\n"),
        "commands": rep("/x\n"),
        "prose": rep("The quick brown fox, fixes #1, see https://github.com/o/r/pull/1. "),
    }


def best(text: str, repeat: int, max_chars: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        sanitize_markdown(text, repo=REPO, max_chars=max_chars)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=MAX_INPUT_CHARS // 2, help="n (2n is at most the cap)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.size
    print(f"n = {n:,} characters; best of {args.repeat}; no cut (max_chars above the output)")
    print(f"{'input':<22} {'t(n) ms':>9} {'t(2n) ms':>9} {'ratio':>6} {'MB/s at 2n':>11}")
    worst = 0.0
    for name, make in inputs().items():
        # exactly n and 2n characters: 2n stays within the cap, so neither is cut
        small, large = best(make(n)[:n], args.repeat, 10**9), best(make(2 * n)[: 2 * n], args.repeat, 10**9)
        ratio = large / small if small else float("inf")
        worst = max(worst, ratio)
        print(f"{name:<22} {small * 1e3:9.1f} {large * 1e3:9.1f} {ratio:6.2f} {2 * n / large / 1e6:11.2f}")
    print(f"worst ratio t(2n)/t(n): {worst:.2f}")
    print(f"\n200,000 characters, default limits (input cut to {MAX_INPUT_CHARS:,}, result to 20,000):")
    for name, make in inputs().items():
        print(f"{name:<22} {best(make(200_000), args.repeat, 20_000) * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
