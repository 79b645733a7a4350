"""The exception tree and the exit codes of the contract.

QodoError                     base; carries a user-facing message (what, why, fix)
├── UsageError                the user's input or configuration is wrong (exit 2)
│   ├── ConfigError           .qodo.yml is invalid (names the key and the file)
│   ├── EventError            the event file is missing or unreadable
│   ├── DiffError             a diff given to the CLI is not a unified diff
│   └── ProviderAuthError     the provider rejected the key (401/403)
├── ProviderError             the provider failed after retries (exit 3)
│   ├── ProviderUnavailable   transient: 5xx, timeout, connection reset; worth retrying
│   │   └── RateLimited       429 / overloaded, may carry retry_after
│   ├── ContextTooLong        the prompt exceeded the model's context window
│   └── AnswerTruncated       the answer hit the output limit
├── AnswerError               the model's answer could not be used (exit 3)
└── GitHubError               the GitHub API failed (exit 3); .status holds the HTTP code
    └── PermissionDenied      403/404 on a write the token is not allowed to do
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The documented exit codes (README, action.yml)."""

    OK = 0
    GATE = 1  # fail-on threshold met
    USAGE = 2  # usage or configuration error
    INCOMPLETE = 3  # the review could not be completed


class QodoError(Exception):
    """Base of every error we raise on purpose; str() is the message shown to the user."""

    exit_code = ExitCode.INCOMPLETE


class UsageError(QodoError):
    """The user's input or configuration is wrong; the message names the input and the fix."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """The repository configuration file is invalid."""


class EventError(UsageError):
    """The GitHub event payload is missing or unreadable."""


class DiffError(UsageError):
    """A diff could not be read as a unified diff."""


class ProviderAuthError(UsageError):
    """The provider rejected the API key: a configuration problem, never retried."""


class ProviderError(QodoError):
    """The provider failed after the retry budget was spent."""


class ProviderUnavailable(ProviderError):
    """A transient failure (5xx, timeout, connection reset); retry_after is the server's hint, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(ProviderUnavailable):
    """Rate-limited or overloaded; retry_after is the server's hint in seconds, if any."""


class ContextTooLong(ProviderError):
    """The prompt did not fit the model's context window; the caller splits and retries."""


class AnswerTruncated(ProviderError):
    """The answer was cut off by the output-token limit."""


class AnswerError(QodoError):
    """The model's answer was not usable JSON in the expected shape."""


class GitHubError(QodoError):
    """A GitHub API call failed; status is the HTTP status (0 for a network error)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class PermissionDenied(GitHubError):
    """The token may not do this (403, or 404 on a write)."""
