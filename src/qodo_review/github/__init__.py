"""The GitHub edge: the only code that talks to GitHub.

GitHub JSON becomes our own types here; retries live in one place (`Transport._request`); the token never
leaves the Authorization header of a request to the configured API host and is scrubbed from every error.

Modules: `transport` (session, retries, rate limits, redirects, error mapping, request counting),
`payloads` (GitHub JSON into frozen types), the typed endpoints by area (`pulls`, `contents`, `identity`,
`comments`, `checks`, `graphql`), and `client` (`GitHub`, composed of them).
"""

from __future__ import annotations

from .checks import MAX_ANNOTATIONS_PER_REQUEST, MAX_CHECK_OUTPUT_CHARS
from .client import GitHub
from .comments import MAX_COMMENT_CHARS
from .contents import MAX_CONTENT_BYTES
from .graphql import graphql_url
from .identity import INSTALLATION_TOKEN_PREFIX, WORKFLOW_BOT
from .payloads import CheckRun, Comment, Review, ReviewComment, pull_from_json
from .pulls import MAX_PR_FILES
from .transport import (
    API_VERSION,
    BACKOFF_BASE,
    BACKOFF_CAP,
    MAX_ATTEMPTS,
    MAX_PAGES,
    MAX_REDIRECTS,
    PER_PAGE,
    SECONDARY_RATE_LIMIT_WAIT,
    Transport,
)

__all__ = [
    "API_VERSION",
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "INSTALLATION_TOKEN_PREFIX",
    "MAX_ANNOTATIONS_PER_REQUEST",
    "MAX_ATTEMPTS",
    "MAX_CHECK_OUTPUT_CHARS",
    "MAX_COMMENT_CHARS",
    "MAX_CONTENT_BYTES",
    "MAX_PAGES",
    "MAX_PR_FILES",
    "MAX_REDIRECTS",
    "PER_PAGE",
    "SECONDARY_RATE_LIMIT_WAIT",
    "WORKFLOW_BOT",
    "CheckRun",
    "Comment",
    "GitHub",
    "Review",
    "ReviewComment",
    "Transport",
    "graphql_url",
    "pull_from_json",
]
