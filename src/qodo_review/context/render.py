"""The "Related code" section of a prompt: the ranked candidates cut to one call's budget (lines and tokens),
deduplicated and merged where they touch, then numbered, labelled and redacted. Pure: the redactor is passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..redact import Redactor
from ..tokens import estimate_tokens
from .resolve import Snippet

HEADING = (
    "## Related code\n"
    "Read-only context from the repository at the head commit, not part of the change: definitions the change "
    "is in or uses, and code that calls what it changes. Do not review or cite these lines; every finding must "
    "point at a line of the diff above."
)
LINE_NUMBER_TOKENS = 2  # "  42 | " before each line
MAX_CONTEXT_LINE_CHARS = 400  # context is not reviewed: a longer line (minified code, data) is cut, marked " …"


@dataclass(frozen=True)
class Block:
    """Lines start..end of one file as shown, and why they are there."""

    path: str
    start: int
    end: int
    why: tuple[str, ...]

    @property
    def lines(self) -> int:
        return self.end - self.start + 1


def pick(
    snippets: Sequence[Snippet],
    texts: Mapping[str, Sequence[str]],
    serves: Collection[str],
    *,
    max_lines: int,
    max_tokens: int,
) -> list[Block]:
    """The best snippets for the files of one call, best rank first, within both budgets: a snippet that does
    not fit is left whole (never cut), and a smaller one after it may still fit. Overlapping or adjacent
    snippets of a file are merged; a line is counted once."""
    taken: dict[str, list[tuple[int, int, str]]] = {}
    used_lines = used_tokens = 0
    for s in sorted((s for s in snippets if s.serves in serves), key=lambda s: (s.rank, s.order)):
        lines = texts.get(s.path)
        if lines is None:
            continue
        end = min(s.end, len(lines))
        if s.start > end:
            continue
        new = [n for n in range(s.start, end + 1) if not any(a <= n <= b for a, b, _ in taken.get(s.path, ()))]
        if not new:  # already shown: only its reason is added
            if s.why:
                taken.setdefault(s.path, []).append((s.start, end, s.why))
            continue
        cost = sum(estimate_tokens(lines[n - 1]) + LINE_NUMBER_TOKENS for n in new)
        if used_lines + len(new) > max_lines or used_tokens + cost > max_tokens:
            continue
        used_lines += len(new)
        used_tokens += cost
        taken.setdefault(s.path, []).append((s.start, end, s.why))
    return [block for path, spans in taken.items() for block in _merge(path, spans)]


def _merge(path: str, spans: list[tuple[int, int, str]]) -> list[Block]:
    out: list[Block] = []
    for start, end, why in sorted(spans):
        if out and start <= out[-1].end + 1:
            last = out[-1]
            reasons = last.why + ((why,) if why and why not in last.why else ())
            out[-1] = Block(path, last.start, max(last.end, end), reasons)
        else:
            out.append(Block(path, start, end, (why,) if why else ()))
    return out


def render_related(blocks: Sequence[Block], texts: Mapping[str, Sequence[str]], redactor: Redactor) -> str:
    """The section, or "" when there is nothing to show. Each block is redacted whole (a secret spanning lines,
    a PEM block, is only recognised whole), its path too."""
    if not blocks:
        return ""
    parts = [HEADING]
    for block in blocks:
        lines = list(texts[block.path][block.start - 1 : block.end])
        # redacted before it is cut: a cut through a secret leaves a prefix no rule recognises
        shown = [
            t if len(t) <= MAX_CONTEXT_LINE_CHARS else t[:MAX_CONTEXT_LINE_CHARS] + " …"
            for t in redactor.redact_lines(lines)
        ]
        width = len(str(block.end))
        why = f" ({'; '.join(block.why)})" if block.why else ""
        body = "\n".join(f"{n:>{width}} | {text}" for n, text in enumerate(shown, block.start))
        parts.append(f"### {redactor.redact(block.path)}, lines {block.start}-{block.end}{why}\n{body}")
    return "\n\n".join(parts)
