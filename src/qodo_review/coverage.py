"""Coverage accounting: the one place that decides whether a review is complete and whether a gate may pass.

Every changed file of a review is, for each of its changed lines, in exactly one class:

- reviewed: shown to the model, and the model answered (prepared, in a dry run);
- exempt: ignored by the base branch's `ignore` list (listed, never counted);
- ignored: a built-in cost saving for content that holds no code (lock files, images, binary assets...),
  or a file without content changes (listed, never counted);
- withheld: a secret by nature (never sent; the secret scan flags it);
- not reviewed, content reason: something the PR controls kept it from the model (binary content in a
  source file, a generated marker on a large file, an extremely long line, a built-in ignore of code) or
  it was shown but could not be verified (read from git past GitHub's file list). `allow-partial: true`
  in the base config accepts these;
- not reviewed, hard: a failed model call, max-calls, max-cost (a call not made because it could have passed
  the run's cost cap), a file GitHub did not give. Nothing accepts these.

`complete` is true when nothing is counted not reviewed and no call failed. A gated run fails when the
coverage is not `gate_ok`. Outcome.complete, Outcome.verdict, the check conclusion and the exit code are all
read from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import Skipped

ALLOW_PARTIAL_HINT = (
    "set `allow-partial: true` in the base branch's .qodo.yml to accept content the model "
    "could not be shown, or list the paths under `ignore` there"
)


@dataclass(frozen=True)
class Coverage:
    """What the model saw of a review, by class; see the module docstring."""

    reviewed: tuple[tuple[str, int], ...]  # (path, changed lines) shown and answered
    skipped: tuple[Skipped, ...]
    errors: int  # failed model calls and other problems that left part of the review undone
    allow_partial: bool = False

    @classmethod
    def of(
        cls,
        reviewed: Iterable[tuple[str, int]],
        skipped: Iterable[Skipped],
        errors: Sequence[str],
        allow_partial: bool = False,
    ) -> Coverage:
        return cls(tuple(reviewed), tuple(skipped), len(errors), allow_partial)

    @property
    def not_reviewed(self) -> tuple[Skipped, ...]:
        return tuple(s for s in self.skipped if s.kind == "not-reviewed")

    @property
    def blocking(self) -> tuple[Skipped, ...]:
        """What keeps a gate from passing: every not-reviewed row but the content ones allow-partial accepts."""
        return tuple(s for s in self.not_reviewed if not (s.content and self.allow_partial))

    @property
    def complete(self) -> bool:
        """Every changed line not exempted, ignored as an asset or withheld was shown to the model, and
        every call answered."""
        return self.errors == 0 and not self.not_reviewed

    @property
    def gate_ok(self) -> bool:
        """Whether a gated run may pass on coverage (findings are judged elsewhere)."""
        return self.errors == 0 and not self.blocking

    @property
    def not_reviewed_files(self) -> int:
        return sum(s.files for s in self.not_reviewed)

    def rows(self) -> list[dict[str, object]]:
        """Every file not reviewed, exempt, ignored or withheld, with its reason: the findings file's list."""
        return [
            {
                "path": s.path,
                "reason": s.reason,
                "lines": s.lines,
                "kind": s.kind,
                "files": s.files,
                "content_reason": s.content,
                "shown": s.shown,
            }
            for s in self.skipped
        ]

    def summary(self) -> dict[str, object]:
        """The findings file's `coverage` object: complete, gate_ok and the counts by class."""
        return {
            "complete": self.complete,
            "gate_ok": self.gate_ok,
            "allow_partial": self.allow_partial,
            "reviewed_files": len({path for path, _ in self.reviewed}),
            "reviewed_lines": sum(n for _, n in self.reviewed),
            "not_reviewed_files": self.not_reviewed_files,
            "not_reviewed_lines": sum(s.lines for s in self.not_reviewed),
            "blocking_files": sum(s.files for s in self.blocking),
        }

    def gate_reason(self) -> str:
        """Why the gate fails on coverage, naming every reason with its file count; "" when it does not."""
        if self.gate_ok:
            return ""
        parts = []
        if self.errors:
            parts.append(f"{self.errors} problem{'s' if self.errors != 1 else ''} left part of the review undone")
        counts: dict[str, int] = {}
        for s in self.blocking:
            counts[s.reason] = counts.get(s.reason, 0) + s.files
        files = sum(counts.values())
        if counts:
            listed = "; ".join(f"{reason} ({n})" for reason, n in counts.items())
            parts.append(f"{files} file{'s' if files != 1 else ''} not reviewed: {listed}")
        text = "The gate fails because the review is incomplete: " + "; ".join(parts) + "."
        if any(s.content for s in self.blocking):
            text += f" To accept it, {ALLOW_PARTIAL_HINT}."
        return text
