"""The summary comment's hidden state (last reviewed head, short history) and the diff range it chooses.

The state sits in a comment that anyone with write access can edit, so it is trusted only when it is
authentic: it carries an HMAC-SHA256 of its text under a key derived from the provider API key (a secret
only the action holds across runs; never the key itself) and bound to the repository and pull request.
A state that does not verify, or any state without a key (a dry run), is no state: the review is full.
A verified state is still parsed as hostile input: bounded, shape-checked, anything odd dropped. It
decides nothing but which changes are reviewed; the verdict always comes from the review itself.
Pure: no I/O, the clock is passed in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .models import Severity
from .sanitize import HIDDEN_MARKER_PREFIX

STATE_OPEN = f"{HIDDEN_MARKER_PREFIX}:state "
STATE_CLOSE = " -->"
# The derivation's fixed label: a key for anything else derived from the same secret differs.
KEY_LABEL = b"qodo-review hidden-state v1"
_MAC = re.compile(r"[0-9a-f]{64}")
MAX_HISTORY = 10
# Ten entries take about 1.5 KB; anything much bigger was not written by us.
MAX_STATE_CHARS = 8_000
MAX_MODEL_CHARS = 100
# Git object names: SHA-1 (40 hex), or SHA-256 (64 hex) in repositories that use it.
_SHA = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
VERDICTS = ("pass", "fail")
SCOPES = ("full", "incremental")
# GitHub's compare `status` when the old head is an ancestor of the new one; "behind" and "diverged" mean
# history was rewritten (a force-push) and the old range means nothing any more.
ANCESTOR_STATUSES = ("ahead", "identical")


@dataclass(frozen=True)
class Entry:
    """One review in the history: which commit, when (UTC), with which model, and the outcome."""

    sha: str
    time: str
    model: str
    verdict: str
    complete: bool
    scope: str


@dataclass(frozen=True)
class State:
    """last: the newest head reviewed completely. worst: the worst finding reported since the last full
    review, so an incremental review is only chosen when the PR passed the gate so far."""

    last: str | None = None
    worst: Severity | None = None
    history: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class Scope:
    """What to review: the changes since `since`, or the whole PR (since None) for `reason`."""

    since: str | None
    reason: str = ""

    @property
    def incremental(self) -> bool:
        return self.since is not None


def short(sha: str) -> str:
    return sha[:7]


def state_key(secret: str, repository: str, number: int) -> bytes | None:
    """The key that signs one pull request's state: HMAC-SHA256 keyed with the provider key, over a fixed
    label, the repository and the PR number (a state copied from another PR does not verify). None
    without a secret: then no state is trusted."""
    if not secret:
        return None
    message = KEY_LABEL + b"\0" + repository.encode() + b"\0" + str(number).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def sign(key: bytes, text: str) -> str:
    """The MAC of the state's JSON text, as it stands in the comment."""
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def parse_state(key: bytes | None, body: str) -> State:
    """The state in our summary comment's text; an empty State for anything missing, malformed or not
    signed with this key (edited, forged, copied from another PR, or no key to check it with)."""
    start = body.rfind(STATE_OPEN)  # ours is the last thing in the comment
    end = body.find(STATE_CLOSE, start + len(STATE_OPEN)) if start >= 0 else -1
    if key is None or end < 0 or end - start > MAX_STATE_CHARS:
        return State()
    text, _, mac = body[start + len(STATE_OPEN) : end].rpartition(" ")
    if not _MAC.fullmatch(mac) or not hmac.compare_digest(mac, sign(key, text)):
        return State()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return State()
    if not isinstance(data, dict) or data.get("v") != 1:
        return State()
    history = data.get("history")
    entries = [
        e for item in (history if isinstance(history, list) else [])[-MAX_HISTORY:] if (e := _entry(item)) is not None
    ]
    return State(last=_sha(data.get("last")), worst=_severity(data.get("worst")), history=tuple(entries))


def _sha(value: object) -> str | None:
    return value if isinstance(value, str) and _SHA.fullmatch(value) else None


def _severity(value: object) -> Severity | None:
    return Severity(value) if isinstance(value, str) and value in {s.value for s in Severity} else None


def _entry(item: object) -> Entry | None:
    if not isinstance(item, Mapping):
        return None
    sha, time, model = _sha(item.get("sha")), item.get("time"), item.get("model")
    verdict, complete, scope = item.get("verdict"), item.get("complete"), item.get("scope")
    if (
        sha is None
        or not isinstance(time, str)
        or not _TIME.fullmatch(time)
        or not isinstance(model, str)
        or len(model) > MAX_MODEL_CHARS
        or verdict not in VERDICTS
        or not isinstance(complete, bool)
        or scope not in SCOPES
    ):
        return None
    return Entry(sha, time, model, str(verdict), complete, str(scope))


def render_state(key: bytes, state: State) -> str:
    """The hidden marker carrying the state and its MAC, to end the summary comment with."""
    data: dict[str, Any] = {
        "v": 1,
        "last": state.last,
        "worst": state.worst.value if state.worst else None,
        "history": [_entry_json(e) for e in state.history[-MAX_HISTORY:]],
    }
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True)
    # "<" and ">" only occur inside JSON strings; escaped, no value can end the HTML comment early.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e")
    return f"{STATE_OPEN}{text} {sign(key, text)}{STATE_CLOSE}"


def _entry_json(e: Entry) -> dict[str, Any]:
    # The comment passes the secret redactor on its way out, and a quoted word right after "pass" reads
    # to it like `pass = "word"`: the verdict goes last, where only "}" can follow.
    return {
        "sha": e.sha,
        "time": e.time,
        "model": e.model,
        "scope": e.scope,
        "complete": e.complete,
        "verdict": e.verdict,
    }


def record(state: State, entry: Entry, worst: Severity | None) -> State:
    """The state after a review. Only a complete review moves `last`: what failed is reviewed again."""
    history = (*state.history, entry)[-MAX_HISTORY:]
    if not entry.complete:
        return State(state.last, state.worst, history)
    if entry.scope == "incremental":
        worst = max((s for s in (state.worst, worst) if s is not None), key=lambda s: s.rank, default=None)
    return State(entry.sha, worst, history)


def entry_time(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def choose_scope(state: State, *, full: bool, fail_on: Severity | None) -> Scope:
    """Incremental when a complete earlier review exists and left the gate passing; else the whole PR."""
    if full:
        return Scope(None, "a full review was asked for")
    if state.last is None:
        return Scope(None, "first review" if not state.history else "no earlier review was complete")
    if fail_on is not None and state.worst is not None and state.worst.rank >= fail_on.rank:
        return Scope(
            None,
            f"the review of {short(state.last)} met the fail-on gate, so the gate is decided "
            "on the whole pull request again",
        )
    return Scope(state.last)


def confirm_scope(scope: Scope, compare_status: str | None) -> Scope:
    """Keep an incremental scope only when the last reviewed head is an ancestor of the new head."""
    if scope.since is None or compare_status in ANCESTOR_STATUSES:
        return scope
    if compare_status is None:
        return Scope(None, f"the changes since {short(scope.since)} could not be read")
    return Scope(
        None, f"{short(scope.since)} is no longer an ancestor of the head (history was rewritten, e.g. by a force-push)"
    )
