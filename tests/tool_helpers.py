"""Shared helpers of the tool tests: a scriptable model for the pure core, and real event payloads."""

from __future__ import annotations

import copy
import json
from collections import deque
from pathlib import Path
from typing import Any

from qodo_review.errors import QodoError
from qodo_review.models import Completion, Prompt

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIFF = (ROOT / "examples" / "sample.diff").read_text(encoding="utf-8")
OCTOKIT = ROOT.parent / "shared" / "realdata" / "events" / "octokit-webhooks"


class ScriptedModel:
    """A Provider answering from a queue (text, an error to raise, or a Completion); records every prompt."""

    def __init__(self, *answers: str | QodoError | Completion) -> None:
        self.answers: deque[str | QodoError | Completion] = deque(answers)
        self.prompts: list[Prompt] = []

    def complete(self, prompt: Prompt) -> Completion:
        self.prompts.append(prompt)
        answer = self.answers.popleft()
        if isinstance(answer, QodoError):
            raise answer
        if isinstance(answer, Completion):
            return answer
        return Completion(answer, tokens_in=100, tokens_out=20)


def answer_json(data: Any) -> str:
    return json.dumps(data)


def _octokit(name: str, fallback: dict[str, Any]) -> dict[str, Any]:
    """A real octokit example payload when ../shared/realdata is present (else a minimal same-shape one)."""
    path = OCTOKIT / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else copy.deepcopy(fallback)


def issue_comment_event(body: str, *, number: int = 7, login: str = "bob", comment_id: int = 4242) -> dict[str, Any]:
    payload = _octokit("issue_comment.created.1.payload.json", {"action": "created", "issue": {}, "comment": {}})
    payload["action"] = "created"
    payload["issue"].update(
        {"number": number, "pull_request": {"url": f"https://api.github.com/repos/owner/repo/pulls/{number}"}}
    )
    payload["comment"].update({"id": comment_id, "body": body, "user": {"login": login, "type": "User"}})
    payload["sender"] = {"login": login, "type": "User"}
    return payload


def review_comment_event(
    body: str, *, comment_id: int, in_reply_to: int | None, path: str, line: int, number: int = 7, login: str = "bob"
) -> dict[str, Any]:
    payload = _octokit(
        "pull_request_review_comment.created.payload.json", {"action": "created", "comment": {}, "pull_request": {}}
    )
    payload["action"] = "created"
    payload["comment"].update(
        {
            "id": comment_id,
            "body": body,
            "path": path,
            "line": line,
            "side": "RIGHT",
            "in_reply_to_id": in_reply_to,
            "user": {"login": login, "type": "User"},
        }
    )
    payload["pull_request"]["number"] = number
    payload["sender"] = {"login": login, "type": "User"}
    return payload
