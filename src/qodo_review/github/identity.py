"""Who we are and who the others are: our own login (the author of the comments we may edit) and a user's
permission on the repository."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from qodo_review.errors import GitHubError

from .graphql import GraphQLAPI
from .payloads import _obj
from .transport import _decode, _is_404

log = logging.getLogger(__name__)

# The account that writes with the workflow's token (GITHUB_TOKEN).
WORKFLOW_BOT = "github-actions[bot]"
# Installation tokens (the workflow's, a GitHub App's) start with this; GET /user refuses them.
INSTALLATION_TOKEN_PREFIX = "ghs_"  # noqa: S105 - a prefix, not a secret
VIEWER_QUERY = "query Viewer { viewer { login } }"
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?")  # a GitHub login, an App's with [bot]
_PERMISSIONS = frozenset({"admin", "maintain", "write", "triage", "read", "none"})


class IdentityAPI(GraphQLAPI):
    """Our login (asked once, learnt from the comments we create) and collaborators' roles."""

    _login: str | None = None  # our account's login, once known

    def own_login(self) -> str:
        """The account our comments are written by, asked once: the only author whose comments we edit.

        An installation token (`ghs_`: the workflow's token, a GitHub App's) cannot call GET /user, but
        GraphQL's viewer names its account: github-actions[bot] for the workflow's, `<app>[bot]` for an App's
        (without it, an App's earlier summary was never found: a new one each run). A user token (a PAT)
        writes as its user, from GET /user. If neither answers, the workflow's bot; a comment this client
        creates names its author, which then overrides the guess."""
        if self._login is None:
            self._login = WORKFLOW_BOT
            try:
                if self._token.startswith(INSTALLATION_TOKEN_PREFIX):
                    login = _obj(self.graphql(VIEWER_QUERY).get("viewer")).get("login")
                else:
                    login = _obj(_decode(self._request("GET", f"{self.api_url}/user"))).get("login")
            except GitHubError as exc:
                log.info("our login is unknown (%s); our comments are those of %s", exc, WORKFLOW_BOT)
            else:
                self._login = login if isinstance(login, str) and _LOGIN.fullmatch(login) else WORKFLOW_BOT
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
