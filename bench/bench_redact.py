"""Benchmark (not a test): redactor throughput in MB/s on a generated code diff and on real diffs, and on
hostile inputs (--worst): throughput per adversarial shape, tracemalloc's peak as a multiple of the input, and
how many lines the work budget withheld whole."""

from __future__ import annotations

import argparse
import os
import random
import string
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from qodo_review.redact import Redactor
from qodo_review.redact.scan import _ALL_KEYWORDS

REAL_DIFFS = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "diffs" / "real-commits"
RUN_SECRETS = ("sk-bench-" + "0123456789abcdef" * 3, "ghs_" + "BenchRunToken" * 3)

# Ordinary code, config and prose, with the words that make a prefilter work (key, token, password, secret,
# URLs) at a realistic density, and one planted secret in about 2,000 lines.
_TEMPLATES = (
    "    def {name}(self, {arg}: str) -> dict[str, int]:",
    "        return {{k: v for k, v in self.{name}.items() if v}}",
    "        {arg} = self._cache.get({name}, default=None)",
    "    # {word} the {word2} before the {word3} is sent; see https://example.org/docs/{word}",
    "import {name}",
    "from .{name} import {Name}, {Name}Error",
    "        if not {arg}:",
    '            raise ValueError(f"{word} {{self.{arg}!r}} is not a valid {word2}")',
    '        logger.debug("{word} %s took %.2fs", {arg}, elapsed)',
    "  {name}:",
    "    image: ghcr.io/{name}/{word}:{n}.{n}.{n}",
    "    timeout-minutes: {n}",
    "      - uses: actions/checkout@v4",
    "        with:\n          token: ${{{{ secrets.GITHUB_TOKEN }}}}",
    '  "{name}": {{"type": "string", "description": "The {word} of the {word2}."}},',
    "func ({arg} *{Name}) {Name}(ctx context.Context, id string) (*{Name}, error) {{",
    "\tres, err := {arg}.client.Do(ctx)",
    "const {name} = require('{word}');",
    "export function {name}({arg}) {{ return {arg}.{word} === undefined ? null : {arg}; }}",
    "The {word} {word2} uses a {word3} to read the {name} from the environment, never from the file.",
    "| `{name}` | {word} | {n} |",
    "",
    "    }}",
    "        self.{arg} = {arg}",
    "        assert result == {n}, result",
)
# Mostly neutral words; the credential words (token, key, password, secret) are drawn 1 time in 50, so about
# 10% of lines hold one: more than in the real diffs below (about 5%), so this is not a flattering case.
_WORDS = (
    "reader",
    "cache",
    "value",
    "request",
    "session",
    "client",
    "review",
    "diff",
    "budget",
    "prompt",
    "provider",
    "finding",
    "config",
    "handler",
    "parser",
    "line",
    "file",
    "path",
    "user",
    "item",
    "result",
    "event",
    "payload",
    "status",
    "count",
    "limit",
    "offset",
    "index",
    "name",
    "title",
    "body",
    "summary",
    "report",
    "chunk",
    "model",
    "answer",
    "error",
    "retry",
    "timeout",
    "channel",
    "comment",
    "hunk",
    "context",
    "stream",
    "buffer",
    "schema",
)
_CREDENTIAL_WORDS = ("token", "key", "password", "secret")
_PLANTED = (
    '+AWS_ACCESS_KEY_ID = "AKIA{upper}"',
    '+    api_key: "sk-proj-{mixed}"',
    "+DATABASE_URL=postgres://app:{mixed}@db.internal:5432/app",
    '+    password = "{mixed}!"',
)


def generated_diff(target_bytes: int, seed: int = 1) -> str:
    """A deterministic unified diff of roughly target_bytes."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0

    def pick() -> str:
        return rng.choice(_CREDENTIAL_WORDS) if rng.random() < 0.02 else rng.choice(_WORDS)

    def fill(template: str) -> str:
        word, word2, word3 = pick(), pick(), pick()
        name = f"{word}_{word2}"
        return template.format(
            name=name,
            Name=name.title().replace("_", ""),
            arg=word3,
            word=word,
            word2=word2,
            word3=word3,
            n=rng.randint(1, 999),
            upper="".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
            mixed="".join(rng.choice("abcdefghkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(32)),
        )

    file_no = 0
    while size < target_bytes:
        file_no += 1
        header = (
            f"diff --git a/src/pkg/mod{file_no}.py b/src/pkg/mod{file_no}.py\n"
            f"--- a/src/pkg/mod{file_no}.py\n+++ b/src/pkg/mod{file_no}.py\n@@ -1,60 +1,64 @@\n"
        )
        out.append(header)
        size += len(header)
        for _ in range(64):
            if rng.random() < 0.0005:
                line = fill(rng.choice(_PLANTED))
            else:
                line = rng.choice("++-    ") + fill(rng.choice(_TEMPLATES))
            out.append(line + "\n")
            size += len(line) + 1
    return "".join(out)


def hunks(diff: str) -> Iterator[list[str]]:
    """The line texts (without the +/-/space prefix) of each hunk, as the prompt builder passes them."""
    current: list[str] = []
    for line in diff.split("\n"):
        if line.startswith("@@"):
            if current:
                yield current
            current = []
        elif line[:1] in ("+", "-", " ") and not line.startswith(("+++", "---")):
            current.append(line[1:])
    if current:
        yield current


_B64 = string.ascii_letters + string.digits + "+/"
_END = "-----END RSA PRIVATE KEY-----"


def _rnd(n: int, alphabet: str = _B64) -> str:
    rng = random.Random(n)
    return "".join(rng.choice(alphabet) for _ in range(n))


def worst_shapes(n: int) -> dict[str, str]:
    """Adversarial inputs of about n characters, each aimed at one step of the redactor."""
    return {
        "PEM END markers on one line": _rnd(8000) + _END * (n // len(_END)),
        "PEM END markers under a body": (_rnd(64) + "\n") * 2000 + (_END + "\n") * (n // 30),
        "PEM block of 8 KB lines, no BEGIN": (_rnd(8192) + "\n") * min(n // 8193, 500) + _END + "\n",
        "PEM BEGIN/END pairs": ("-----BEGIN RSA PRIVATE KEY-----\n" + _rnd(64) + "\n" + _END + "\n") * (n // 128),
        "PEM BEGIN markers": ("-----BEGIN RSA PRIVATE KEY-----" * n)[:n],
        "password= (one line)": ("password=" * n)[:n],
        "password= x100 lines": ("password=" * 100 + "\n") * (n // 901),
        "token: (one line)": ("token: " * n)[:n],
        'key=" (one line)': ('key="' * n)[:n],
        "long token run (one line)": _rnd(n, string.ascii_letters + string.digits),
        "sk-ghp_ run": ("sk-ghp_" * n)[:n],
        "a token on every line": ("x = 'ghp_" + _rnd(36, string.ascii_letters) + "'\n") * (n // 50),
        "every keyword, one line": (
            " ".join(
                [
                    "password=",
                    "ghp_",
                    "sk-",
                    "AKIA",
                    "://u:p@h",
                    "bearer ",
                    "secret:",
                    "xoxb-",
                    "eyJ",
                    "aws",
                    "token=",
                    "api-key:",
                    _END,
                ]
            )
            + " "
        )
        * (n // 110),
        "Markdown-escaped tokens": ("ghp\\_" + "\\-" * 20 + "\\:") * (n // 48),
        "URL passwords": ("a://b:c@" * n)[:n],
        # one of each keyword makes a line run every rule: a long line is scanned by each
        "all keywords once, padded": (" ".join(_ALL_KEYWORDS) + " " * n)[:n],
        "all keywords, 1 KB lines": ((" ".join(_ALL_KEYWORDS) + " ")[:1000] + "\n") * (n // 1001),
        "`token: a` short lines": ("token: a\n" * n)[:n],
        "`k=ghp_...` short lines": ("k=ghp_" + "a" * 36 + "\n") * (n // 43),
        "token runs, short lines": ("A1" * 10 + "\n") * (n // 21),
        "`aws <40 chars>` lines": ("aws " + _rnd(40, string.ascii_letters + string.digits) + "\n") * (n // 45),
        "`&sig=` one line": ("&sig=" * n)[:n],
        "`bearer ` one line": ("bearer " * n)[:n],
        "backslashes": "\\" * n,
    }


def worst(mb: float, repeat: int) -> None:
    n = int(mb * 1e6)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"hostile inputs of {mb:g} MB: MB per CPU second (best of {repeat}, untraced), tracemalloc peak / input "
        f"size (one more run), lines withheld as too dense; load average {load} on {os.cpu_count()} CPUs"
    )
    print(f"{'shape':34} {'MB':>6} {'MB/s':>8} {'peak':>8} {'withheld':>9}")
    rates = []
    for name, text in worst_shapes(n).items():
        rates.append(measure(lambda t=text: Redactor(run_secrets=RUN_SECRETS).redact(t), len(text), repeat))
        redactor = Redactor(run_secrets=RUN_SECRETS)
        tracemalloc.start()
        out = redactor.redact(text)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        withheld = out.count(":dense:")
        print(f"{name:34} {len(text) / 1e6:6.2f} {rates[-1]:8.2f} {peak / len(text):7.1f}x {withheld:9d}", flush=True)
    print(f"worst: {min(rates):.2f} MB/s")


def measure(fn: Callable[[], object], size: int, repeat: int) -> float:
    """MB per CPU second of this process, best of `repeat`: on a shared machine wall time mostly measures
    the other processes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return size / max(best, 1e-9) / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=30.0, help="size of the generated diff in MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case; the best is reported")
    parser.add_argument(
        "--worst", type=float, default=0, metavar="MB", help="instead: hostile inputs of this size, per shape"
    )
    args = parser.parse_args()
    if args.worst:
        worst(args.worst, args.repeat)
        return 0

    cases = [("generated code diff", generated_diff(int(args.mb * 1e6)))]
    if REAL_DIFFS.is_dir():
        cases += [
            (p.name, p.read_text(encoding="utf-8", errors="replace"))
            for p in sorted(REAL_DIFFS.glob("*.diff"))
            if p.stat().st_size > 10_000
        ]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"MB per CPU second, best of {args.repeat}; load average {load} on {os.cpu_count()} CPUs")
    print(f"{'input':48} {'MB':>6} {'redact() MB/s':>14} {'hunk MB':>8} {'per hunk MB/s':>14} {'secrets':>8}")
    for name, text in cases:
        size = len(text.encode())
        redactor = Redactor(run_secrets=RUN_SECRETS)
        whole = measure(lambda t=text, r=redactor: r.redact(t), size, args.repeat)
        blocks = list(hunks(text))
        hunk_size = sum(len(line.encode()) + 1 for h in blocks for line in h)
        per_hunk = "-"
        if hunk_size > size // 10:  # a binary patch has no hunks to speak of
            rate = measure(lambda b=blocks, r=redactor: [r.redact_lines(h) for h in b], hunk_size, args.repeat)
            per_hunk = f"{rate:.1f}"
        print(
            f"{name[:48]:48} {size / 1e6:6.2f} {whole:14.1f} {hunk_size / 1e6:8.2f} {per_hunk:>14} {redactor.total:8d}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
