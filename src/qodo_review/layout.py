"""The review's summary, in the order a reader wants it (issue 13): the verdict; the walkthrough (a few
sentences, then the changed files grouped by area, folded); the effort to review; the key findings, each
linked to its inline thread; the findings outside the diff; then everything operational (coverage, calls,
tokens, time, what left the runner, history), folded in the comment and open in the job summary.

The check run's title, summary and text (``check_output``) show the same verdict, effort and findings.

Pure: an Outcome and what the channels did with each finding (``Placement``) in, Markdown out. Model text
goes through sanitize_markdown or plain(), file names through inline_code(), links only to GitHub's own
thread URLs (``thread_url``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .limits import CHECK_TEXT_MAX, COMMENT_BODY_MAX, STEP_SUMMARY_MAX
from .models import Effort, Finding
from .outcome import Outcome
from .render import (
    ICONS,
    SUMMARY_MARKER,
    cap,
    cap_bytes,
    coverage_section,
    fingerprint_digest,
    gate_line,
    location,
    manifest_section,
    outside_section,
    unverifiable_section,
    verdict_line,
)
from .sanitize import inline_code, plain, sanitize_markdown
from .walkthrough import EFFORT_MAX, grouped, sentences

KEY_FINDINGS_ROWS = 100  # rows of the key-findings table; the findings file has every one
WALKTHROUGH_ROWS = 200  # changed files listed in the walkthrough; the rest are counted
# A thread link is GitHub's own URL for a review comment: nothing that could close the Markdown link or
# add a title (no spaces, parentheses, brackets, quotes, angle brackets).
_THREAD_URL = re.compile(r"https?://[^\s()<>\[\]\"'`]+#discussion_r\d+")


@dataclass(frozen=True)
class Placement:
    """What the inline channel did with the findings, for the summary: the URL of each finding's thread
    (by fingerprint digest), and the findings kept off the diff, each with why."""

    links: Mapping[str, str] = field(default_factory=dict)
    moved: Sequence[tuple[Finding, str]] = ()  # could not be posted inline (rejected anchor, over the cap)
    summary_only: Sequence[tuple[Finding, str]] = ()  # below inline-min-severity
    dismissed: Sequence[tuple[Finding, str]] = ()  # a person resolved its thread or reacted 👎: not posted again


def thread_url(url: str, pr_url: str, comment_id: int) -> str:
    """The link to a review comment's thread: GitHub's html_url, else built from the PR's; "" when neither
    is a plain GitHub URL."""
    for candidate in (url, f"{pr_url}#discussion_r{comment_id}" if pr_url else ""):
        if _THREAD_URL.fullmatch(candidate):
            return candidate
    return ""


def effort_line(effort: Effort | None) -> str:
    if effort is None:
        return ""
    dots = "●" * effort.score + "○" * (EFFORT_MAX - effort.score)
    why = f" · {plain(effort.why, 300)}" if effort.why else ""
    return f"**Effort to review: {effort.score}/{EFFORT_MAX}** {dots}{why}"


def files_table(report: Outcome[Any], limit: int = WALKTHROUGH_ROWS) -> str:
    """Every changed file of the run, grouped by area, with the model's line (or why it was not shown)."""
    notes = dict(report.walkthrough)
    why = {s.path: s.reason for s in report.skipped}
    sizes: dict[str, tuple[int, int]] = {}
    for raw in report.files:
        sizes.setdefault(raw.path, (raw.added, raw.removed))
    rows = ["| Area | File | Lines | What changed |", "|---|---|---:|---|"]
    shown = 0
    for area_name, paths in grouped(list(sizes)):
        for i, path in enumerate(paths):
            if shown == limit:
                break
            added, removed = sizes[path]
            if path in notes:
                note = plain(notes[path], 300)
            elif path in why:
                note = f"*{plain(why[path], 160)}*"
            else:
                note = "—"
            first = inline_code(area_name) if i == 0 and area_name != "(root)" else ("(root)" if i == 0 else "")
            rows.append(f"| {first} | {inline_code(path)} | +{added:,} −{removed:,} | {note} |")
            shown += 1
    if len(sizes) > shown:
        rows.append(f"| | …and {len(sizes) - shown:,} more files | | |")
    return "\n".join(rows)


def walkthrough_section(report: Outcome[Any], host: str) -> str:
    """A few sentences on what the PR does, then its files by area (folded); nothing in a dry run."""
    if report.dry_run:
        return ""
    prose = sanitize_markdown(sentences(report.summary), repo=host, max_chars=3000) if report.summary else ""
    if not prose and not report.walkthrough:
        return ""
    count = len({r.path for r in report.files})
    table = (
        f"<details><summary>Changed files ({count:,})</summary>\n\n{files_table(report)}\n\n</details>" if count else ""
    )
    return "\n\n".join(p for p in ("### Walkthrough", prose, table) if p)


DRY_RUN_NO_FINDINGS = (
    "None from the model: nothing was sent (dry run). The secret scan, which needs no model, found none."
)


def key_findings(findings: Sequence[Finding], placement: Placement, limit: int = KEY_FINDINGS_ROWS) -> str:
    """One row per finding, worst first; the title links to the finding's inline thread when it has one."""
    if not findings:
        return "No findings."
    dismissed = {fingerprint_digest(f) for f, _ in placement.dismissed}
    rows = ["| | Severity | Where | Finding |", "|---|---|---|---|"]
    for f in findings[:limit]:
        digest = fingerprint_digest(f)
        title = plain(f.title, 150)
        url = placement.links.get(digest, "")
        cell = f"[{title}]({url})" if _THREAD_URL.fullmatch(url) else title
        if digest in dismissed:
            cell += " (dismissed earlier: not posted again)"
        rows.append(f"| {ICONS[f.severity]} | {f.severity.value} | {location(f)} | {cell} |")
    if len(findings) > limit:
        rows.append(f"| | | | …and {len(findings) - limit} more in the findings file |")
    return "\n".join(rows)


def lower_section(items: Sequence[tuple[Finding, str]], host: str, job: bool) -> str:
    """Findings below inline-min-severity: listed with their text, folded in the comment."""
    if not items:
        return ""
    body = outside_section(items, host).split("\n", 2)[2]  # the list, without its heading and its line
    n = len(items)
    title = f"{n} lower-severity finding{'s' if n != 1 else ''}, in this summary only (inline-min-severity)"
    return fold(f"### {title}\n{body}", job)


def fold(section: str, open_: bool) -> str:
    """A "### Title\\nbody" section as a collapsed <details> (open_: left as it is, for the job summary)."""
    if open_ or not section:
        return section
    head, _, body = section.partition("\n")
    return f"<details><summary>{head.removeprefix('### ')}</summary>\n\n{body.strip()}\n\n</details>"


def review_summary(
    report: Outcome[Any],
    host: str,
    *,
    job: bool = False,
    extra: Sequence[str] = (),
    scope: str = "",
    history: str = "",
    placement: Placement | None = None,
    operations: Sequence[str] = (),
) -> str:
    """The summary comment (job=False) or the job summary (job=True). ``extra``: more review sections (findings
    not posted inline, addressed threads); ``operations``: more operational sections ("### Title" first)."""
    shown = placement or Placement()
    lower = {fingerprint_digest(f) for f, _ in shown.summary_only}
    key = [f for f in report.findings if fingerprint_digest(f) not in lower]
    title = "## qodo-review" + (" (dry run)" if report.dry_run else "")
    parts = [SUMMARY_MARKER if not job else "", title, verdict_line(report), gate_line(report), scope]
    if report.errors:
        parts.append("### ⚠️ Problems\n" + "\n".join(f"- {plain(e, 600)}" for e in report.errors))
    parts += [walkthrough_section(report, host), effort_line(report.effort)]
    if report.dry_run and not key:  # no model saw the code: "No findings" would read as a clean review
        parts.append("### Key findings\n" + DRY_RUN_NO_FINDINGS)
    else:
        parts.append("### Key findings\n" + key_findings(key, shown))
    parts.append(outside_section(report.placed.outside, host))
    parts.append(unverifiable_section(report.unverifiable, host))
    parts.extend(extra)
    parts.append(lower_section(shown.summary_only, host, job))
    notices = "\n".join(f"> {plain(n, 400)}" for n in report.notices)
    coverage = "### Coverage\n" + (f"{notices}\n\n" if notices else "") + coverage_section(report, list_all=job)
    for section in (coverage, "### What left the runner\n" + manifest_section(report), history, *operations):
        parts.append(fold(section, job))
    text = "\n\n".join(p for p in parts if p)
    # the job summary has its own, larger limit (Out)
    return cap_bytes(text, STEP_SUMMARY_MAX) if job else cap(text, COMMENT_BODY_MAX)


def check_output(report: Outcome[Any], host: str, links: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The check run's title, summary and text; ``links``: the findings' inline threads (layout.Placement)."""
    worst = report.max_severity
    title = ("Incomplete review: " if not report.complete else "") + (
        f"{len(report.findings)} findings (worst: {worst.value if worst else 'none'})"
    )
    table = key_findings(report.findings, Placement(links=links or {}))
    head = "\n\n".join(p for p in (verdict_line(report), gate_line(report), effort_line(report.effort)) if p)
    summary = cap(head + "\n\n" + table, CHECK_TEXT_MAX)
    aside = unverifiable_section(report.unverifiable, host)
    text = cap(
        outside_section(report.placed.outside, host)
        + (f"\n\n{aside}" if aside else "")
        + "\n\n"
        + coverage_section(report),
        CHECK_TEXT_MAX,
    )
    return {"title": title[:255], "summary": summary, "text": text}
