"""The run's time source: every wait and deadline reads one Clock, passed in from main().

Tests pass a clock whose sleep returns at once (and records the wait), so runs that wait out
Retry-After and backoff take milliseconds; the real clock is used everywhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


SYSTEM_CLOCK = Clock()
