"""GitHub's GraphQL API: the endpoint next to the REST one, queries, and which paths exist at a commit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qodo_review.errors import GitHubError

from .payloads import _obj
from .transport import Transport, _decode


def graphql_url(api_url: str) -> str:
    """https://api.github.com -> .../graphql; GHES https://host/api/v3 -> https://host/api/graphql."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


class GraphQLAPI(Transport):
    """Queries that REST answers only with many requests or a whole tree."""

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a GraphQL query and return its `data`; GraphQL `errors` (sent with HTTP 200) raise."""
        resp = self._request(
            "POST", graphql_url(self.api_url), json={"query": query, "variables": dict(variables or {})}
        )
        body = _obj(_decode(resp))
        if body.get("errors"):
            messages = "; ".join(str(_obj(e).get("message") or e) for e in body["errors"])
            raise GitHubError(self._scrub(f"GitHub GraphQL query failed: {messages}"), resp.status_code)
        return _obj(body.get("data"))

    def paths_exist(self, sha: str, paths: Sequence[str]) -> dict[str, bool]:
        """Which of ``paths`` exist in the repository at commit ``sha``: one GraphQL query whatever their number,
        a few bytes of answer per path (a recursive tree listing would read the whole tree). A path the
        answer does not cover is left out (unknown)."""
        if not paths:
            return {}
        owner, _, name = self.repo.partition("/")
        params = "".join(f", $e{i}: String!" for i in range(len(paths)))
        fields = " ".join(f"p{i}: object(expression: $e{i}) {{ __typename }}" for i in range(len(paths)))
        query = (
            f"query HeadPaths($owner: String!, $name: String!{params}) "
            f"{{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
        )
        variables: dict[str, Any] = {"owner": owner, "name": name}
        variables.update({f"e{i}": f"{sha}:{path}" for i, path in enumerate(paths)})
        found = self.graphql(query, variables).get("repository")
        if not isinstance(found, dict):
            return {}
        return {path: found[f"p{i}"] is not None for i, path in enumerate(paths) if f"p{i}" in found}
