"""Combining rankings: reciprocal rank fusion (BM25's order with the embeddings' order) and cosine similarity.

RRF needs no score scaling: BM25 scores and cosines live on different scales, ranks do not (Cormack, Clarke
and Buettcher, "Reciprocal Rank Fusion outperforms Condorcet and individual Rank Learning Methods", 2009).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

RRF_K = 60  # the paper's constant: damps the weight of the very first ranks


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Documents ordered by the sum of 1 / (k + rank) over the rankings they appear in (ties: lower id)."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, 1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda d: (-scores[d], d))


def unit(v: Sequence[float]) -> list[float]:
    """The vector scaled to length 1 (a zero vector stays zero): cosines become plain dot products."""
    norm = math.sqrt(sum(map(operator.mul, v, v)))
    return [x / norm for x in v] if norm else list(v)


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """One pass over both vectors (map with operator.mul: the fastest pure-Python form)."""
    return float(sum(map(operator.mul, a, b)))


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity; 0 for a zero vector or vectors of different lengths (a server's odd answer)."""
    if len(a) != len(b) or not a:
        return 0.0
    norm = math.sqrt(sum(map(operator.mul, a, a))) * math.sqrt(sum(map(operator.mul, b, b)))
    return sum(map(operator.mul, a, b)) / norm if norm else 0.0
