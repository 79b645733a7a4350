"""The one retry policy for model calls: what is retried, how long to wait, when to give up, the fallback.

``RetryPolicy.wait_before`` is pure (error, attempt, time left, jitter in; seconds or None out);
``Resilient`` applies it around a provider with an injected clock, sleep and random source.

The SDKs' own retries are off (``ProviderSettings.max_retries = 0``): nested retries multiply
(2 SDK retries x 4 of ours = 12 requests), the SDKs sleep on ``Retry-After`` outside the run's time
budget and with their own clock, and attempt counts would not be ours to test or report.
"""

from __future__ import annotations

import copy
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from .clock import SYSTEM_CLOCK, Clock
from .errors import (
    AnswerError,
    AnswerTruncated,
    ContextTooLong,
    ProviderError,
    ProviderUnavailable,
    QodoError,
    UsageError,
)
from .models import Completion, Manifest, Prompt
from .providers import Provider, ProviderSettings, make_provider

T = TypeVar("T")
E = TypeVar("E", bound=QodoError)

# Added to the system prompt when an answer could not be used. Fixed text: the model's own (hostile)
# answer is never echoed back into the prompt.
REASK_NOTE = (
    "\n\nYour previous answer to this request could not be used: it was not one JSON object in the "
    "required shape (or it was empty, or a refusal). Answer again with only that JSON object."
)
# The fix for each way a call can end unanswered, in the user's words.
FIX_TRANSIENT = (
    "Re-run the job later; if it keeps happening, lower parallel-calls in .qodo.yml or raise the provider's rate limit"
)
FIX_ANSWER = "Use a model that follows a JSON schema (the model input)"
FIX_FALLBACK = ", or set the fallback-model input"


@dataclass(frozen=True)
class RetryPolicy:
    """How transient provider failures are retried. The defaults are the action's."""

    attempts: int = 4  # tries of one call on one model, the first included: "fail 3 times, then succeed" passes
    base_delay: float = 1.0  # the first backoff is 0.5-1 s, then 1-2, 2-4 ... (equal jitter)
    max_delay: float = 30.0
    # A longer Retry-After than this is not waited for: a provider asking for minutes (quota windows)
    # will not recover within a review, and the fallback model, if any, is tried instead.
    max_retry_after: float = 120.0
    # Seconds from the start of the run after which no retry is started: a job that hangs on a
    # provider outage for an hour helps no one, and GitHub bills the runner's minutes.
    budget: float = 600.0

    def wait_before(self, attempt: int, error: QodoError, remaining: float, jitter: float) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None to give up. `jitter` is uniform in [0, 1)."""
        if not isinstance(error, ProviderUnavailable) or attempt >= self.attempts:
            return None
        hint = error.retry_after
        if hint is not None and hint > self.max_retry_after:
            return None
        if hint:
            # Honour the hint, plus up to 10% (at most 1 s) so parallel calls do not return in lockstep.
            wait = hint + jitter * min(1.0, hint / 10)
        else:
            ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
            wait = ceiling / 2 + jitter * ceiling / 2
        return wait if wait <= remaining else None

    def why_stop(self, attempt: int, error: QodoError, remaining: float) -> str:
        """Plain words for why wait_before gave up (for the message the user reads)."""
        hint = error.retry_after if isinstance(error, ProviderUnavailable) else None
        if attempt >= self.attempts:
            return f"gave up after {attempt} attempts"
        if hint is not None and hint > self.max_retry_after:
            return (
                f"it asked to wait {hint:.0f} s, longer than the {self.max_retry_after:.0f} s a review "
                f"waits (after {attempt} attempt{'s' if attempt > 1 else ''})"
            )
        return f"the run's retry time budget ({self.budget:.0f} s) ran out after {attempt} attempts"


@dataclass(frozen=True)
class Route:
    """One model to call: the provider, and how to name it to the user."""

    provider: Provider
    model: str = ""
    host: str = ""

    @property
    def name(self) -> str:
        return f"`{self.model or 'the model'}`" + (f" at {self.host}" if self.host else "")


@dataclass
class Stats:
    """What the policy did during the run, for the job summary."""

    calls: int = 0
    retries: int = 0
    waited: float = 0.0
    reasks: int = 0
    fallback_answers: int = 0
    primary_failure: str = ""
    hosts: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)


class Resilient:
    """A Provider that retries transient failures, re-asks once for an unusable answer, then falls back.

    Thread-safe: one instance serves the parallel calls of a run, sharing its time budget, and once the
    primary model has kept failing, later calls go straight to the fallback.
    """

    def __init__(
        self,
        primary: Route,
        fallback: Route | None = None,
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self.primary, self.fallback = primary, fallback
        self.policy = policy or RetryPolicy()
        self._clock, self._sleep = clock, sleep
        self._jitter = jitter or random.Random().random  # noqa: S311 - jitter, not cryptography
        self._deadline = clock() + self.policy.budget
        self._lock = threading.Lock()
        self._primary_down = False
        self.stats = Stats()

    def complete(self, prompt: Prompt) -> Completion:
        """The Provider protocol: the completion, with retries, re-ask and fallback applied."""
        return self.answer(prompt, lambda completion: completion)

    def answer(
        self, prompt: Prompt, parse: Callable[[Completion], T], spend: Callable[[Completion], None] | None = None
    ) -> T:
        """Call, then parse (which raises AnswerError for an unusable answer); `spend` sees every completion.

        Raises UsageError (configuration: never retried), ContextTooLong and AnswerTruncated (the caller
        splits the chunk), or the ProviderError/AnswerError that remained after every route was tried.
        """
        with self._lock:
            self.stats.calls += 1
            routes = [self.primary] if not self._primary_down or self.fallback is None else []
        routes += [self.fallback] if self.fallback is not None else []
        failures: list[QodoError] = []
        for route in routes:
            try:
                result = self._reasked(route, prompt, parse, spend)
            except (UsageError, ContextTooLong, AnswerTruncated):
                raise
            except (ProviderError, AnswerError) as exc:
                failures.append(exc)
                if route is self.primary and isinstance(exc, ProviderError):
                    with self._lock:
                        self._primary_down = True
                        self.stats.primary_failure = self.stats.primary_failure or str(exc)
                continue
            if route is self.fallback:
                with self._lock:
                    self.stats.fallback_answers += 1
            return result
        raise _joined(failures, self.fallback)

    def _reasked(
        self, route: Route, prompt: Prompt, parse: Callable[[Completion], T], spend: Callable[[Completion], None] | None
    ) -> T:
        """One re-ask for an answer that is not usable (not JSON, wrong shape, empty, a refusal)."""
        for ask in (1, 2):
            try:
                completion = self._retried(route, prompt if ask == 1 else reask(prompt))
                if route.model:  # priced as configured: a server may name itself otherwise (llama.cpp: "-")
                    completion = replace(completion, model=route.model)
                if spend is not None:
                    spend(completion)
                return parse(completion)
            except AnswerError as exc:
                if ask == 2:
                    raise _amend(exc, f"{route.name} was asked twice; neither answer was usable.") from None
                with self._lock:
                    self.stats.reasks += 1
        raise AssertionError("unreachable")  # pragma: no cover

    def _retried(self, route: Route, prompt: Prompt) -> Completion:
        for attempt in range(1, self.policy.attempts + 1):
            with self._lock:
                self.stats.hosts.add(route.host)
                self.stats.models.add(route.model)
            try:
                return route.provider.complete(prompt)
            except ProviderUnavailable as exc:
                remaining = self._deadline - self._clock()
                wait = self.policy.wait_before(attempt, exc, remaining, self._jitter())
                if wait is None:
                    why = self.policy.why_stop(attempt, exc, remaining)
                    raise _amend(exc, f"qodo-review {why}.") from None
            with self._lock:
                self.stats.retries += 1
                self.stats.waited += wait
            self._sleep(wait)
        raise AssertionError("unreachable: wait_before gives up at the last attempt")  # pragma: no cover

    def notes(self) -> list[str]:
        """Plain-words lines for the job summary: retries made, answers re-asked, the fallback used."""
        s, out = self.stats, []
        if s.retries:
            out.append(
                f"Model calls were retried {s.retries} time{'s' if s.retries > 1 else ''} after rate "
                f"limits or provider errors ({s.waited:.0f} s waited in all)."
            )
        if s.reasks:
            out.append(
                f"{s.reasks} answer{'s' if s.reasks > 1 else ''} could not be used and "
                f"{'were' if s.reasks > 1 else 'was'} asked for again."
            )
        if s.fallback_answers and self.fallback is not None:
            out.append(
                f"The fallback model {self.fallback.name} answered {s.fallback_answers} of {s.calls} "
                f"call{'s' if s.calls > 1 else ''} because {self.primary.name} kept failing: "
                f"{s.primary_failure}"
            )
        return out


def reask(prompt: Prompt) -> Prompt:
    return replace(prompt, system=prompt.system + REASK_NOTE)


def _amend(exc: E, note: str) -> E:
    """The same error (type and retry_after kept) with a sentence added to its message."""
    amended = copy.copy(exc)
    amended.args = (f"{str(exc).rstrip()} {note}",)
    return amended


def _joined(failures: list[QodoError], fallback: Route | None) -> QodoError:
    """The error the user reads when no route answered: each route's failure, then the fix."""
    first, last = failures[0], failures[-1]
    fix = (
        (FIX_TRANSIENT if isinstance(last, ProviderUnavailable) else FIX_ANSWER)
        + (FIX_FALLBACK if fallback is None else "")
        + "."
    )
    if len(failures) == 1:
        return _amend(last, fix)
    assert fallback is not None
    return _amend(first, f"The fallback model {fallback.name} failed too: {last} {fix}")


def resilient(
    settings: ProviderSettings,
    fallback: ProviderSettings | None = None,
    *,
    policy: RetryPolicy | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Resilient:
    """The run's model caller, built from the trusted settings (the primary and the optional fallback)."""
    primary = Route(make_provider(settings), settings.model, settings.host)
    second = Route(make_provider(fallback), fallback.model, fallback.host) if fallback is not None else None
    return Resilient(primary, second, policy=policy, clock=clock.now, sleep=clock.sleep)


def wrap(provider: Provider | Resilient | None, model: str, host: str) -> Resilient | None:
    """Every call goes through the one retry policy: a bare provider gets the default one; None is a dry run."""
    if provider is None or isinstance(provider, Resilient):
        return provider
    return Resilient(Route(provider, model, host))


def record_routes(manifest: Manifest, caller: Resilient | None, calls: int) -> None:
    """The privacy manifest names every host and model that was called (the fallback's too), and says code
    was sent when any request carried it out, answered or not."""
    if caller is None:
        manifest.sent = calls > 0
        return
    hosts, models = caller.stats.hosts - {""}, caller.stats.models - {""}
    if len(hosts) > 1:
        manifest.provider_host = ", ".join(sorted(hosts))
    if len(models) > 1:
        manifest.model = ", ".join(sorted(models))
    manifest.sent = calls > 0 or bool(caller.stats.hosts)
