"""SARIF 2.1.0: the review's findings for code scanning (``github/codeql-action/upload-sarif``), as the action's
``sarif_file`` and the CLI's ``--format sarif``.

One rule per category (``qodo-review/bug`` ...; the secret scan's findings are ``qodo-review/secret``), the
severity as the result's level, the finding's place as its location, and our fingerprint as a partial
fingerprint, so code scanning keeps one alert per finding across pushes. That fingerprint leaves the line
number out (rule, path, side, the gist of the title, the text of the flagged line): code scanning takes a
changed fingerprint for a new alert, so one with the number would reopen every finding below an added line. The
inline comment's own fingerprint (which has the number) is kept in the result's properties, to match the two.
Model-written text is untrusted: controls and bidi characters are dropped and SARIF's embedded-link brackets
escaped, so a message links nowhere; every string is redacted when the file is written.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from .. import __version__
from ..findings import fingerprint
from ..models import CATEGORIES, Finding, Severity
from ..outcome import Outcome
from ..sanitize import log_safe
from . import SKIP, Context, Delivery

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
TOOL_NAME = "qodo-review"
RULE_PREFIX = "qodo-review/"
# The key of our fingerprint in `partialFingerprints` (SARIF §3.27.17: "name/vN"). Not primaryLocationLineHash:
# upload-sarif computes that one itself from a checkout, and warns when a given value differs from its own.
FINGERPRINT_KEY = "qodoReviewFinding/v1"
# docs.github.com "SARIF support for code scanning": at most 25,000 results per run are accepted (the rest are
# dropped, only the first 5,000 shown); our findings are far fewer, and a run that had more would say so.
MAX_RESULTS = 25_000
MESSAGE_MAX_CHARS = 8_000

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
RULE_TEXT = {
    "bug": "Incorrect behaviour: the code does not do what it intends.",
    "security": "A security weakness: injection, missing checks, unsafe data handling.",
    "performance": "Needless work: a slower algorithm, repeated I/O, excess memory.",
    "reliability": "Failure handling: errors lost, resources leaked, races, retries.",
    "maintainability": "Code that will be hard to change or understand.",
    "tests": "Missing or weak tests for the change.",
    "docs": "Documentation that is missing, wrong or out of date.",
    "style": "Style and consistency.",
    "secret": "A secret (key, token, password) added in the change; found by the deterministic secret scan.",
}
_LINK_CHARS = re.compile(r"[\\\[\]]")


def rule_id(finding: Finding) -> str:
    if finding.source == "secret-scan":
        return RULE_PREFIX + "secret"
    return RULE_PREFIX + (finding.category if finding.category in CATEGORIES else "maintainability")


def inline_fingerprint(finding: Finding) -> str:
    """The fingerprint hidden in the finding's inline comment (render.fingerprint_marker), in full."""
    return hashlib.sha256(fingerprint(finding).encode("utf-8", "replace")).hexdigest()


def stable_fingerprint(finding: Finding, line_text: str) -> str:
    """The finding's identity without its line number: rule, path, side, the gist of the title (as
    findings.fingerprint reads it) and the flagged line's text, blanks collapsed."""
    gist = fingerprint(finding).rsplit(":", 1)[-1]
    code = " ".join(line_text.split())
    key = "\0".join((rule_id(finding), finding.path, finding.side, gist, code))
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def line_text(outcome: Outcome[Any], finding: Finding) -> str:
    """The text of the finding's first line in the diff ("" when the line is not in the diff)."""
    diff = outcome.file(finding.path) if finding.line is not None else None
    for hunk in diff.hunks if diff is not None else ():
        for ln in hunk.lines:
            if (ln.old if finding.side == "LEFT" else ln.new) == finding.line:
                return ln.text
    return ""


def text(value: str, limit: int = MESSAGE_MAX_CHARS) -> str:
    """Untrusted text for a SARIF message: no controls, ANSI or bidi; `[`, `]` and `\\` escaped (SARIF
    §3.11.5), so nothing in it becomes an embedded link."""
    cleaned = log_safe(value)
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return _LINK_CHARS.sub(lambda m: "\\" + m[0], cleaned)


def _result(finding: Finding, rules: dict[str, int], stable: str) -> dict[str, Any]:
    body = finding.body.strip()
    message = text(finding.title, 300) + (("\n\n" + text(body)) if body else "")
    if finding.side == "LEFT" and finding.line is not None:
        message += f"\n\n(On the removed lines, line {finding.line} of the old file.)"
    region: dict[str, int] = {}
    if finding.side != "LEFT" and finding.line is not None and finding.line > 0:
        region = {"startLine": finding.line}
        if finding.end_line is not None and finding.end_line > finding.line:
            region["endLine"] = finding.end_line
    physical: dict[str, Any] = {"artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"}}
    if region:
        physical["region"] = region
    rid = rule_id(finding)
    return {
        "ruleId": rid,
        "ruleIndex": rules[rid],
        "level": LEVEL[finding.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {FINGERPRINT_KEY: stable},
        "properties": {
            "severity": finding.severity.value,
            "category": finding.category,
            "source": finding.source,
            "inlineFingerprint": inline_fingerprint(finding)[:16],
        },
    }


def _rule(rid: str) -> dict[str, Any]:
    name = rid.removeprefix(RULE_PREFIX)
    about = RULE_TEXT[name]
    return {
        "id": rid,
        "name": name,
        "shortDescription": {"text": f"qodo-review: {name}"},
        "fullDescription": {"text": about},
        "help": {"text": about, "markdown": f"**{name}**: {about} Found by qodo-review's AI review of the diff."},
        "properties": {"tags": ["security", name] if name == "secret" else [name]},
    }


def sarif_document(outcome: Outcome[Any]) -> dict[str, Any]:
    """The review as one SARIF 2.1.0 log (pure). Findings without a file, or on paths that do not exist,
    cannot be shown by code scanning: they are named in the run's notifications instead (never lost)."""
    placeable = [f for f in outcome.findings if f.path]
    shown = placeable[:MAX_RESULTS]
    rules: dict[str, int] = {}
    for rid in sorted({rule_id(f) for f in placeable}):
        rules[rid] = len(rules)
    notes = [("warning", f"Finding without a file: {f.title}") for f in outcome.findings if not f.path]
    notes += [
        ("warning", f"Finding on a path that does not exist ({f.path}): {f.title}") for f, _ in outcome.unverifiable
    ]
    if len(placeable) > MAX_RESULTS:
        notes.append(("warning", f"{len(placeable) - MAX_RESULTS} more findings are in the findings file only."))
    notes += [("error", e) for e in outcome.errors]
    if outcome.gate_reason:
        notes.append(("error", outcome.gate_reason))
    invocation: dict[str, Any] = {"executionSuccessful": outcome.complete and not outcome.errors}
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": level, "message": {"text": text(note, 2000)}} for level, note in notes
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rid) for rid in rules],
            }
        },
        "invocations": [invocation],
        "results": [_result(f, rules, fp) for f, fp in zip(shown, _stable(outcome, shown), strict=True)],
        "properties": {
            "verdict": outcome.verdict,
            "complete": outcome.complete,
            "model": outcome.manifest.model,
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _stable(outcome: Outcome[Any], findings: list[Finding]) -> list[str]:
    """Each finding's stable fingerprint; a repeat in the same run (the same line text twice) gets its count."""
    seen: dict[str, int] = {}
    out = []
    for f in findings:
        fp = stable_fingerprint(f, line_text(outcome, f))
        seen[fp] = seen.get(fp, 0) + 1
        out.append(fp if seen[fp] == 1 else f"{fp}:{seen[fp]}")
    return out


class SarifFile:
    """The review's SARIF file in the workspace (input sarif-file), for upload-sarif; not in a dry run,
    whose empty list would close every open alert."""

    name = "sarif file"

    def deliver(self, outcome: Outcome[Any], ctx: Context) -> Delivery:
        from .outputs import write_json  # the module that writes files into the workspace

        facts = ctx.facts
        if facts.dry_run or not facts.inputs.sarif_file:
            return SKIP
        ctx.sarif_path = write_json(
            facts.env.workspace, facts.inputs.sarif_file, sarif_document(outcome), ctx.redactor, name="sarif-file"
        )
        return SKIP
