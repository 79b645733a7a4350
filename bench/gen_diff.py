"""A deterministic generator of large, realistic `git diff` output, for benchmarks of the diff stage.

`generate_diff()` with its defaults gives a huge PR: ~1,000 files, ~900,000 changed lines, ~33 MB.
Changed lines are spread over files with a heavy tail (a few vendored giants, many small edits),
and the mix of statuses (modified, added, deleted, renamed, binary, mode-only) follows real PRs.
The same parameters always give the same text, so numbers are comparable between runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_WORDS = (
    "self",
    "value",
    "result",
    "config",
    "request",
    "response",
    "items",
    "index",
    "count",
    "buffer",
    "token",
    "client",
    "handler",
    "context",
    "payload",
    "options",
    "errors",
    "logger",
    "cache",
    "state",
    "return",
    "if",
    "for",
    "await",
    "yield",
    "None",
    "True",
    "len",
    "str",
    "dict",
    "list",
    "int",
)
_PUNCT = (" = ", "(", ")", ", ", ".", " + ", " == ", ": ", "[", "]", " if ", " else ", "  # ")


@dataclass(frozen=True, slots=True)
class DiffShape:
    """What was generated: for asserting a benchmark parsed what it was given."""

    files: int
    added: int
    removed: int
    size: int


def _line_pool(rng: random.Random, size: int, mean_width: int) -> list[str]:
    """Code-like lines without a newline; their mean length is close to mean_width."""
    pool = []
    for _ in range(size):
        width = max(1, int(rng.gauss(mean_width, mean_width / 2)))
        indent = " " * (4 * rng.randint(0, 3))
        parts: list[str] = [indent]
        length = len(indent)
        while length < width:
            piece = rng.choice(_WORDS) + rng.choice(_PUNCT)
            parts.append(piece)
            length += len(piece)
        pool.append("".join(parts).rstrip())
    return pool


def _weights(rng: random.Random, files: int, total: int) -> list[int]:
    """Changed lines per file: Pareto-distributed, summing exactly to total (each file at least 1)."""
    raw = [rng.paretovariate(1.1) for _ in range(files)]
    scale = (total - files) / sum(raw)
    counts = [1 + int(w * scale) for w in raw]
    counts[0] += total - sum(counts)  # rounding remainder to the first file
    return counts


def generate_diff(
    files: int = 1000,
    changed_lines: int = 900_000,
    seed: int = 0,
    mean_width: int = 27,
    context: int = 3,
    max_hunk: int = 80,
) -> tuple[str, DiffShape]:
    """A `git diff`-style text with `files` files and `changed_lines` +/- lines, and its shape.

    Every hunk has `context` lines of context on both sides and at most `max_hunk` changed lines.
    About 1% of files are binary and 1% mode-only; those carry no changed lines.
    """
    rng = random.Random(seed)
    pool = _line_pool(rng, 4096, mean_width)
    out: list[str] = []
    added = removed = carry = 0
    for number, weight in enumerate(_weights(rng, files, changed_lines)):
        path = f"src/pkg{number % 37}/module_{number}.py"
        budget, carry = weight + carry, 0
        roll = rng.random()
        if roll < 0.02:  # binary and mode-only files: their budget goes to the next text file
            carry = budget
        if roll < 0.01:
            out.append(
                f"diff --git a/{path}.png b/{path}.png\nindex 1a2b3c4..5d6e7f8 100644\n"
                f"Binary files a/{path}.png and b/{path}.png differ\n"
            )
            continue
        if roll < 0.02:
            out.append(f"diff --git a/{path}.sh b/{path}.sh\nold mode 100644\nnew mode 100755\n")
            continue
        if roll < 0.09:
            out.append(
                f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1a2b3c4\n"
                f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{budget} @@\n"
            )
            out.extend("+" + line + "\n" for line in rng.choices(pool, k=budget))
            added += budget
            continue
        if roll < 0.12:
            out.append(
                f"diff --git a/{path} b/{path}\ndeleted file mode 100644\nindex 1a2b3c4..0000000\n"
                f"--- a/{path}\n+++ /dev/null\n@@ -1,{budget} +0,0 @@\n"
            )
            out.extend("-" + line + "\n" for line in rng.choices(pool, k=budget))
            removed += budget
            continue
        old_path = f"src/old{number % 11}/module_{number}.py" if roll < 0.15 else path
        out.append(f"diff --git a/{old_path} b/{path}\n")
        if old_path != path:
            out.append(f"similarity index 87%\nrename from {old_path}\nrename to {path}\n")
        out.append(f"index 1a2b3c4..5d6e7f8 100644\n--- a/{old_path}\n+++ b/{path}\n")
        plus, minus = _hunks(rng, pool, out, budget, context, max_hunk)
        added += plus
        removed += minus
    if carry:  # the last file was binary or mode-only: keep the promised total anyway
        out.append(
            f"diff --git a/LAST b/LAST\nnew file mode 100644\n--- /dev/null\n+++ b/LAST\n@@ -0,0 +1,{carry} @@\n"
        )
        out.extend("+" + line + "\n" for line in rng.choices(pool, k=carry))
        added += carry
        files += 1
    text = "".join(out)
    return text, DiffShape(files=files, added=added, removed=removed, size=len(text))


def _hunks(
    rng: random.Random, pool: list[str], out: list[str], budget: int, context: int, max_hunk: int
) -> tuple[int, int]:
    """Append hunks spending `budget` changed lines; return (added, removed)."""
    old = new = 1 + rng.randint(0, 40)
    added = removed = 0
    while budget > 0:
        size = min(budget, rng.randint(1, max_hunk))
        budget -= size
        plus = rng.randint(0, size)
        minus = size - plus
        out.append(f"@@ -{old},{minus + 2 * context} +{new},{plus + 2 * context} @@ def function_{old}():\n")
        out.extend(" " + line + "\n" for line in rng.choices(pool, k=context))
        out.extend("-" + line + "\n" for line in rng.choices(pool, k=minus))
        out.extend("+" + line + "\n" for line in rng.choices(pool, k=plus))
        out.extend(" " + line + "\n" for line in rng.choices(pool, k=context))
        added += plus
        removed += minus
        gap = rng.randint(5, 200)
        old += minus + 2 * context + gap
        new += plus + 2 * context + gap
    return added, removed
