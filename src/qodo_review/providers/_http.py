"""What both provider adapters need from an HTTP answer: the server's wait hint and a scrubbed text."""

from __future__ import annotations

import email.utils
import time

import httpx2


def retry_after(headers: httpx2.Headers) -> float | None:
    """Seconds the server asks us to wait: retry-after-ms, Retry-After in seconds, or an HTTP date."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            pass
    value = headers.get("retry-after")
    parsed = email.utils.parsedate_tz(value) if value else None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time()) if parsed else None


def scrub(text: str, key: str) -> str:
    """Error bodies may echo the key: never let it into a message."""
    return text.replace(key, "***") if key else text
