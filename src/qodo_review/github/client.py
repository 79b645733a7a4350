"""`GitHub`: the client the pipeline holds, one class composed of the transport and the endpoint areas."""

from __future__ import annotations

from .checks import ChecksAPI
from .comments import CommentsAPI
from .contents import ContentsAPI
from .graphql import GraphQLAPI
from .issues import IssuesAPI
from .pulls import PullsAPI


class GitHub(PullsAPI, ContentsAPI, CommentsAPI, ChecksAPI, GraphQLAPI, IssuesAPI):
    """A small GitHub REST client for one repository. Every request is counted in `requests_made`.

    Each base adds the endpoints of one area on top of the shared `Transport` (which alone holds state:
    the session, the token, the time budget); this class only names the whole."""

    def __repr__(self) -> str:
        return f"GitHub(api_url={self.api_url!r}, repo={self.repo!r})"

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
