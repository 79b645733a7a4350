"""Who we are and who the others are: our own login (the author of the comments we may edit) and a user's
permission on the repository."""

from __future__ import annotations

import logging
from urllib.parse import quote

from qodo_review.errors import GitHubError

from .payloads import _obj
from .transport import Transport, _decode, _is_404

log = logging.getLogger(__name__)

# The account that writes with the workflow's token (GITHUB_TOKEN).
WORKFLOW_BOT = "github-actions[bot]"
# Installation tokens (the workflow's, a GitHub App's) start with this; GET /user refuses them.
INSTALLATION_TOKEN_PREFIX = "ghs_"  # noqa: S105 - a prefix, not a secret
_PERMISSIONS = frozenset({"admin", "maintain", "write", "triage", "read", "none"})


class IdentityAPI(Transport):
    """Our login (asked once, learnt from the comments we create) and collaborators' roles."""

    _login: str | None = None  # our account's login, once known

    def own_login(self) -> str:
        """The account our comments are written by, asked once: the only author whose comments we edit.

        An installation token (`ghs_`: the workflow's token, a GitHub App's) cannot call GET /user; the
        workflow's writes as github-actions[bot]. A user token (a PAT) writes as its user, from GET /user.
        A comment this client creates names its author, which then overrides the guess (an App's bot)."""
        if self._login is None:
            self._login = WORKFLOW_BOT
            if not self._token.startswith(INSTALLATION_TOKEN_PREFIX):
                try:
                    login = _obj(_decode(self._request("GET", f"{self.api_url}/user"))).get("login")
                except GitHubError as exc:
                    log.info("GET /user failed (%s); our comments are those of %s", exc, WORKFLOW_BOT)
                else:
                    self._login = str(login) if isinstance(login, str) and login else WORKFLOW_BOT
        return self._login

    def _learn_login(self, login: str) -> None:
        if login:
            self._login = login

    def get_permission(self, login: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        resp = self._request("GET", self._url(f"collaborators/{quote(login, safe='')}/permission"), passthrough=_is_404)
        if resp.status_code == 404:  # not a user GitHub knows: no permission at all
            return "none"
        data = _obj(_decode(resp))
        # `permission` folds maintain into write and triage into read; `role_name` is exact (when present).
        role = str(data.get("role_name") or data.get("permission") or "none")
        return role if role in _PERMISSIONS else "none"
