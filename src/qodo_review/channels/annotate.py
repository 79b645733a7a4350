"""The verdict without a check run: workflow-command annotations and one explanation of the missing permission.

Used when the token may not write checks (a read-only token, a fork's `pull_request` run): the exit
code, these annotations and the job summary still carry the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..models import Finding, Severity
from ..output import Out

KIND = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}
MAX_MESSAGE_CHARS = 1000

MISSING_CHECKS_PERMISSION = """\
qodo-review could not create its `qodo-review` check run: the workflow token may not write checks \
(GitHub answered HTTP {status}). The verdict is still in this step's exit code, its annotations and the job \
summary. To get the check on the pull request (and to require it for merging), give the job these permissions:

```yaml
permissions:
  contents: read
  pull-requests: write
  checks: write
```

Under `pull_request`, GitHub makes the token of a pull request from a fork read-only whatever the workflow \
says: a maintainer's `/review` comment runs with the base repository's token instead."""


@dataclass(frozen=True)
class Annotation:
    kind: str  # error | warning | notice
    path: str
    line: int | None
    end_line: int | None
    title: str
    message: str


def plan_annotations(findings: Sequence[Finding], room: Callable[[str], int]) -> tuple[list[Annotation], int]:
    """Annotations for the findings, worst first, each kind within the room GitHub leaves this step.

    Returns the annotations and how many findings got none. Lines are given for the head's side only:
    a finding on a removed line is annotated on its file.
    """
    left = {kind: room(kind) for kind in set(KIND.values())}
    chosen: list[Annotation] = []
    for f in sorted(findings, key=lambda f: -f.severity.rank):
        kind = KIND[f.severity]
        if not f.path or left[kind] <= 0:
            continue
        left[kind] -= 1
        on_head = f.side == "RIGHT" and f.line is not None
        chosen.append(
            Annotation(
                kind,
                f.path,
                f.line if on_head else None,
                f.end_line if on_head else None,
                f"qodo-review: {f.severity.value} {f.category}",
                f"{f.title}: {f.body}"[:MAX_MESSAGE_CHARS],
            )
        )
    return chosen, len(findings) - len(chosen)


def report_without_check(out: Out, findings: Sequence[Finding], status: int, findings_file: str) -> None:
    """The one explanation first (so no limit can drop it), then the annotations, then one line for the rest."""
    explanation = MISSING_CHECKS_PERMISSION.format(status=status or 403)
    out.warning(explanation)
    out.summary(f"### ⚠️ No check run\n\n{explanation}")
    # One notice is kept for the line about the rest.
    annotations, rest = plan_annotations(findings, lambda kind: out.room(kind) - (kind == "notice"))
    for a in annotations:
        out.annotate(a.kind, a.message, file=a.path, line=a.line, end_line=a.end_line, title=a.title)
    if rest:
        out.notice(
            f"{rest} more finding(s) are not annotated: GitHub shows at most 10 annotations of each kind "
            f"per step. All of them are in the job summary and in {findings_file}."
        )
