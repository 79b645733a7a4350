"""The link policy: where a URL in model text may point (this repository on its host, or relative paths that
stay inside it), how a refused URL is defanged for display, how an allowed one is spelt, and which `@`
GitHub would read as an e-mail address."""

from __future__ import annotations

import enum
import html
import re
from dataclasses import dataclass
from urllib.parse import unquote

from .text import _clean_text


class _Verdict(enum.Enum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"
    DANGEROUS = "dangerous"


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*+):")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def _unescape(m: re.Match[str]) -> str:
    return m[1]


@dataclass(frozen=True)
class _Scope:
    """Where links may point: this repository on its web host (``host/owner/name``, lower-cased)."""

    host: str
    owner: str
    name: str

    @staticmethod
    def parse(repo: str) -> _Scope:
        host, _, rest = repo.strip().strip("/").lower().partition("/")
        owner, _, name = rest.partition("/")
        if not (host and owner and name) or "/" in name:
            return _Scope("", "", "")  # no repository: no absolute link is kept
        return _Scope(host, owner, name)

    def holds(self, path: str) -> bool:
        """Whether a URL path (before ``?``/``#``) is in this repository, the way a browser resolves it."""
        segments = [unquote(s).lower() for s in path.split("/")]
        if any(s in (".", "..") for s in segments):  # "/o/r/../../evil" is /evil once the browser is done
            return False
        return bool(self.owner) and segments[1:3] == [self.owner, self.name]


def _classify(url: str, scope: _Scope) -> _Verdict:
    """Where a browser would go: http(s) URLs into this repository on its host, and relative URLs that stay
    there, are allowed; any other repository, even on the same host, is not."""
    url = html.unescape(_BACKSLASH_ESCAPE.sub(_unescape, url))
    url = _clean_text(url).strip(" \t\n\f\v").replace("\t", "").replace("\n", "")
    if re.sub(r"\s+", "", url).lower().startswith(("javascript:", "vbscript:", "data:")):
        return _Verdict.DANGEROUS
    url = url.replace("\\", "/")  # browsers read "\" as "/" in http(s) URLs
    m = _SCHEME.match(url)
    if m is not None:
        if m[1].lower() not in ("http", "https"):
            return _Verdict.BLOCKED
        rest = url[m.end() :]
    elif url.startswith("//"):
        rest = url
    else:
        path = re.split(r"[?#]", url, maxsplit=1)[0]
        if path.startswith("/"):  # from the host's root: only into this repository
            return _Verdict.ALLOWED if scope.holds(path) else _Verdict.BLOCKED
        # relative to the page (.../owner/name/pull/1): fine unless ".." climbs, maybe out of the repository
        climbs = any(unquote(s) == ".." for s in path.split("/"))
        return _Verdict.BLOCKED if climbs else _Verdict.ALLOWED
    # "http:evil.com" and "https:////evil.com" both reach evil.com: skip every slash.
    authority, _, path = _split_authority(rest.lstrip("/"))
    hostname = re.sub(r":[0-9]*$", "", authority.rpartition("@")[2]).lower()
    return _Verdict.ALLOWED if hostname == scope.host and scope.holds(path) else _Verdict.BLOCKED


def _split_authority(rest: str) -> tuple[str, str, str]:
    """(authority, "", path before any query or fragment, with its leading "/")."""
    m = re.search(r"[/?#]", rest)
    if m is None:
        return rest, "", ""
    path = rest[m.start() :] if rest[m.start()] == "/" else ""
    return rest[: m.start()], "", re.split(r"[?#]", path, maxsplit=1)[0]


def _defang(url: str) -> str:
    """``https://evil.example/x`` -> ``hxxps://evil[.]example/x``."""
    m = _SCHEME.match(url)
    head, rest = "", url
    if m is not None:
        scheme = m[1].lower()
        if scheme not in ("http", "https", "ftp"):
            return f"{m[1]}[:]{url[m.end() :]}"
        head, rest = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}[scheme] + ":", url[m.end() :]
    slashes = len(rest) - len(rest.lstrip("/\\"))
    authority, slash, path = rest[slashes:].partition("/")
    return head + rest[:slashes] + authority.replace(".", "[.]") + slash + path


def _canonical_destination(dest: str) -> str:
    """Our own spelling of an allowed destination: no title, nothing that could swallow text."""
    dest = _BACKSLASH_ESCAPE.sub(_unescape, dest)
    encoded = "".join(f"%{ord(c):02X}" if c in " ()<>`|\\\"'" or c.isspace() else c for c in dest)
    return encoded.replace("&", "\\&")


# GFM makes "local@domain.tld" a mailto link: a ZWSP after "@" breaks the domain (as for a mention).
_EMAIL_AT = r"(?<=[A-Za-z0-9.+_-])@(?=[A-Za-z0-9_-]++\.[A-Za-z0-9_-])"
