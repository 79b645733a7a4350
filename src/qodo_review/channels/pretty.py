"""The CLI's rendered output on a terminal (rich): headings, a coloured verdict, a findings table, each finding
with its Markdown body and its suggestion as highlighted code, then coverage and what left the machine.

rich is imported here only, and only when this output is asked for. Every string from the PR or the model goes
into a ``Text`` or a ``Markdown`` (never into rich markup), cleaned of escape sequences, controls and bidi
characters first (``log_safe``), so a title cannot style, move or hide anything on the terminal; Markdown links
are shown with their address (no terminal hyperlink hides where one points).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from ..models import Finding, Severity
from ..outcome import Outcome
from ..sanitize import log_safe

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "blue",
    Severity.INFO: "dim",
}
_DETAILS = re.compile(r"</?details>|<summary>(.*?)</summary>|<!--.*?-->", re.DOTALL)


def console(stream: IO[str], *, width: int, color: bool, record: bool = False) -> Console:
    """A console writing to `stream`: colours only when asked (a terminal, not NO_COLOR), a fixed width."""
    from rich.console import Console

    return Console(
        file=stream,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
        markup=False,
        record=record,
        legacy_windows=False,
        soft_wrap=False,
    )


def clean(text: str) -> str:
    return log_safe(text).replace("\u200b", "")


def where(finding: Finding) -> str:
    if not finding.path:
        return "(no file)"
    if finding.line is None:
        return finding.path
    end = finding.end_line
    span = f"{finding.line}" if end in (None, finding.line) else f"{finding.line}-{end}"
    return f"{finding.path}:{span}" + (" (old)" if finding.side == "LEFT" else "")


def review_renderables(outcome: Outcome[Any], *, tail: str = "") -> Iterator[RenderableType]:
    """The review, top to bottom. `tail` is plain text printed last (the dry-run printout, how to set a key)."""
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.table import Table
    from rich.text import Text

    title = "qodo-review" + (" (dry run)" if outcome.dry_run else "")
    yield Rule(Text(title, style="bold"), align="left")
    yield verdict_text(outcome)
    if outcome.gate_reason:
        yield Text("⛔ " + clean(outcome.gate_reason), style="red")
    for error in outcome.errors:
        yield Text("⚠ " + clean(error), style="red")
    for notice in outcome.notices:
        yield Text("› " + clean(notice), style="dim")
    if outcome.summary:
        yield Text("")
        yield Markdown(clean(outcome.summary), hyperlinks=False)
    if outcome.findings:
        table = Table(show_header=True, header_style="bold", expand=False, box=None, pad_edge=False)
        for name in ("Severity", "Where", "Category", "Finding"):
            table.add_column(name, overflow="fold")
        for f in outcome.findings:
            table.add_row(
                Text(f.severity.value, style=STYLE[f.severity]), Text(clean(where(f))), f.category, Text(clean(f.title))
            )
        yield Text("")
        yield table
        for f in outcome.findings:
            yield from finding_renderables(f)
    outside = [*outcome.placed.outside, *outcome.not_inline]
    if outside:
        yield Text("")
        yield Rule(Text("Outside the diff", style="bold"), align="left", style="dim")
        for f, why in outside:
            yield Text.assemble((f"{f.severity.value} ", STYLE[f.severity]), clean(f"{where(f)}: {f.title} ({why})"))
    if outcome.unverifiable:
        yield Text("")
        yield Rule(Text("On paths that do not exist (not counted)", style="bold"), align="left", style="dim")
        for f, why in outcome.unverifiable:
            yield Text(clean(f"{f.severity.value} {where(f)}: {f.title} ({why})"), style="dim")
    yield Text("")
    yield from coverage_renderables(outcome)
    if tail:
        yield Text("")
        yield Text(clean(tail))


def verdict_text(outcome: Outcome[Any]) -> RenderableType:
    from rich.text import Text

    worst = outcome.max_severity
    gate = f"fail-on {outcome.fail_on.value}" if outcome.fail_on else "no gate"
    failed = outcome.verdict == "fail"
    # A dry run reviewed nothing and an incomplete review is not a pass: neither is ever shown next to one.
    if outcome.dry_run:
        parts: list[tuple[str, str] | str] = [("○ not reviewed (dry run)", "bold")]
    elif not outcome.complete:
        parts = [("⚠ incomplete", "bold yellow")]
        if failed:
            parts += [" · ", ("✖ fail", "bold red")]
    else:
        parts = [("✖ fail", "bold red") if failed else ("✔ pass", "bold green")]
    n = len(outcome.findings)
    parts.append(f" · {n} finding{'s' if n != 1 else ''} · worst: {worst.value if worst else 'none'} · {gate}")
    return Text.assemble(*parts)


def finding_renderables(f: Finding) -> Iterator[RenderableType]:
    from rich.markdown import Markdown
    from rich.rule import Rule
    from rich.syntax import Syntax
    from rich.text import Text

    yield Text("")
    head = Text.assemble((f" {f.severity.value} ", f"reverse {STYLE[f.severity]}"), " ", (clean(f.title), "bold"))
    yield Rule(head, align="left", style=STYLE[f.severity])
    yield Text(clean(f"{where(f)} · {f.category}" + (" · secret scan" if f.source == "secret-scan" else "")), "dim")
    if f.body.strip():
        yield Markdown(clean(f.body), hyperlinks=False)
    if f.suggestion is not None:
        yield Text("")
        yield Text("Suggested change:", style="bold")
        lexer = Syntax.guess_lexer(f.path or "x.txt", code=f.suggestion) if f.path else "text"
        yield Syntax(
            clean(f.suggestion),
            lexer,
            theme="ansi_dark",
            line_numbers=f.line is not None,
            start_line=f.line or 1,
            word_wrap=True,
            background_color="default",
        )


def coverage_renderables(outcome: Outcome[Any]) -> Iterator[RenderableType]:
    from rich.text import Text

    coverage = outcome.coverage
    files = len({path for path, _ in coverage.reviewed})
    lines = sum(n for _, n in coverage.reviewed)
    verb = "Prepared" if outcome.dry_run else "Reviewed"
    usage = outcome.usage
    yield Text(
        f"{verb} {files:,} of {outcome.files_total:,} files, {lines:,} of {outcome.lines_total:,} changed lines · "
        f"{usage.calls:,} model call{'s' if usage.calls != 1 else ''} · tokens {usage.tokens_in:,} in, "
        f"{usage.tokens_out:,} out",
        style="dim",
    )
    for s in coverage.not_reviewed:
        yield Text(clean(f"not reviewed: {s.path}: {s.reason}"), style="yellow")
    others = [s for s in outcome.skipped if s.kind != "not-reviewed"]
    if others:
        shown = ", ".join(clean(s.path) for s in others[:10]) + (
            f" and {len(others) - 10} more" if len(others) > 10 else ""
        )
        yield Text(f"Not sent (ignored or withheld): {shown}", style="dim")
    m = outcome.manifest
    redactions = ", ".join(f"{kind} × {n}" for kind, n in sorted(m.redactions.items())) or "none"
    verb = "Would be sent" if outcome.dry_run else ("Sent" if m.sent else "Nothing was sent")
    yield Text(
        clean(f"{verb} to {m.provider_host or 'no provider'} ({m.model or '-'}); secrets redacted: {redactions}."),
        style="dim",
    )


def tool_renderables(outcome: Outcome[Any], markdown: str, *, tail: str = "") -> Iterator[RenderableType]:
    """A tool's (describe, improve, ask) Markdown, rendered; HTML details blocks become plain headings."""
    from rich.markdown import Markdown
    from rich.text import Text

    text = _DETAILS.sub(lambda m: f"**{m[1]}**" if m[1] else "", clean(markdown))
    yield Markdown(text, hyperlinks=False)
    if tail:
        yield Text("")
        yield Text(clean(tail))


def render(
    stream: IO[str],
    outcome: Outcome[Any],
    *,
    markdown: str = "",
    tail: str = "",
    width: int = 100,
    color: bool = False,
    record: bool = False,
) -> Console:
    """Print the outcome on `stream`; returns the console (with record=True, for an SVG of the output)."""
    con = console(stream, width=width, color=color, record=record)
    items = (
        review_renderables(outcome, tail=tail) if outcome.is_review else tool_renderables(outcome, markdown, tail=tail)
    )
    for item in items:
        con.print(item)
    return con
