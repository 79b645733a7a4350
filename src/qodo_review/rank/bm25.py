"""Okapi BM25 over a few thousand short documents (issue threads), in pure Python.

Chosen over ``bm25s`` (which needs numpy, and scipy for its sparse indexing): at this size a dict of postings
indexes 2,000 issues and answers a query in well under the goal (bench/bench_similar.py), and the image stays
free of numpy. The index lives in memory for one run; nothing is stored.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

# Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond" (2009): the usual values.
K1 = 1.2
B = 0.75
# A document's first tokens only: a 1 MB log pasted into an issue costs no more than a long report.
MAX_TOKENS_PER_DOC = 4000
CHARS_PER_TOKEN_READ = 16  # the text read for them: enough characters for MAX_TOKENS_PER_DOC words and more
_WORD = re.compile(r"[^\W_]+")  # letters and digits; snake_case and kebab-case split into their words
# Words that say nothing about what an issue is about (English function words and issue-template filler).
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have how i if in into is it its
    me my no not of on or our should so that the their them then there these they this to was we were what when
    where which while who why will with would you your also just like get got using use used am any all some
    one more only than too very issue bug please thanks thank hi hello""".split()
)
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """A light suffix strip (crash, crashes, crashed, crashing -> crash): cheap recall for English reports."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith("ss"):
                return word
            return word[: -len(suffix)]
    return word


def tokenize(text: str, limit: int = MAX_TOKENS_PER_DOC) -> list[str]:
    """Lower-cased words of two characters or more, stop words dropped, lightly stemmed; at most ``limit``."""
    words = _WORD.findall(text[: limit * CHARS_PER_TOKEN_READ].lower())
    return [_stem(w) for w in words if len(w) > 1 and w not in STOPWORDS][:limit]


@dataclass(frozen=True)
class Hit:
    """One ranked document: its index in the corpus, its score, and the query terms that scored most."""

    doc: int
    score: float
    terms: tuple[str, ...]


class BM25:
    """An inverted index of token lists; ``search`` ranks them against a query."""

    def __init__(self, docs: Sequence[Sequence[str]], *, k1: float = K1, b: float = B) -> None:
        self.k1, self.b = k1, b
        self.size = len(docs)
        self.lengths = [len(d) for d in docs]
        self.average = (sum(self.lengths) / self.size) if self.size else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for index, doc in enumerate(docs):
            for term, count in Counter(doc).items():
                self.postings.setdefault(term, []).append((index, count))
        self.idf = {t: math.log(1 + (self.size - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def scores(self, query: Sequence[str]) -> dict[int, dict[str, float]]:
        """Each matching document's score contribution per query term (a term asked twice counts once)."""
        out: dict[int, dict[str, float]] = {}
        k1, b, average = self.k1, self.b, self.average or 1.0
        for term in dict.fromkeys(query):
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf[term]
            for doc, tf in postings:
                norm = k1 * (1 - b + b * self.lengths[doc] / average)
                out.setdefault(doc, {})[term] = idf * tf * (k1 + 1) / (tf + norm)
        return out

    def search(self, query: Sequence[str], top: int, *, exclude: frozenset[int] = frozenset()) -> list[Hit]:
        """The ``top`` best documents with a score above zero, best first (ties: the lower index first)."""
        per_doc = self.scores(query)
        ranked = heapq.nlargest(
            top,
            ((sum(terms.values()), -doc, doc) for doc, terms in per_doc.items() if doc not in exclude),
        )
        return [
            Hit(doc, score, tuple(t for t, _ in sorted(per_doc[doc].items(), key=lambda kv: -kv[1])[:3]))
            for score, _, doc in ranked
            if score > 0
        ]
