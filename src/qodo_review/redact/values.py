"""The checks a value must pass to be a secret: randomness, placeholders and references, everyday words."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

# --- value checks -------------------------------------------------------------------------------------


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def _classes(value: str) -> int:
    return (
        any(c.islower() for c in value)
        + any(c.isupper() for c in value)
        + any(c.isdigit() for c in value)
        + any(not c.isalnum() for c in value)
    )


def _random_token(value: str) -> bool:
    """A machine-made token: mixes character classes and is not a run of one character."""
    return len(set(value)) >= 6 and _classes(value) >= 2 and _entropy(value) >= 3.0


def _varied(value: str) -> bool:
    """Provider-prefixed tokens need only not be a fill placeholder (ghp_xxxx..., px-api-a1b2c3d4-...)."""
    low = value.lower()
    return len(set(value)) >= 6 and "xxxx" not in low and "a1b2c3" not in low


def _aws_secret(value: str) -> bool:
    # 40 lowercase hex characters next to "aws" are a git SHA (`uses: aws-actions/...@<sha>`), not a key.
    return _varied(value) and value.lower() != value != value.upper()  # an upper and a lower case letter


# Words that mark a value as a placeholder or a reference, not a secret.
_PLACEHOLDER_WORDS = (
    "example",
    "sample",
    "dummy",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your",
    "redacted",
    "xxx",
    "***",
    "...",
    "todo",
    "fixme",
    "insert",
    "replace",
    "secret",
    "password",
    "passwd",
    "token",
    "fake",
    "mock",
    "default",
    "notset",
    "not-set",
    "not_set",
    "none",
    "null",
    "undefined",
    "a1b2c3",
    "1234567890",
    "&lt;",
)
_ANGLE_PLACEHOLDER = re.compile(r"<[A-Za-z_ -]{1,60}>")  # <your-api-key>, <TOKEN>
# Everyday words that configuration puts next to password keys (`password: required`).
_COMMON_WORDS = frozenset(
    (
        "required",
        "optional",
        "disabled",
        "enabled",
        "hidden",
        "visible",
        "readonly",
        "string",
        "boolean",
        "integer",
        "unknown",
        "invalid",
        "missing",
        "expired",
        "revoked",
        "generate",
        "generated",
        "random",
        "internal",
        "external",
        "private",
        "public",
        "sensitive",
        "encrypted",
        "plaintext",
        "masked",
        "forbidden",
        "unauthorized",
        "incorrect",
        "username",
        "localhost",
        "anonymous",
        "database",
        "keychain",
        "prompt",
    )
)
_TEMPLATE = re.compile(r"\$\{|\{\{|\}\}|#\{|%\([A-Za-z_]\w{0,40}\)[sdr]|\$\(")
_WORDLIKE = re.compile(r"[A-Za-z]{1,200}(?:[-_./: ]{1,5}[A-Za-z]{1,200}){0,50}")
_REFERENCE = re.compile(r"[A-Za-z_$][\w$]{0,200}(?:\.[A-Za-z_$][\w$]{0,200}){0,20}")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_.+/=~-]{16,512}")
_SEQUENTIAL = "0123456789abcdefghijklmnopqrstuvwxyz"
# Numeric literals (ports, timeouts, ioctl codes like `SIOCGLIFTOKEN = -0x3f879678`); long digit runs stay.
_NUMBER = re.compile(
    r"[-+]?(?:0[xX][0-9a-fA-F_]{1,40}|[0-9][0-9_]{0,14}(?:\.[0-9]{1,40})?"
    r"(?:[eE][-+]?[0-9]{1,4})?)[uUlLfFnN]{0,3}"
)


MIN_VALUE = 8  # characters: a shorter literal is no secret of a keyword assignment
NOT_FIRST = "$%<{[(@&*|+"  # nor one starting with a reference or template sign


def _plain_value(v: str) -> bool:
    """Not a reference, template, placeholder, URL, path, message or number."""
    low = v.lower()
    if not MIN_VALUE <= len(v) <= 512 or v != v.strip() or v[0] in NOT_FIRST or _TEMPLATE.search(v):
        return False
    if _ANGLE_PLACEHOLDER.search(v) or any(w in low for w in _PLACEHOLDER_WORDS):
        return False
    if "://" in v or v.startswith(("/", "./", "../", "~/")):
        return False
    # prose (a UI message), a sequence, or a number
    return v.count(" ") < 2 and low not in _SEQUENTIAL and _NUMBER.fullmatch(v) is None


def _entropic(v: str) -> bool:
    entropy = _entropy(v)
    return entropy >= 3.0 or (_classes(v) >= 2 and entropy >= 2.5)


def _secret_value(v: str) -> bool:
    """For secret, token and API-key names: a literal with real entropy."""
    if not _plain_value(v):
        return False
    if _WORDLIKE.fullmatch(v):  # words and identifiers in a string: "client_credentials", "X-CSRF-Token"
        return v.isalpha() and len(v) >= 16 and _entropy(v) >= 3.5
    return _entropic(v)


def _password_value(v: str) -> bool:
    """Passwords are often one plain word (`password = "whiteduke"`): accept one that is not an everyday
    word. Words joined by separators (`open_sesame`, `X-Password-Hint`) read as identifiers: skipped."""
    if not _plain_value(v):
        return False
    if _WORDLIKE.fullmatch(v):
        return v.isalpha() and v.lower() not in _COMMON_WORDS
    return _entropic(v)


def _machine_made(v: str) -> bool:
    """Random tokens switch between lower, upper and digit often (about half the time in hex or base64), or
    mix digits into one unbroken lowercase run; identifiers do neither (user_profile_v2, UserProfileSettings)."""
    kinds = [c.isdigit() + 2 * c.isupper() for c in v if c.isalnum()]
    changes = sum(a != b for a, b in itertools.pairwise(kinds)) / max(len(kinds) - 1, 1)
    return changes >= 0.35 or (kinds.count(1) * 100 >= 15 * len(kinds) and v.isalnum() and v.lower() == v)


def _token_value(v: str) -> bool:
    """For names as vague as `key` or `pat`: only a machine-made token."""
    return _plain_value(v) and _TOKEN_CHARS.fullmatch(v) is not None and _random_token(v) and _machine_made(v)


_OBVIOUS = frozenset(
    (
        "pass",
        "pwd",
        "admin",
        "root",
        "postgres",
        "user",
        "username",
        "guest",
        "test",
        "mysql",
        "redis",
        "secret",
        "letmein",
        "qwerty",
        "password",
        "passwd",
    )
)
_WEAK_PLACEHOLDERS = ("your", "xxx", "***", "example", "changeme", "dummy", "placeholder", "<", ">")


def _weak_value(value: str) -> bool:
    """URL, netrc and command-line passwords are real even when weak: skip placeholders and references."""
    low = value.lower()
    if len(value) < 3 or value[0] in "$%<{[(*" or _TEMPLATE.search(value) or low in _OBVIOUS:
        return False
    if "password" in low and len(low) <= 16:  # mypassword, SOME_PASSWORD, thisismypassword
        return False
    return not any(w in low for w in _WEAK_PLACEHOLDERS) and not set(low) <= set("x*.-_0")
