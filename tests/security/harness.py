"""The adversarial suite's harness: hostile pull requests, runs of the real entrypoint, and the invariants
every run must keep, checked on recorded bytes.

`run()` runs entrypoint.py the way GitHub runs the container (tests/e2e.py) with the flight recorder of
tests/fakes/lockdown/sitecustomize.py on, then `Run.assert_contained()` checks what must hold whatever the
input: no connection but to the two fakes, no process but read-only git, no file written but the outputs
asked for, nothing left in RUNNER_TEMP, no traceback, and no workflow command the runner would execute
except our own. Secrets are built at run time from prefixes, so this file holds no literal credential.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from e2e import ActionRun, run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM

from .workflow_commands import Command, executed

ALNUM = string.ascii_letters + string.digits
SENTINEL = "PWNED"  # every hostile payload carries it: where it shows up as a command, the attack worked


def rnd(n: int, alphabet: str = ALNUM, seed: str = "") -> str:
    """A deterministic random-looking body, so the source holds prefixes only."""
    rng = random.Random(f"{n}:{alphabet}:{seed}")
    return "".join(rng.choice(alphabet) for _ in range(n))


# The run's own secrets: a provider key and a GitHub token shaped like real ones.
API_KEY = "sk-" + "proj-" + rnd(48, ALNUM + "_-", "key")
GITHUB_TOKEN = "gh" + "s_" + rnd(36, seed="token")
# Secrets a PR might carry, one per kind (the rules themselves are tested in test_secrets.py).
AWS_KEY_ID = "AKIA" + rnd(16, string.ascii_uppercase + "234567", "aws")
GH_PAT = "gh" + "p_" + rnd(36, seed="pat")
SLACK = "xo" + "xb-" + "1234567890-1234567890123-" + rnd(24, seed="slack")
STRIPE = "sk" + "_live_" + rnd(24, seed="stripe")
PASSWORD = "Tr0ub4dor" + "&3-Zq9x" + rnd(6, seed="pw")
PEM_BODY = [rnd(64, ALNUM + "+/", f"pem{i}") for i in range(4)]
PEM = ["-----BEGIN RSA " + "PRIVATE KEY-----", *PEM_BODY, "-----END RSA " + "PRIVATE KEY-----"]


def encodings(secret: str) -> dict[str, str]:
    return {"plain": secret, "base64": base64.b64encode(secret.encode()).decode(), "url": quote(secret, safe="")}


def pieces(secret: str, size: int = 8) -> set[str]:
    """Every `size`-character piece of a secret: no one of them may leave the runner."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_absent(secret: str, **texts: str | bytes | None) -> None:
    """No 8-character piece of the secret in any of the texts (named, so a failure says where)."""
    for name, text in texts.items():
        if not text:
            continue
        value = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        found = sorted(p for p in pieces(secret) if p in value)
        assert not found, f"{name} holds {found[0]!r}, a piece of a secret"


# --- hostile diffs ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One file of a unified diff, one hunk: its lines as (kind, text), kind in '+', '-', ' '."""

    path: str
    lines: Sequence[tuple[str, str]]
    old_path: str = ""
    section: str = ""
    start: int = 10


def added(path: str, *texts: str) -> Change:
    return Change(path, [(" ", "def keep():"), *(("+", t) for t in texts), (" ", "    return 1")])


def diff_text(*changes: Change) -> str:
    out: list[str] = []
    for c in changes:
        old = c.old_path or c.path
        out.append(f"diff --git a/{old} b/{c.path}")
        if c.old_path:
            out += ["similarity index 90%", f"rename from {old}", f"rename to {c.path}"]
        out += ["index 1111111..2222222 100644", f"--- a/{old}", f"+++ b/{c.path}"]
        removed = sum(k in " -" for k, _ in c.lines)
        kept = sum(k in " +" for k, _ in c.lines)
        out.append(f"@@ -{c.start},{removed} +{c.start},{kept} @@ {c.section}".rstrip())
        out += [f"{kind}{text}" for kind, text in c.lines]
    return "\n".join(out) + "\n"


# --- the run ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One run of the entrypoint and everything it left behind."""

    action: ActionRun
    tmp: Path
    audit: list[dict[str, Any]]
    runner_temp_left: list[str]
    workspace_files: list[str]
    findings_file: str
    preexisting: frozenset[str] = field(default_factory=frozenset)
    sarif_file: str = "qodo-review.sarif"  # written by a review that is not a dry run

    @property
    def code(self) -> int:
        return self.action.code

    @property
    def stdout(self) -> str:
        return self.action.stdout

    @property
    def stderr(self) -> str:
        return self.action.stderr

    @property
    def summary(self) -> str:
        return self.action.summary

    @property
    def outputs(self) -> dict[str, str]:
        return self.action.outputs

    @property
    def findings(self) -> dict[str, Any] | None:
        return self.action.findings

    def local_texts(self) -> dict[str, str]:
        """Everything the run wrote on the runner, by name; stdout without the ::add-mask:: lines, the one
        place the run's secrets must appear (so that the runner hides them)."""
        outputs = self.tmp / "output.txt"
        findings = self.tmp / "workspace" / self.findings_file
        sarif = self.tmp / "workspace" / self.sarif_file
        stdout = "".join(line for line in self.stdout.splitlines(keepends=True) if not line.startswith("::add-mask::"))
        return {
            "stdout": stdout,
            "stderr": self.stderr,
            "job summary": self.summary,
            "outputs": outputs.read_text("utf-8") if outputs.exists() else "",
            "findings file": findings.read_text("utf-8") if findings.exists() else "",
            "sarif file": sarif.read_text("utf-8") if sarif.exists() else "",
        }

    def commands(self) -> list[Command]:
        """The workflow commands the runner would execute (stdout and stderr are read alike)."""
        return executed(self.stdout) + executed(self.stderr)

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.audit if e["kind"] == kind]

    def assert_contained(self, *run_secrets: str, quoted_in_annotations: bool = False) -> None:
        """The invariants of every run, whatever the input. quoted_in_annotations: the model's words may
        appear in the message of our own ::error:: (and warning, notice) annotations."""
        assert self.action.violations == [], self.action.violations
        assert "Traceback" not in self.stdout + self.stderr, self.stdout + self.stderr
        # Egress: only the two fakes, and no name looked up but the loopback's.
        for event in self.events("connect"):
            assert event["host"] in ("127.0.0.1", "::1"), event
        assert not self.events("sendto") and not self.events("sendmsg")
        # Processes: none but git's read-only subcommands (the lockdown refuses the rest; this says so here).
        for event in self.events("process"):
            assert Path(event["argv"][0]).name == "git", event
        # Retention: writes only to the outputs GitHub gave us, the findings and SARIF files, and RUNNER_TEMP.
        runner_temp = str(self.tmp / "runner-temp")
        allowed = {str(self.tmp / n) for n in ("summary.md", "output.txt", "violations.txt", "audit.jsonl")}
        allowed.add(str(self.tmp / "workspace" / self.findings_file))
        allowed.add(str(self.tmp / "workspace" / self.sarif_file))
        for event in self.events("write") + self.events("mkstemp"):  # (O_TMPFILE opens the directory itself)
            assert event["path"] in allowed or (event["path"] + "/").startswith(runner_temp + "/"), event
        for event in self.events("mkdir") + self.events("mkdtemp"):
            assert event["path"].startswith(runner_temp + "/") or event["path"] in (
                str(Path(p).parent) for p in allowed
            ), event
        assert self.runner_temp_left == [], self.runner_temp_left
        extra = set(self.workspace_files) - self.preexisting - {self.findings_file, self.sarif_file}
        assert not extra, extra
        # Workflow commands: only ours (masks of the run's secrets, annotations, stop/resume pairs), each
        # printed by us at the start of a line: a command found anywhere else was smuggled in.
        for command in self.commands():
            assert command.line.startswith(f"::{command.name}"), command
            quoted = quoted_in_annotations and command.name in ("error", "warning", "notice")
            assert SENTINEL not in (command.name if quoted else command.line), command
            assert command.name in ("add-mask", "error", "warning", "notice", "stop-commands") or re.fullmatch(
                "[0-9a-f]{32}", command.name
            ), command
            if command.name == "add-mask":
                assert command.data in run_secrets, command
        # The run's secrets appear nowhere but in their ::add-mask:: lines.
        for secret in run_secrets:
            assert_absent(secret, **self.local_texts())


def run(
    tmp: Path,
    github: FakeGitHub,
    llm: FakeLLM | None = None,
    *,
    inputs: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    workspace: Path | None = None,
    **kwargs: Any,
) -> Run:
    """Run the entrypoint against the fakes with the run's secrets and the flight recorder on."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "runner-temp").mkdir(exist_ok=True)  # the runner creates it before any step
    space = tmp / "workspace"
    space.mkdir(exist_ok=True)
    preexisting = frozenset(_listing(space))
    values = {"github-token": GITHUB_TOKEN, "api-key": API_KEY, **(inputs or {})}
    env = {"QODO_TEST_AUDIT": str(tmp / "audit.jsonl"), **(extra_env or {})}
    action = run_action(
        tmp, github_url=github.url, llm_url=llm.url if llm else "", inputs=values, extra_env=env, **kwargs
    )
    audit_path = tmp / "audit.jsonl"
    audit = [json.loads(line) for line in audit_path.read_text("utf-8").splitlines()] if audit_path.exists() else []
    return Run(
        action,
        tmp,
        audit,
        _listing(tmp / "runner-temp"),
        _listing(space),
        values.get("findings-file") or "qodo-findings.json",
        preexisting,
        values.get("sarif-file") or "qodo-review.sarif",
    )


def _listing(root: Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or not any(p.iterdir()))


# --- what left the runner -----------------------------------------------------------------------------------


def provider_bytes(llm: FakeLLM) -> str:
    """Every byte the provider received: request lines, headers and bodies."""
    return "\n".join(
        f"{r.method} {r.path}\n"
        + "\n".join(f"{k}: {v}" for k, v in r.headers.items())
        + "\n"
        + r.body.decode("utf-8", "replace")
        for r in llm.requests
    )


def provider_bodies(llm: FakeLLM) -> str:
    return "\n".join(r.body.decode("utf-8", "replace") for r in llm.requests)


def github_bytes(github: FakeGitHub) -> str:
    """Every byte sent to GitHub apart from the Authorization header (which must carry the token)."""
    return "\n".join(
        f"{r.method} {r.path} {json.dumps(r.query)}\n"
        + "\n".join(f"{k}: {v}" for k, v in r.headers.items() if k != "authorization")
        + "\n"
        + r.body.decode("utf-8", "replace")
        for r in github.requests
    )


def posted_texts(github: FakeGitHub) -> list[str]:
    """Every text the action published on GitHub: comments, review bodies and comments, check runs, PR body."""
    texts = [c["body"] for c in github.issue_comments if c["user"]["login"] == github.bot_login]
    for review in github.posted_reviews:
        texts.append(review.get("body") or "")
        texts += [c["body"] for c in review["comments"]]
    texts += [c["body"] for c in github.review_comments if c["user"]["login"] == github.bot_login]
    for check in github.check_runs:
        texts.append(json.dumps(check.get("output") or {}, ensure_ascii=False))
        texts += [json.dumps(a, ensure_ascii=False) for a in check.get("annotations") or []]
    texts += [body for _, body in github.body_updates]
    return texts


def user_messages(llm: FakeLLM) -> list[str]:
    """The user message of every provider request (OpenAI or Anthropic wire format)."""
    out = []
    for r in llm.requests:
        for message in r.json.get("messages", []):
            if message["role"] == "user":
                content = message["content"]
                out.append(content if isinstance(content, str) else json.dumps(content))
    return out


def system_messages(llm: FakeLLM) -> list[str]:
    out = []
    for r in llm.requests:
        if "system" in r.json:
            out.append(r.json["system"] if isinstance(r.json["system"], str) else json.dumps(r.json["system"]))
        out += [m["content"] for m in r.json.get("messages", []) if m["role"] == "system"]
    return out


def fence_of(system: str) -> str:
    """The run's nonce, as the system prompt announces it."""
    found = re.search(r"<<<DATA-([0-9a-f]{16})", system)
    assert found, "the system prompt names no data fence"
    return found.group(1)


def inside_fence(user: str, nonce: str, needle: str) -> bool:
    """Every occurrence of needle lies between the one opening and the one closing fence of the message."""
    opening, closing = f"<<<DATA-{nonce}\n", f"\nDATA-{nonce}>>>"
    assert user.count(opening) == 1 and user.count(closing) == 1, "the fence is not exactly one pair"
    start, end = user.index(opening) + len(opening), user.index(closing)
    hits = [m.start() for m in re.finditer(re.escape(needle), user)]
    return bool(hits) and all(start <= h and h + len(needle) <= end for h in hits)


def all_of(texts: Iterable[str]) -> str:
    return "\n\n".join(texts)
