"""Where the PR's diff comes from: GitHub's diff media type, else the paginated files endpoint."""

from __future__ import annotations

from .diff import RawFile, raw_files_from_api, split_diff
from .github import GitHub
from .models import PullRequest


def fetch_files(github: GitHub, pr: PullRequest, workspace: str) -> list[RawFile]:
    """The PR's changed files. The diff media type first; GitHub refuses it (406) above 300 files or
    20,000 lines, and then the files endpoint (up to 3,000 files, large patches omitted) is used."""
    text = github.get_diff(pr.number)
    if text is not None:
        return split_diff(text)
    return raw_files_from_api(github.list_files(pr.number))
