"""/similar_issue's ranking on a corpus of 2,000+ issues with planted duplicate pairs: recall@5 with BM25 alone and
with embeddings (a deterministic fake: the fake provider's character-trigram vectors), the time to index 2,000 issues
and to answer one query, and peak memory. Goal: index + answer in <= 2 s on one core, <= 200 MB.

    python bench/bench_similar.py [--issues 2000] [--pairs 100] [--seed 7]

The corpus: generated issues (components x symptoms x contexts, filler sentences), the real issue texts of
../shared/realdata (webhook examples and API fixtures: titles and bodies, deduplicated) mixed in when present, and
``--pairs`` planted duplicates, each restated with other words (synonyms, another template, reordered facts). Every
issue records where it came from; the run prints the counts. The search runs through ``similar.search`` with an
in-memory stand-in for the GitHub client, so the skip rules, tokenizer, index and fusion are the product's own.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fakes.llm_server import fake_embedding  # noqa: E402

from qodo_review.config import ReviewConfig  # noqa: E402
from qodo_review.github.issues import issue_from_json  # noqa: E402
from qodo_review.models import Issue  # noqa: E402
from qodo_review.rank import BM25  # noqa: E402
from qodo_review.redact import Redactor  # noqa: E402
from qodo_review.similar import Providers, search  # noqa: E402
from qodo_review.tasks import similar  # noqa: E402

REALDATA = ROOT.parent / "shared" / "realdata"
EMBED_DIMS = int(os.environ.get("BENCH_EMBED_DIMS", "512"))  # the fake's width (the fake server's is 64)

COMPONENTS = [
    c.strip()
    for c in """
login page, settings page, avatar upload, CSV export, search index, webhook delivery,
email notifications, billing page, API rate limiter, dashboard charts, dark mode theme,
file attachments, OAuth callback, password reset, mobile menu, PDF report, audit log,
team invitations, SSO redirect, image thumbnails, markdown preview, comment editor, calendar sync,
timezone picker, CLI installer, Docker image, Helm chart, background jobs, cache layer,
GraphQL endpoint, keyboard shortcuts, drag and drop, 2FA setup, session timeout, activity feed,
tag filter, bulk delete, import wizard, payment webhook, locale switcher
""".replace("\n", " ").split(",")
]
SYMPTOMS = [
    ("crashes", "stops working"),
    ("freezes", "hangs"),
    ("shows a blank screen", "renders nothing"),
    ("returns HTTP 500", "fails with an internal server error"),
    ("is very slow", "takes forever"),
    ("loses data", "drops the saved changes"),
    ("shows the wrong colours", "has broken styling"),
    ("throws a TypeError", "raises a type error"),
    ("times out", "never finishes"),
    ("duplicates entries", "creates the same record twice"),
    ("ignores the setting", "does not respect the option"),
    ("leaks memory", "memory keeps growing"),
    ("redirects in a loop", "keeps redirecting forever"),
    ("sends two emails", "delivers every message twice"),
    ("displays garbled text", "shows mojibake characters"),
]
CONTEXTS = [
    ("on Safari 17", "in Safari on macOS"),
    ("after upgrading to 3.2", "since the 3.2 release"),
    ("with more than 10k rows", "for large tables"),
    ("behind a corporate proxy", "when a proxy is configured"),
    ("on Windows 11", "on a Windows machine"),
    ("in the Docker image", "when running in a container"),
    ("for users with a non-ASCII name", "when the user name has accents"),
    ("on a slow 3G network", "with a bad mobile connection"),
    ("when two tabs are open", "with several browser tabs"),
    ("right after login", "just after signing in"),
    ("with SSO enabled", "when single sign-on is on"),
    ("on ARM64 servers", "on Graviton instances"),
]
FILLER = """Steps to reproduce are below. It happens every time for me. Our team noticed this in production last week.
I searched the existing issues but found nothing. Logs are attached. This blocks our release. Any workaround welcome.
The console shows nothing useful. It worked fine in the previous version. Happy to test a fix. We use the default
configuration. Restarting the service does not help. It started after the last deploy. Version info is in the
details below. I can provide a screen recording. This might be related to the recent refactor.""".replace(
    "\n", " "
).split(". ")
TEMPLATES = [
    ("{c} {s} {x}", "The {c} {s} {x}. {f}. {f}. Error code {e}."),
    ("{C}: {s} {x}", "{f}. When I open the {c} it {s} {x}. {f}. We see {e} in the logs."),
]
DUP_TEMPLATES = [
    ("{s2} in the {c} {x2}", "{f}. Since yesterday the {c} {s2} {x2}. {f}. Logs say {e}."),
    ("Problem with {c} ({x2})", "{f}. {s2} when using the {c} {x2}. The log has {e}. {f}."),
]


def real_texts() -> list[tuple[str, str, str]]:
    """(title, body, source) of the real issue and pull-request texts in ../shared/realdata, deduplicated."""
    found: dict[tuple[str, str], str] = {}

    def walk(node: Any, source: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("title"), str) and "number" in node and ("labels" in node or "state" in node):
                found.setdefault((node["title"], str(node.get("body") or "")), source)
            for value in node.values():
                walk(value, source)
        elif isinstance(node, list):
            for value in node:
                walk(value, source)

    for sub in ("events", "github-api"):
        for path in sorted((REALDATA / sub).rglob("*.json")) if (REALDATA / sub).is_dir() else []:
            try:
                walk(json.loads(path.read_text(encoding="utf-8")), str(path.relative_to(REALDATA)))
            except (ValueError, UnicodeDecodeError):
                continue
    return [(t, b, s) for (t, b), s in found.items()]


def corpus(size: int, pairs: int, seed: int) -> tuple[list[Issue], list[tuple[int, int]], dict[int, str]]:
    """Issues numbered 1..N (newest last), the planted (original, duplicate) pairs, and each issue's source."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, str]] = [(t, b, f"real: {s}") for t, b, s in real_texts()]
    planted: list[tuple[int, int]] = []
    while len(rows) < size - 2 * pairs:
        rows.append((*_render(rng, TEMPLATES, _facts(rng)), "generated"))
    for _ in range(pairs):
        facts = _facts(rng)
        rows.append((*_render(rng, TEMPLATES, facts), "generated: planted original"))
        # Another template and other filler; the symptom and the context each reworded with probability 1/2
        # (a quarter of the pairs share only the component and the error code).
        reword = (rng.random() < 0.5, rng.random() < 0.5)
        rows.append((*_render(rng, DUP_TEMPLATES, facts, reword=reword), "generated: planted duplicate"))
        planted.append((len(rows) - 1, len(rows)))  # 1-based numbers of the pair
    order = list(range(len(rows)))
    rng.shuffle(order)
    numbers = {old: new for new, old in enumerate(order, 1)}
    issues, sources = [], {}
    for old, (title, body, source) in enumerate(rows):
        n = numbers[old]
        created = f"2024-{1 + n * 12 // (len(rows) + 1):02d}-01T00:00:00Z"
        issues.append(Issue(n, title, body, author="user", created_at=created))
        sources[n] = source
    issues.sort(key=lambda i: -i.number)
    return issues, [(numbers[a - 1], numbers[b - 1]) for a, b in planted], sources


def _facts(rng: random.Random) -> dict[str, Any]:
    return {
        "c": rng.choice(COMPONENTS),
        "s": rng.choice(SYMPTOMS),
        "x": rng.choice(CONTEXTS),
        "e": f"E{rng.randrange(1000, 9999)}",
    }


def _render(
    rng: random.Random,
    templates: Sequence[tuple[str, str]],
    facts: dict[str, Any],
    *,
    reword: tuple[bool, bool] = (False, False),
) -> tuple[str, str]:
    title, body = rng.choice(templates)
    values = {
        "c": facts["c"],
        "C": facts["c"].capitalize(),
        "s": facts["s"][0],
        "s2": facts["s"][1 if reword[0] else 0],
        "x": facts["x"][0],
        "x2": facts["x"][1 if reword[1] else 0],
        "e": facts["e"],
    }
    fill = iter(rng.sample(FILLER, 4))
    return title.format(**values), body.replace("{f}", "{f0}", 1).replace("{f}", "{f1}", 1).format(
        f0=next(fill), f1=next(fill), **values
    )


def pages_peak(issues: list[Issue]) -> tuple[float, int]:
    """Peak traced memory of the action's path from GitHub's pages to the answer: 20 pages of 100 issues in the
    real payload's shape (octokit's paginate-issues fixture, about 2.5 KB of metadata each) decoded and held as the
    client's pagination holds them, converted, then searched. Returns (MB, bytes of JSON)."""
    fixture = REALDATA / "github-api" / "octokit-fixtures" / "paginate-issues.normalized-fixture.json"
    shape: dict[str, Any] = {"labels": [], "user": {"login": "user"}, "state": "open"}
    if fixture.is_file():
        shape = json.loads(fixture.read_text(encoding="utf-8"))[0]["response"][0]
    rows = [{**shape, "number": i.number, "title": i.title, "body": i.body, "created_at": i.created_at} for i in issues]
    pages = [json.dumps(rows[k : k + 100]) for k in range(0, len(rows), 100)]
    size = sum(len(p) for p in pages)
    tracemalloc.start()
    items: list[dict[str, Any]] = []
    for page in pages:
        items.extend(json.loads(page))
    read = [issue_from_json(d) for d in items]
    search(Corpus(read), read[0], ReviewConfig(), Providers(settings=None), redactor=Redactor(), nonce="n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6, size


class Corpus:
    """The GitHub client's two reads, from memory."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues

    def list_issues(self, limit: int) -> list[Issue]:
        return self.issues[:limit]

    def first_comments(self, number: int) -> list[str]:
        return []


PARAPHRASES = {alt: canon for canon, alt in SYMPTOMS + CONTEXTS}


def lexical_fake(text: str) -> list[float]:
    """The fake provider's vectors (character trigrams hashed): a weak model that knows no synonyms."""
    return fake_embedding(text, EMBED_DIMS)


def paraphrase_fake(text: str) -> list[float]:
    """The same after mapping the generator's paraphrases to one wording: a model that knows these synonyms."""
    for alt, canon in PARAPHRASES.items():
        text = text.replace(alt, canon)
    return fake_embedding(text, EMBED_DIMS)


def fake_embedder(fake: Callable[[str], list[float]]) -> Callable[[Sequence[str]], tuple[list[list[float]], int]]:
    cache: dict[str, list[float]] = {}

    def embed(texts: Sequence[str]) -> tuple[list[list[float]], int]:
        return [cache[t] if t in cache else cache.setdefault(t, fake(t)) for t in texts], 0

    return embed


def recall(issues: list[Issue], pairs: list[tuple[int, int]], fake: Callable[[str], list[float]] | None) -> float:
    """recall@5 over both directions of every planted pair (the other one of the pair among the top 5)."""
    by_number = {i.number: i for i in issues}
    config = ReviewConfig(similar_embeddings="fake" if fake else "")
    providers = Providers(settings=None, embed=fake_embedder(fake) if fake else None)
    github = Corpus(issues)
    hits = total = 0
    for a, b in pairs:
        for query, wanted in ((a, b), (b, a)):
            found, _ = search(github, by_number[query], config, providers, redactor=Redactor(), nonce="n")
            hits += wanted in [m.issue.number for m in found.matches]
            total += 1
    return hits / total


def timed(issues: list[Issue], target: Issue, repeat: int) -> dict[str, float]:
    """Best of ``repeat``: tokenize + index the corpus, answer one query, the whole search; tracemalloc peak."""
    docs_time = index_time = answer_time = whole = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        docs = [similar.document(i) for i in issues]
        tokenized = time.perf_counter()
        index = BM25(docs)
        built = time.perf_counter()
        index.search(similar.document(target), similar.POOL)
        answered = time.perf_counter()
        docs_time, index_time = min(docs_time, tokenized - start), min(index_time, built - tokenized)
        answer_time = min(answer_time, answered - built)
        start = time.perf_counter()
        search(Corpus(issues), target, ReviewConfig(), Providers(settings=None), redactor=Redactor(), nonce="n")
        whole = min(whole, time.perf_counter() - start)
    tracemalloc.start()
    search(Corpus(issues), target, ReviewConfig(), Providers(settings=None), redactor=Redactor(), nonce="n")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # With embeddings: the vectors are ready (a provider's latency is not ours); redaction of the texts and the
    # cosines are what the run adds.
    embed = fake_embedder(lexical_fake)
    fused = Providers(settings=None, embed=embed)
    config = ReviewConfig(similar_embeddings="fake")
    search(Corpus(issues), target, config, fused, redactor=Redactor(), nonce="n")  # fills the fake's cache
    with_embeddings = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        search(Corpus(issues), target, config, fused, redactor=Redactor(), nonce="n")
        with_embeddings = min(with_embeddings, time.perf_counter() - start)
    return {
        "tokenize": docs_time,
        "index": index_time,
        "answer": answer_time,
        "search": whole,
        "traced": peak,
        "embeddings": with_embeddings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    issues, pairs, sources = corpus(args.issues, args.pairs, args.seed)
    counts: dict[str, int] = {}
    for source in sources.values():
        key = "real" if source.startswith("real") else source
        counts[key] = counts.get(key, 0) + 1
    print(f"corpus: {len(issues)} issues; " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    real = sorted({s for s in sources.values() if s.startswith("real")})
    if real:
        print(f"real texts from {len(real)} files, e.g. {real[0]}")
    target = next(i for i in issues if i.number == pairs[0][0])
    t = timed(issues, target, args.repeat)
    print(
        f"index {len(issues)} issues: tokenize {t['tokenize']:.3f} s + index {t['index']:.3f} s; "
        f"answer {t['answer'] * 1000:.1f} ms; whole search (skip rules, index, answer) {t['search']:.3f} s"
    )
    print(
        f"whole search with {EMBED_DIMS}-dimension embeddings ready (redaction, cosines, fusion): "
        f"{t['embeddings']:.3f} s"
    )
    peak, size = pages_peak(issues)
    print(f"from {len(issues)} issues' JSON pages ({size / 1e6:.1f} MB) to the answer: tracemalloc peak {peak:.1f} MB")
    print(
        f"memory: tracemalloc peak of one search {t['traced'] / 1e6:.1f} MB; "
        f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    fakes: list[tuple[str, Callable[[str], list[float]] | None]] = [
        ("BM25 alone", None),
        ("BM25 + lexical fake embeddings (RRF)", lexical_fake),
        ("BM25 + paraphrase-aware fake embeddings (RRF)", paraphrase_fake),
    ]
    for name, fake in fakes:
        start = time.perf_counter()
        r = recall(issues, pairs, fake)
        print(f"recall@5 {name}: {r:.3f} over {2 * len(pairs)} queries ({time.perf_counter() - start:.1f} s)")
    print(f"peak RSS at the end: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
