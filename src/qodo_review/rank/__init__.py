"""Ranking texts by likeness, in memory and in pure Python: ``bm25`` (the lexical index, built and queried in
one run, never written anywhere) and ``fuse`` (combining rankings: BM25 with embeddings)."""

from __future__ import annotations

from .bm25 import BM25, tokenize
from .fuse import cosine, dot, reciprocal_rank_fusion, unit

__all__ = ["BM25", "cosine", "dot", "reciprocal_rank_fusion", "tokenize", "unit"]
