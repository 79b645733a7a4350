"""/similar_issue's pure parts (rank/, tasks/similar.py, the event and config) and the CLI against the fake GitHub."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
from commands.test_similar_e2e import DUPLICATE, TARGET, populate
from fakes.github_server import FakeGitHub
from hypothesis import given, settings
from hypothesis import strategies as st

from qodo_review import cli
from qodo_review.config import parse_config_text
from qodo_review.errors import AnswerError, ConfigError, UsageError
from qodo_review.event import find_activity, parse_command
from qodo_review.inputs import parse_inputs
from qodo_review.models import Issue
from qodo_review.rank import BM25, cosine, reciprocal_rank_fusion, tokenize
from qodo_review.redact import Redactor
from qodo_review.sanitize import inline_code
from qodo_review.tasks import similar

WORDS = st.sampled_from("crash upload avatar png memory login redirect token cache timeout dark mode export".split())


# --- rank/ --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("The app Crashes when uploading", ["app", "crash", "upload"]),
        ("snake_case and kebab-case", ["snake", "case", "kebab", "case"]),
        ("a I x 42 is", ["42"]),
        ("class pass process", ["class", "pass", "process"]),  # "ss" words keep their s
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_tokenize_stops_at_the_limit() -> None:
    assert len(tokenize("word " * 10_000, limit=100)) == 100


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(WORDS, min_size=1, max_size=12), min_size=2, max_size=30), st.data())
def test_bm25_ranks_a_copy_of_the_query_first(docs: list[list[str]], data: st.DataObject) -> None:
    query = data.draw(st.sampled_from(docs))
    hits = BM25(docs).search(query, top=len(docs))
    assert all(h.score > 0 for h in hits) and len(hits) <= len(docs)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    best = hits[0].score
    # The query's own document scores best (an equal one may tie, since longer copies are not better).
    assert any(docs[h.doc] == query for h in hits if h.score == pytest.approx(best)) or set(docs[hits[0].doc]) >= set(
        query
    )


def test_bm25_exclude_and_top() -> None:
    index = BM25([["crash"], ["crash", "upload"], ["login"]])
    assert [h.doc for h in index.search(["crash"], top=5)] == [0, 1]
    assert [h.doc for h in index.search(["crash"], top=5, exclude=frozenset({0}))] == [1]
    assert index.search(["unknown"], top=5) == []


def test_bm25_index_grows_linearly() -> None:
    """The postings hold one entry per distinct term of each document: twice the corpus, twice the entries."""

    def entries(n: int) -> int:
        docs = [[f"w{i % 50}", f"w{(i * 7) % 50}", f"u{i}"] for i in range(n)]
        return sum(len(p) for p in BM25(docs).postings.values())

    assert entries(2000) == 2 * entries(1000)


def test_fusion_and_cosine() -> None:
    assert reciprocal_rank_fusion([[3, 1, 2], [3, 2, 1]])[0] == 3
    assert reciprocal_rank_fusion([[1], [2]]) == [1, 2]  # a tie: the lower id first
    assert cosine([1.0, 0.0], [1.0, 0.0]) == pytest.approx(1.0)
    assert cosine([1.0], [1.0, 2.0]) == 0.0 and cosine([0.0, 0.0], [1.0, 1.0]) == 0.0


# --- tasks/similar.py --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issue", "why"),
    [
        (Issue(1, "t", "", author="bob"), None),
        (Issue(1, "t", "", author="bob", is_pull=True), "pull request"),
        (Issue(1, "t", "", author="bob", locked=True), "locked"),
        (Issue(1, "t", "", author="bob", labels=("Spam",)), "spam"),
        (Issue(1, "t", "", author="bob", labels=("suspected-spam",)), "spam"),
        (Issue(1, "t", "", author="ghost"), "deleted user"),
        (Issue(1, "t", "", author=""), "deleted user"),
    ],
)
def test_skip_reason(issue: Issue, why: str | None) -> None:
    assert similar.skip_reason(issue, include_prs=False) == why


def test_pull_requests_are_candidates_when_configured() -> None:
    assert similar.skip_reason(Issue(1, "t", "", author="bob", is_pull=True), include_prs=True) is None


def test_parse_rerank_keeps_only_candidates() -> None:
    answer = {
        "matches": [
            {"number": 5, "reason": "same   crash\n\nwith details"},
            {"number": "#7", "reason": "x" * 500},
            {"number": 5, "reason": "repeat"},
            {"number": 999, "reason": "not offered"},
            {"number": True, "reason": "a bool"},
            "junk",
        ]
    }
    parsed = similar.parse_rerank(json.dumps(answer), frozenset({5, 7}), top=5)
    assert parsed == ((5, "same crash with details"), (7, "x" * similar.MAX_REASON_CHARS))
    assert similar.parse_rerank(json.dumps(answer), frozenset({5, 7}), top=1) == ((5, "same crash with details"),)


@pytest.mark.parametrize("text", ["no json here", '{"matches": "all of them"}', '{"summary": "x"}'])
def test_parse_rerank_refuses_what_is_not_the_schema(text: str) -> None:
    with pytest.raises(AnswerError):
        similar.parse_rerank(text, frozenset({1}), top=5)


def test_reply_is_plain_text_whatever_the_issues_say() -> None:
    hostile = Issue(
        9,
        "@everyone [click](https://evil.example) <img src=x onerror=alert(1)> fixes #1",
        "",
        state="closed",
        state_reason="duplicate",
        labels=("bug`](https://evil.example)",),
        author="eve",
    )
    found = similar.Search(
        target=Issue(3, "target", "", author="bob"),
        scanned=10,
        candidates=9,
        skipped={"locked": 1},
        oldest="2021-02-03T00:00:00Z",
        matches=(similar.Match(hostile, "see <script>alert(1)</script> @admins"),),
        notices=("The [embeddings](https://evil.example) failed",),
    )
    body = similar.reply_markdown(found, "https://github.com/o/r/issues")
    assert body.startswith(similar.MARKER)
    assert "[#9](https://github.com/o/r/issues/9)" in body and "closed as duplicate" in body
    assert "[click](https://evil.example)" not in body and "[embeddings](https" not in body
    assert inline_code("bug`](https://evil.example)") in body  # a label is a code span: nothing in it is live
    assert not re.search(r"(?<!\\)<(img|script)", body)  # escaped: shown, never HTML
    assert not re.search(r"(?<![\w\u200b])@everyone", body) and not re.search(r"(?<![\w\u200b])@admins", body)
    assert "Searched 9 of the 10 newest issues, back to 2021-02-03 (skipped: 1 locked)" in body


def test_reply_without_matches() -> None:
    found = similar.Search(Issue(3, "t", "", author="b"), 0, 0, {}, "", ())
    assert "No similar issue was found among the 0 issues searched." in similar.reply_markdown(found, "u")


@pytest.mark.parametrize(
    ("issue", "text"),
    [
        (Issue(1, "t", "", state="open"), "open"),
        (Issue(1, "t", "", state="closed", state_reason="completed"), "closed as completed"),
        (Issue(1, "t", "", state="closed", state_reason="not_planned"), "closed as not planned"),
        (Issue(1, "t", "", state="closed"), "closed"),
    ],
)
def test_state_text(issue: Issue, text: str) -> None:
    assert similar.state_text(issue) == text


def test_embed_text_is_redacted_before_it_is_cut() -> None:
    key = "AKIAQX7ZPL4MN2RS5TUV"
    body = "x" * (similar.MAX_EMBED_CHARS - 30) + f" key {key}"
    text = similar.embed_text(Issue(1, "title", body), Redactor())
    assert key[:8] not in text and len(text) <= similar.MAX_EMBED_CHARS


# --- event, config, inputs ---------------------------------------------------------------------------------


def test_the_command_word() -> None:
    assert parse_command("/similar_issue") == ("similar_issue", "", False)
    with pytest.raises(UsageError):
        parse_command("/similar_issue now")


def plain_issue_comment(body: str) -> dict[str, object]:
    return {
        "action": "created",
        "comment": {"id": 5, "body": body, "user": {"login": "m"}},
        "issue": {"number": 12, "title": "t"},
    }


def test_on_a_plain_issue_only_similar_issue_runs() -> None:
    ran = find_activity("issue_comment", plain_issue_comment("/similar_issue"), None)
    assert (ran.kind, ran.command, ran.pr_number, ran.plain_issue) == ("review", "similar-issue", 12, True)
    assert find_activity("issue_comment", plain_issue_comment("/review"), None).kind == "skip"
    assert find_activity("issue_comment", plain_issue_comment("/similar_issue please"), None).kind == "reject"


def test_dispatch_needs_an_issue_number() -> None:
    activity = find_activity("workflow_dispatch", {"inputs": {"issue-number": "4"}}, None, command="similar-issue")
    assert (activity.command, activity.pr_number) == ("similar-issue", 4)
    with pytest.raises(UsageError, match="issue-number"):
        find_activity("workflow_dispatch", {"inputs": {}}, None, command="similar-issue")


def test_config_keys() -> None:
    assert parse_config_text("similar-embeddings: nomic-embed-text\nsimilar-rerank: true", "f") == {
        "similar_embeddings": "nomic-embed-text",
        "similar_rerank": True,
    }
    assert parse_config_text("similar-embeddings: true", "f") == {"similar_embeddings": "text-embedding-3-small"}
    with pytest.raises(ConfigError, match="'similar-max' must be between 1 and 20"):
        parse_config_text("similar-max: 0", ".qodo.yml")


def test_issue_number_input() -> None:
    assert parse_inputs({"QODO_ISSUE_NUMBER": "12", "QODO_COMMAND": "similar-issue"}).issue_number == 12
    with pytest.raises(UsageError, match="Input 'issue-number'"):
        parse_inputs({"QODO_ISSUE_NUMBER": "twelve"})


# --- the CLI -----------------------------------------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        populate(fake)
        yield fake


def test_cli_lists_similar_issues(github: FakeGitHub) -> None:
    out = io.StringIO()
    env = {"GH_TOKEN": github.token, "GITHUB_API_URL": github.url}
    code = cli.main(["similar-issue", "--repo", "owner/repo", "--issue", str(TARGET)], env=env, stdout=out)
    assert code == 0
    first = re.search(r"^1\. \[#(\d+)\]\(https://github.com/owner/repo/issues/\d+\)", out.getvalue(), re.M)
    assert first is not None and int(first.group(1)) == DUPLICATE
    assert github.find("POST", r".") == [] and github.find("PATCH", r".") == []  # nothing posted


def test_cli_json_and_dry_run(github: FakeGitHub) -> None:
    out = io.StringIO()
    env = {"GH_TOKEN": github.token, "GITHUB_API_URL": github.url, "OPENAI_API_KEY": "sk-test-0123456789abcdef"}
    argv = [
        "similar-issue",
        "--repo",
        "owner/repo",
        "--issue",
        str(TARGET),
        "--rerank",
        "--dry-run",
        "--format",
        "json",
    ]
    assert cli.main(argv, env=env, stdout=out) == 0
    doc = json.loads(out.getvalue())
    assert doc["command"] == "similar-issue" and doc["dry_run"] is True
    assert doc["similar"]["matches"][0]["number"] == DUPLICATE and len(doc["prompts"]) == 1


def test_cli_without_a_token_names_the_variable(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["similar-issue", "--repo", "owner/repo", "--issue", "1"], env={}, stdout=io.StringIO()) == 2
    assert "GH_TOKEN" in capsys.readouterr().err


def test_cli_bad_flag_names_it(github: FakeGitHub, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"GH_TOKEN": github.token, "GITHUB_API_URL": github.url}
    argv = ["similar-issue", "--repo", "owner/repo", "--issue", "1", "--max", "99"]
    assert cli.main(argv, env=env, stdout=io.StringIO()) == 2
    assert "--max must be between 1 and 20" in capsys.readouterr().err


def test_fuse_adds_what_only_the_embeddings_find() -> None:
    lexical = [similar.Hit(0, 5.0, ("crash",)), similar.Hit(1, 4.0, ("png",))]
    vectors = [[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [1.0, 0.0, 0.0]]  # the last: a server's odd length, never first
    fused = similar.fuse(lexical, [1.0, 0.0], vectors)
    assert [h.doc for h in fused] == [0, 1, 2, 3]  # 1: second for BM25, third by cosine; 2: second by cosine only
    only_embedded = next(h for h in fused if h.doc == 2)
    assert similar.lexical_reason(only_embedded) == "close in meaning (embeddings)"
    assert similar.lexical_reason(fused[0]) == "shares “crash”"


def test_issues_are_read_page_by_page_with_their_bodies_cut(github: FakeGitHub) -> None:
    from qodo_review.github import GitHub
    from qodo_review.github.issues import MAX_BODY_CHARS

    github.add_issue(TARGET, "huge", "x" * (MAX_BODY_CHARS * 3), user="ghost", labels=["spam"])
    with GitHub(github.token, github.url, "owner/repo") as client:
        read = client.list_issues(120)
    assert len(read) == 120 and [i.number for i in read][:2] == [TARGET, 150]  # newest first, across 2 pages
    huge = read[0]
    assert len(huge.body) == MAX_BODY_CHARS and huge.author == "ghost" and huge.labels == ("spam",)
