"""Markdown for every channel, from an Outcome. Pure: strings in, strings out, tested exactly.

Model-written text always passes through sanitize_markdown; PR-written names through plain()
or inline_code(). The size limits of each channel are applied here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .cost import PRICES_DATE, cost_line
from .findings import fingerprint
from .limits import STEP_SUMMARY_MAX
from .models import Finding, Severity, Skipped
from .outcome import Outcome
from .sanitize import HIDDEN_MARKER_PREFIX, inline_code, plain, sanitize_markdown, suggestion_block
from .state import Entry

SUMMARY_MARKER = f"{HIDDEN_MARKER_PREFIX}:summary -->"
ICONS = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.MEDIUM: "🟡", Severity.LOW: "🔵", Severity.INFO: "⚪"}


def fingerprint_digest(finding: Finding) -> str:
    """The finding's fingerprint as our inline comments carry it (16 hex digits)."""
    return hashlib.sha256(fingerprint(finding).encode("utf-8", "replace")).hexdigest()[:16]


def fingerprint_marker(finding: Finding) -> str:
    return f"{HIDDEN_MARKER_PREFIX}:fp={fingerprint_digest(finding)} -->"


def location(finding: Finding) -> str:
    if not finding.path:
        return "(no file)"
    if finding.line is None:
        return inline_code(finding.path)
    span = f"{finding.line}" if finding.end_line in (None, finding.line) else f"{finding.line}-{finding.end_line}"
    side = " (old)" if finding.side == "LEFT" else ""
    return inline_code(f"{finding.path}:{span}") + side


def finding_comment(finding: Finding, host: str) -> str:
    """The body of one inline review comment."""
    parts = [
        f"{ICONS[finding.severity]} **{finding.severity.value.capitalize()} · {finding.category}:** "
        f"{plain(finding.title, 200)}",
        "",
        sanitize_markdown(finding.body, repo=host, max_chars=8000),
    ]
    if finding.suggestion is not None:
        parts += ["", suggestion_block(finding.suggestion)]
    parts += ["", fingerprint_marker(finding)]
    return "\n".join(parts)


def outside_section(outside: Sequence[tuple[Finding, str]], host: str) -> str:
    if not outside:
        return ""
    out = ["### Findings outside the diff", "These could not be placed on a changed line, so they are listed here."]
    for finding, why in outside:
        out.append(
            f"- {ICONS[finding.severity]} **{plain(finding.title, 150)}** at {location(finding)} ({plain(why, 80)})"
        )
        body = sanitize_markdown(finding.body, repo=host, max_chars=1500).replace("\n", "\n  ")
        if body:
            out.append(f"  {body}")
    return "\n".join(out)


def unverifiable_section(items: Sequence[tuple[Finding, str]], host: str) -> str:
    """Findings on paths that do not exist (a hallucinated file, the template's placeholder): listed, never
    inline, never counted toward fail-on."""
    if not items:
        return ""
    n = len(items)
    out = [
        f"### {n} finding{'s' if n != 1 else ''} on paths that do not exist",
        "The model cited files that are neither in this pull request nor in the repository at the head commit. "
        "They are not posted inline and do not count toward fail-on.",
    ]
    for finding, why in items:
        out.append(
            f"- {ICONS[finding.severity]} {finding.severity.value}: **{plain(finding.title, 150)}** "
            f"at {location(finding)} ({plain(why, 100)})"
        )
        body = sanitize_markdown(finding.body, repo=host, max_chars=1500).replace("\n", "\n  ")
        if body:
            out.append(f"  {body}")
    return "\n".join(out)


# (kind, title): "exempt" (the base config's ignore list) reads as ignored, its reason names the pattern.
COVERAGE_KINDS = (
    ("ignored", "Ignored"),
    ("exempt", "Ignored"),
    ("withheld", "Withheld"),
    ("not-reviewed", "⚠️ Not reviewed"),
)
ACCEPTED_TITLE = "Not reviewed (accepted by allow-partial)"
STAGE_LABELS = {"model": "model calls", "context": "related code"}
LISTED_IN_COMMENT = 200  # files named per list in the summary comment and the check; the rest are counted
# The job summary names every file not reviewed while the list fits a quarter of GitHub's 1 MiB step summary
# (about 2,500 rows); the rest of the summary (findings, what left the runner) must fit too. The findings file always
# names every one.
LISTING_MAX_BYTES = STEP_SUMMARY_MAX // 4


def _by_reason(items: Iterable[Skipped], kind: str) -> list[tuple[str, int, int, bool]]:
    """(reason, files, changed lines, content reason) of one kind, in first-seen order."""
    rows: dict[str, list[int]] = {}
    for s in items:
        if s.kind == kind:
            reason = s.reason.removeprefix(f"{kind}: ")
            row = rows.setdefault(reason, [0, 0, 1])
            row[0] += s.files
            row[1] += s.lines
            row[2] &= s.content
    return [(reason, files, lines, bool(content)) for reason, (files, lines, content) in rows.items()]


def _listing(items: Sequence[Skipped], limit: int | None, more: str) -> list[str]:
    """One row per file; with no limit (the job summary), as many rows as fit LISTING_MAX_BYTES."""
    out: list[str] = []
    size = 0
    for s in items if limit is None else items[:limit]:
        row = f"- {inline_code(s.path)}: {plain(s.reason, 160)}"
        size += len(row.encode()) + 1
        if limit is None and size > LISTING_MAX_BYTES:
            break
        out.append(row)
    if len(items) > len(out):
        out.append(f"- …and {len(items) - len(out):,} more{more}")
    return out


def coverage_section(report: Outcome[Any], *, list_all: bool = False) -> str:
    """Files and changed lines reviewed / ignored / withheld / not reviewed, each with its reason; the
    calls, tokens and time per stage. The line counts add up to the PR's total. Every file not reviewed is
    named with its reason: all of them when list_all (the job summary), else the first LISTED_IN_COMMENT."""
    coverage = report.coverage
    done = coverage.reviewed
    # never a check mark in an incomplete review (issue 13): its verdict line says "incomplete" first
    label = "Prepared (dry run)" if report.dry_run else "✅ Reviewed" if report.complete else "Reviewed"
    rows = [
        "| | Files | Changed lines |",
        "|---|---:|---:|",
        f"| {label} | {len({path for path, _ in done}):,} | {sum(n for _, n in done):,} |",
    ]
    for kind, title in COVERAGE_KINDS:
        for reason, files, lines, content in _by_reason(report.skipped, kind):
            shown = ACCEPTED_TITLE if content and report.allow_partial else title
            rows.append(f"| {shown}: {plain(reason, 120)} | {files:,} | {lines:,} |")
    rows.append(f"| **Total in PR** | {report.files_total:,} | {report.lines_total:,} |")
    facts = [
        f"Model calls: {report.usage.calls:,}"
        + (f" ({report.calls_planned:,} planned)" if report.calls_planned != report.usage.calls else ""),
        f"tokens in {report.usage.tokens_in:,}, out {report.usage.tokens_out:,}",
    ]
    if report.source:
        facts.insert(0, f"Diff read from {report.source}")
    text = "\n".join(rows) + "\n\n" + " · ".join(facts) + "."
    if not report.dry_run:
        text += "\n\n" + cost_paragraph(report)
    if report.timings:
        text += "\n\n" + timings_line(report.timings)
    limit = None if list_all else LISTED_IN_COMMENT
    missing = coverage.not_reviewed
    if missing:
        names = _listing(missing, limit, " (the job summary and the findings file name every one)")
        text += "\n\n**Not reviewed, and why:**\n" + "\n".join(names)
    others = [s for s in report.skipped if s.kind != "not-reviewed"]
    if others:
        details = _listing(others, LISTED_IN_COMMENT, " (the findings file names every one)")
        text += "\n\n<details><summary>Files not sent, and why</summary>\n\n" + "\n".join(details) + "\n\n</details>"
    return text


def cost_paragraph(report: Outcome[Any]) -> str:
    """'Cost ≈ $0.043: 38,210 tokens in (12,004 cached), 2,115 out', or 'Cost unknown: ...' and the fix."""
    line = cost_line(report.usage, report.cost)
    if report.cost is None:
        return (
            f"Cost {line.removeprefix('cost ')} (model {inline_code(report.manifest.model or '-')} is not in the "
            f"price table of {PRICES_DATE}; `prices:` in .qodo.yml sets its price)."
        )
    return f"Cost {line} (list prices of {PRICES_DATE})."


def gate_line(report: Outcome[Any]) -> str:
    """Why a gated review fails on coverage, or ""."""
    reason = report.gate_reason
    return f"⛔ {plain(reason, 2000)}" if reason else ""


def timings_line(timings: Mapping[str, float]) -> str:
    """Time per stage; prompt building happens inside the model-call stage, in its threads."""
    parts = [
        f"{STAGE_LABELS.get(name, name)} {seconds:.2f} s" for name, seconds in timings.items() if name != "prompts"
    ]
    if "prompts" in timings:
        parts.append(f"(building the prompts: {timings['prompts']:.2f} s of the model calls)")
    return "Time per stage: " + " · ".join(parts)


def manifest_section(report: Outcome[Any]) -> str:
    m = report.manifest
    redactions = ", ".join(f"{kind} × {n}" for kind, n in sorted(m.redactions.items())) or "none"
    files = sorted({path for path, _ in m.files})
    verb = "Would be sent" if report.dry_run else ("Sent" if m.sent else "Nothing was sent")
    lines = [
        f"- **{verb}** to `{m.provider_host or 'no provider'}`, model `{m.model or '-'}`: "
        f"{len(files)} files, {sum(n for _, n in m.files)} changed lines, PR title and description.",
        f"- Model calls: {report.usage.calls}; tokens in {report.usage.tokens_in}, out {report.usage.tokens_out}.",
        f"- Secrets redacted before sending: {redactions}.",
        *(f"- {plain(line, 1000)}." for line in m.guidance),  # the team's rules, sent with the calls
        *([f"- {m.related_line()}"] if m.related_line() else []),
        "- Nothing else left the runner: no telemetry, no other host, nothing stored after the job.",
    ]
    if m.token_hosts:
        hosts = ", ".join(inline_code(h) for h in m.token_hosts)
        lines.insert(1, f"- Access token requested from {hosts}: credentials only, no code.")
    if files:
        more = f" and {len(files) - 50} more" if len(files) > 50 else ""
        shown = ", ".join(inline_code(p) for p in files[:50]) + more
        lines.append(f"- Files sent: {shown}")
    if m.related:
        per_file: dict[str, int] = {}
        for path, count in m.related:
            per_file[path] = per_file.get(path, 0) + count
        more = f" and {len(per_file) - 50} more" if len(per_file) > 50 else ""
        rows = ", ".join(f"{inline_code(p)} ({n} lines)" for p, n in sorted(per_file.items())[:50])
        lines.append(f"- Related code read-only context from: {rows}{more}")
    return "\n".join(lines)


def verdict_line(report: Outcome[Any]) -> str:
    """The first line: pass / fail, and never "pass" for what was not reviewed: a dry run says so first, an
    incomplete review says "incomplete" first and never beside ✅."""
    worst = report.max_severity
    gate = f"fail-on `{report.fail_on.value}`" if report.fail_on else "no gate (fail-on: none)"
    fail = report.verdict == "fail"
    if report.dry_run:
        state = "🔍 **not reviewed (dry run)**" + (" · ❌ **fail**" if fail else "")
    elif not report.complete:
        state = "⚠️ **incomplete review**" + (" · ❌ **fail**" if fail else "")
    else:
        state = "❌ **fail**" if fail else "✅ **pass**"
    aside = f" (+{len(report.unverifiable)} on paths that do not exist)" if report.unverifiable else ""
    return f"{state} · {len(report.findings)} findings{aside} · worst: {worst.value if worst else 'none'} · {gate}"


def summary_markdown(
    report: Outcome[Any], host: str, *, job: bool = False, extra: Sequence[str] = (), scope: str = "", history: str = ""
) -> str:
    """The summary comment (job=False) or the job summary (job=True); `scope` says what was reviewed. The
    layout is layout.review_summary's (imported here, not at the top: layout builds on this module)."""
    from .layout import review_summary

    return review_summary(report, host, job=job, extra=extra, scope=scope, history=history)


def scope_line(since: str | None, reason: str, files: int) -> str:
    """Incremental or full, and why: shown under the verdict."""
    if since is not None:
        return f"Incremental: reviewed {files} file{'s' if files != 1 else ''} changed since `{since[:7]}`."
    return f"Full review ({reason})." if reason else ""


def history_section(entries: Sequence[Entry]) -> str:
    """The last reviews, newest first. The entries come from an editable comment: every value is escaped."""
    if not entries:
        return ""
    rows = ["### Review history", "| Commit | When (UTC) | Model | Verdict | Scope |", "|---|---|---|---|---|"]
    for e in reversed(entries):
        fail = "❌ fail" if e.verdict != "pass" else ""
        verdict = (fail or "✅ pass") if e.complete else "⚠️ incomplete" + (f", {fail}" if fail else "")
        rows.append(
            f"| {inline_code(e.sha[:7])} | {plain(e.time.replace('T', ' ').removesuffix('Z'), 30)} | "
            f"{inline_code(e.model) if e.model else '-'} | {verdict} | {plain(e.scope, 20)} |"
        )
    return "\n".join(rows)


def addressed_section(items: Sequence[tuple[str, str, bool]], host: str) -> str:
    """Earlier findings whose code changed: (our comment's first line, path, thread resolved now)."""
    if not items:
        return ""
    out = ["### Addressed since the last review"]
    for headline, path, resolved in items:
        state = "thread resolved" if resolved else "code changed; please resolve the thread"
        out.append(f"- {sanitize_markdown(headline, repo=host, max_chars=300)} at {inline_code(path)} ({state})")
    return "\n".join(out)


def cap_bytes(text: str, limit: int) -> str:
    """cap() for a limit in UTF-8 bytes (GitHub's step summary), cut at a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - len(CAP_NOTE.encode())].decode("utf-8", "ignore") + CAP_NOTE


def cap(text: str, limit: int) -> str:
    """Trim to a channel's limit, saying so."""
    if len(text) <= limit:
        return text
    return text[: limit - len(CAP_NOTE)] + CAP_NOTE


CAP_NOTE = "\n\n…(truncated to fit GitHub's limit; the findings file has everything)"


ANNOTATION_LEVEL = {
    Severity.CRITICAL: "failure",
    Severity.HIGH: "failure",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def check_annotations(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Check-run annotations (RIGHT-side, placed findings only: annotations point at the head's files)."""
    out = []
    for f in findings:
        if f.side != "RIGHT" or f.line is None or not f.path:
            continue
        out.append(
            {
                "path": f.path,
                "start_line": f.line,
                "end_line": f.end_line or f.line,
                "annotation_level": ANNOTATION_LEVEL[f.severity],
                "title": f"[{f.severity.value}] {f.title}"[:255],
                "message": f.body[:60000] or f.title,
            }
        )
    return out


def terminal_text(report: Outcome[Any]) -> str:
    """The CLI's markdown output: the job summary plus every finding in full."""
    parts = [summary_markdown(report, "github.com", job=True)]
    if report.findings:
        parts.append("### All findings")
        for f in report.findings:
            parts.append(
                f"#### {ICONS[f.severity]} {plain(f.title, 200)}\n{location(f)} · {f.severity.value} · "
                f"{f.category}\n\n{sanitize_markdown(f.body, max_chars=8000)}"
            )
            if f.suggestion is not None:
                parts.append(suggestion_block(f.suggestion))
    return "\n\n".join(parts)


def tool_status_line(outcome: Outcome[Any]) -> str:
    if outcome.dry_run:
        return f"🔍 **dry run**: nothing was sent; {len(outcome.prompts)} call(s) prepared."
    if outcome.errors:
        return "⚠️ **incomplete**: see the problems below."
    if not outcome.complete:
        return "⚠️ **incomplete**: done, but some files were not shown to the model (see Coverage)."
    return "✅ **done**"


def tool_summary(outcome: Outcome[Any], body: str) -> str:
    """The job summary of a tool run (describe, improve, ask): status, the tool's own Markdown, delivery,
    coverage, egress."""
    parts = [
        f"## qodo-review /{outcome.command}" + (" (dry run)" if outcome.dry_run else ""),
        tool_status_line(outcome),
    ]
    if outcome.errors:
        parts.append("### ⚠️ Problems\n" + "\n".join(f"- {plain(e, 600)}" for e in outcome.errors))
    if outcome.notices:
        parts.append("\n".join(f"> {plain(n, 400)}" for n in outcome.notices))
    parts.append(body)
    if outcome.delivery:
        parts.append("### Delivery\n" + "\n".join(f"- {plain(d, 600)}" for d in outcome.delivery))
    parts.append("### Coverage\n" + coverage_section(outcome))
    parts.append("### What left the runner\n" + manifest_section(outcome))
    # Half the step's summary at most: the rest stays for the notices and errors written after it.
    return cap("\n\n".join(p for p in parts if p), STEP_SUMMARY_MAX // 2)
