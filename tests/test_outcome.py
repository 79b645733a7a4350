"""The one ending of every run (outcome.py): one exit-code mapping, one findings-file schema for the action,
the CLI and every command, one dry-run printout."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from e2e import run_action
from fakes.github_server import FakeGitHub
from fakes.llm_server import FakeLLM, chat_completion

from qodo_review import cli
from qodo_review.errors import ExitCode
from qodo_review.models import Finding, Prompt, PullRequest, Severity
from qodo_review.outcome import SCHEMA_VERSION, Outcome

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample.diff"
PR = PullRequest(number=7, title="t", body="", base_sha="a" * 40, head_sha="b" * 40)
HIGH = Finding(
    path="a.py", line=1, end_line=None, side="RIGHT", severity=Severity.HIGH, category="bug", title="x", body="y"
)
# The keys of the findings file, in order; the command's own keys sit between "unverifiable" and "delivery".
HEAD = [
    "schema_version",
    "command",
    "dry_run",
    "complete",
    "verdict",
    "max_severity",
    "summary",
    "findings",
    "not_inline",
    "unverifiable",
]
TAIL = ["delivery", "skipped", "coverage", "errors", "notices", "usage"]
OWN = {
    "review": ["walkthrough", "effort"],
    "describe": ["description"],
    "improve": ["suggestions"],
    "ask": ["question", "answer", "citations"],
}


def outcome(
    command: str = "review", *, errors: bool = False, dry_run: bool = False, gate: bool = False, finding: bool = False
) -> Outcome[Any]:
    return Outcome(
        pr=PR,
        command=command,
        errors=["Part 1: HTTP 503"] if errors else [],
        dry_run=dry_run,
        fail_on=Severity.HIGH if gate else None,
        findings=[HIGH] if finding else [],
        reviewed=[],
    )


@pytest.mark.parametrize(
    ("command", "kw", "delivered", "code"),
    [
        ("review", {}, True, ExitCode.OK),
        ("review", {"gate": True, "finding": True}, True, ExitCode.GATE),
        ("review", {"finding": True}, True, ExitCode.OK),  # no gate
        ("review", {"errors": True}, True, ExitCode.INCOMPLETE),  # a failed part is never a pass
        ("review", {"errors": True, "gate": True, "finding": True}, True, ExitCode.INCOMPLETE),
        ("review", {"dry_run": True, "gate": True, "finding": True}, True, ExitCode.GATE),  # a secret in a dry run
        ("describe", {}, True, ExitCode.OK),
        ("describe", {}, False, ExitCode.INCOMPLETE),  # nothing reached the PR
        ("improve", {"gate": True, "finding": True}, True, ExitCode.OK),  # tools are not gates
        ("ask", {"errors": True}, True, ExitCode.INCOMPLETE),
        ("ask", {"errors": True, "dry_run": True}, False, ExitCode.OK),  # a dry run calls and posts nothing
    ],
)
def test_one_exit_code_mapping(command: str, kw: dict[str, bool], delivered: bool, code: ExitCode) -> None:
    assert outcome(command, **kw).exit_code(delivered=delivered) is code


@pytest.mark.parametrize("command", ["review", "describe", "improve", "ask"])
def test_one_findings_schema_for_every_command(command: str) -> None:
    result = outcome(command)
    result.payload = {key: None for key in OWN[command]}
    doc = result.findings_document()
    assert list(doc) == HEAD + OWN[command] + TAIL
    assert doc["schema_version"] == SCHEMA_VERSION == 1 and doc["command"] == command
    assert doc["verdict"] == "pass"


def test_the_dry_run_printout_names_the_calls_and_prints_each_prompt() -> None:
    result = outcome(dry_run=True)
    result.prompts = [Prompt(system="S1", user="U1", schema={}, max_output_tokens=10, tokens_estimate=7)]
    result.manifest.provider_host, result.manifest.model = "api.openai.com", "gpt-4.1"
    assert result.dry_run_text(show_prompts=False) == (
        "Dry run: nothing was sent. 1 call(s), about 7 prompt tokens, would be sent to api.openai.com (gpt-4.1)."
    )
    assert result.dry_run_text(show_prompts=True).endswith(
        "\n----- call 1: system -----\nS1\n----- call 1: user -----\nU1"
    )


def cli_json(command: str, *extra: str) -> dict[str, Any]:
    out = io.StringIO()
    code = cli.main([command, "--diff", str(SAMPLE), "--format", "json", "--dry-run", *extra], env={}, stdout=out)
    assert code == 0
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


@pytest.mark.parametrize(
    ("command", "extra"), [("review", ()), ("describe", ()), ("improve", ()), ("ask", ("--question", "Why?"))]
)
def test_the_cli_prints_the_same_schema(command: str, extra: tuple[str, ...]) -> None:
    doc = cli_json(command, *extra)
    assert list(doc) == HEAD + OWN[command] + TAIL + ["prompts"] and doc["dry_run"] is True


def test_the_action_writes_the_same_schema_as_the_cli(tmp_path: Path) -> None:
    answer = {"summary": "ok", "findings": []}
    with FakeGitHub() as github, FakeLLM() as llm:
        github.add_pull(7, "Add user search", "", "a" * 40, "b" * 40, SAMPLE.read_text(encoding="utf-8"))
        llm.enqueue(json=chat_completion(json.dumps(answer)))
        run = run_action(tmp_path, github_url=github.url, llm_url=llm.url)
    assert run.code == 0 and run.findings is not None
    assert list(run.findings) == HEAD + OWN["review"] + TAIL
    assert list(run.findings) == [k for k in cli_json("review") if k != "prompts"]
