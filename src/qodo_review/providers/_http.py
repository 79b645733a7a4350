"""What both provider adapters need from an HTTP answer: the server's wait hint and a scrubbed text."""

from __future__ import annotations

import email.utils
import time

import httpx2

from ..errors import ProviderAuthError, ProviderUnavailable
from . import ProviderSettings


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


def unreachable(
    settings: ProviderSettings, *, timed_out: bool, cause: BaseException | None, text: str
) -> ProviderUnavailable:
    """A timeout or a failed connection: transient, and the message says which input to check."""
    if timed_out:
        return ProviderUnavailable(f"{settings.host} did not answer within {settings.timeout:g} s.")
    reason = f"{type(cause).__name__}: {cause}" if cause else text
    return ProviderUnavailable(
        f"Could not connect to {settings.host}: {scrub(reason, settings.api_key)}. Check the "
        f"{settings.input_prefix}base-url input and that the runner can reach it."
    )


def rejected_key(settings: ProviderSettings, status: int, detail: str, whose: str, secret: str) -> ProviderAuthError:
    """401/403: the user's configuration, never retried; the message names the input and the fix."""
    prefix = settings.input_prefix
    return ProviderAuthError(
        f"{settings.host} rejected the API key (HTTP {status}: {detail}). Check the `{prefix}api-key` input: it "
        f"must be a valid {whose} with access to model {settings.model!r}, stored as a repository secret and "
        f"passed as `{prefix}api-key: ${{{{ secrets.{secret} }}}}`."
    )
