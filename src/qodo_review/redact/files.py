"""Secrets by file: files withheld whole (credential files by name) and the secret-scan findings a PR's
added lines make, without the model."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..models import FileDiff, FileStatus, Finding, Severity
from .assignments import LABELS

if TYPE_CHECKING:
    from . import Redactor

# --- files withheld whole ---------------------------------------------------------------------------------

_ENV_TEMPLATES = (".example", ".sample", ".template")  # documented templates, meant to be reviewed
_WITHHELD_NAMES = {
    ".npmrc": "npm credentials file",
    ".pypirc": "PyPI credentials file",
    ".netrc": "netrc credentials file",
    "_netrc": "netrc credentials file",
    "kubeconfig": "Kubernetes credentials (kubeconfig)",
    "credentials": "credentials file",
    "credentials.json": "credentials file",
    "secrets.yml": "secrets file",
    "secrets.yaml": "secrets file",
}
_WITHHELD_SUFFIXES = (
    (".pem", "PEM key or certificate file"),
    (".key", "private key file"),
    (".p12", "PKCS#12 key store"),
    (".pfx", "PKCS#12 key store"),
    (".jks", "Java key store"),
    (".keystore", "key store"),
    (".kubeconfig", "Kubernetes credentials (kubeconfig)"),
    (".tfvars", "Terraform variables file"),
    (".tfstate", "Terraform state file"),
    (".tfstate.backup", "Terraform state file"),
    (".credentials", "credentials file"),
)
_WITHHELD_PATHS = (
    (".kube/config", "Kubernetes credentials (kubeconfig)"),
    (".aws/credentials", "AWS credentials file"),
    (".docker/config.json", "Docker registry credentials"),
)
_SSH_KEYS = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")


def withheld_reason(path: str) -> str | None:
    """Why a file is withheld whole as a secret by nature, or None. Case-insensitive.

    Every `.env` and `.env.*` file is withheld except `.env.example`, `.env.sample` and `.env.template`
    (also as the last suffix, `.env.local.example`), which exist to be committed and reviewed.
    """
    low = path.replace("\\", "/").lower()
    name = posixpath.basename(low)
    if name == ".env" or (name.startswith(".env.") and not name.endswith(_ENV_TEMPLATES)):
        return "environment file"
    if name.startswith(_SSH_KEYS) and not name.endswith(".pub"):
        return "SSH private key"
    if name in _WITHHELD_NAMES:
        return _WITHHELD_NAMES[name]
    for suffix, reason in _WITHHELD_SUFFIXES:
        if name.endswith(suffix):
            return reason
    for tail, reason in _WITHHELD_PATHS:
        if low == tail or low.endswith("/" + tail):
            return reason
    return None


# --- findings ---------------------------------------------------------------------------------------------

_WHOLE_FILE_ADDED = (FileStatus.ADDED, FileStatus.BINARY, FileStatus.COPIED)  # no hunks, all content new
_ROTATE = (
    "If it is real, treat it as leaked: revoke or rotate it with its issuer first, then remove it "
    "from the change and load it at run time from a secret store or an environment variable. "
    "Deleting it in a later commit is not enough, because it stays in the git history."
)


def secret_findings(files: Iterable[FileDiff], redactor: Redactor) -> list[Finding]:
    """Findings for the secrets a PR adds, made without the model. They never quote the secret."""
    findings: list[Finding] = []
    seen: set[tuple[str, int | None, str]] = set()

    def add(path: str, line: int | None, kind: str, title: str, body: str) -> None:
        if (path, line, kind) not in seen:
            seen.add((path, line, kind))
            findings.append(
                Finding(
                    path=path,
                    line=line,
                    end_line=line,
                    side="RIGHT",
                    severity=Severity.HIGH,
                    category="security",
                    title=title,
                    body=body,
                    source="secret-scan",
                )
            )

    for diff in files:
        if diff.status is FileStatus.DELETED:
            continue
        reason = withheld_reason(diff.path)
        if reason is not None:
            added = [ln.new for h in diff.hunks for ln in h.lines if ln.kind == "+"]
            if added or (not diff.hunks and (diff.patch_missing or diff.status in _WHOLE_FILE_ADDED)):
                add(
                    diff.path,
                    added[0] if added else None,
                    "secret-file",
                    f"Possible secret committed: {reason}",
                    f"This file is a {reason}, a kind of file that holds credentials; its content was "
                    f"withheld from the model. Remove it from the change and add it to .gitignore. {_ROTATE}",
                )
            continue
        for hunk in diff.hunks:
            new_side = [ln for ln in hunk.lines if ln.kind != "-"]
            done: set[int] = set()
            for index, kind, placeholder, occurrence in redactor._locate([ln.text for ln in new_side]):
                line = new_side[index]
                if line.kind == "+" and occurrence not in done:
                    done.add(occurrence)
                    label = LABELS.get(kind, kind)
                    add(
                        diff.path,
                        line.new,
                        kind,
                        f"Possible {label} committed",
                        f"This line adds what looks like a {label}, shown to the reviewer as `{placeholder}` "
                        f"(the value is not repeated here). {_ROTATE}",
                    )
    return findings
