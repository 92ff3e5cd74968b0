"""Hybrid search: dense (FAISS) and lexical (BM25) candidates, fused.

Fusion is weighted reciprocal rank fusion of three rankings (passage BM25,
dense cosine, and each passage's best-matching sentence under BM25) plus soft
boosts for publishers and
dates that the question names (see ``rag.search.query_hints``); the weights were
measured on the MultiHop-RAG dev questions (docs/retrieval.md). The final list
is diversified: at most ``max_per_article`` passages per article and no
passage nearly identical (cosine >= ``duplicate_threshold``) to one above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from rag.config import RetrievalSettings
from rag.embed.base import Embedder
from rag.index.snapshot import IndexSnapshot
from rag.search.query_hints import QueryHints, query_hints
from rag.types import Passage


@dataclass
class SearchFilters:
    """Hard filters: only passages of these publishers, published in this range."""

    sources: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None

    def is_empty(self) -> bool:
        return not self.sources and self.since is None and self.until is None


class Retriever:
    """Searches one index snapshot."""

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, settings: RetrievalSettings | None = None):
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.known_sources = snapshot.list_sources()

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
               query_vector: np.ndarray | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, each with its fused ``score``."""
        rows, scores = self.search_rows(query, k, filters, query_vector)
        passages = self.snapshot.passages(rows)
        for passage, score in zip(passages, scores):
            passage.score = float(score)
        return passages

    def search_rows(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
                    query_vector: np.ndarray | None = None) -> tuple[list[int], list[float]]:
        """Like ``search`` but returns (rows, scores) without reading passage text."""
        s = self.settings
        k = k or s.k
        if len(self.snapshot) == 0 or not query.strip():
            return [], []
        allowed = self._allowed(filters)
        if allowed is not None and not allowed.any():
            return [], []
        if query_vector is None:
            query_vector = self.embedder.embed([query])[0]
        fused = np.zeros(len(self.snapshot), dtype=np.float64)

        lexical = self.snapshot.lexical.scores(query)
        if allowed is not None:
            lexical = np.where(allowed, lexical, 0.0)
        lex_rows = top_rows(lexical, s.candidates)
        lex_rows = lex_rows[lexical[lex_rows] > 0]
        fused[lex_rows] += s.lexical_weight / (s.rrf_k + 1 + np.arange(len(lex_rows)))

        _, dense_rows = self.snapshot.vectors.search(query_vector, s.candidates, allowed)
        fused[dense_rows] += s.dense_weight / (s.rrf_k + 1 + np.arange(len(dense_rows)))

        candidates = np.flatnonzero(fused)
        if s.sentence_weight:
            # Best-sentence BM25 re-orders the candidates; it adds none of its own.
            best = self.snapshot.sentences.scores(query)[candidates]
            order = np.argsort(-best, kind="stable")
            ranked = candidates[order][best[order] > 0]
            fused[ranked] += s.sentence_weight / (s.rrf_k + 1 + np.arange(len(ranked)))
        hints = query_hints(query, self.known_sources)
        fused[candidates] += self._hint_boost(candidates, hints)
        order = candidates[np.argsort(-fused[candidates], kind="stable")]
        picked = self._diversify(order, k)
        return picked, [float(fused[r]) for r in picked]

    def _allowed(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        snap = self.snapshot
        mask = np.ones(len(snap), dtype=bool)
        if filters.sources:
            wanted = {x.lower() for x in filters.sources}
            mask &= np.array([src.lower() in wanted for src in snap.sources], dtype=bool)
        if filters.since is not None:
            mask &= np.array([bool(d) and d >= filters.since.isoformat() for d in snap.dates], dtype=bool)
        if filters.until is not None:
            mask &= np.array([bool(d) and d <= filters.until.isoformat() for d in snap.dates], dtype=bool)
        return mask

    def _hint_boost(self, rows: np.ndarray, hints: QueryHints) -> np.ndarray:
        """Extra fused score for passages whose publisher or date the query names."""
        s = self.settings
        boost = np.zeros(len(rows), dtype=np.float64)
        unit = 1.0 / (s.rrf_k + 1)
        if hints.sources:
            named = set(hints.sources)
            boost += s.source_boost * unit * np.array([self.snapshot.sources[r] in named for r in rows])
        if hints.days or hints.months:
            days, months = set(hints.days), set(hints.months)
            dates = self.snapshot.dates
            match = np.array([1.0 if dates[r] in days else 0.5 if dates[r][:7] in months else 0.0 for r in rows])
            boost += s.date_boost * unit * match
        return boost

    def _diversify(self, order: np.ndarray, k: int) -> list[int]:
        """Best-first picks with a per-article cap and near-duplicate removal."""
        s = self.settings
        picked: list[int] = []
        per_article: dict[str, int] = {}
        picked_vectors: list[np.ndarray] = []
        window = order[: max(k * 10, 50)]
        vectors = self.snapshot.vectors.vectors(window)
        for row, vector in zip(window, vectors):
            article = self.snapshot.article_ids[row]
            if per_article.get(article, 0) >= s.max_per_article:
                continue
            if picked_vectors and float(np.max(np.stack(picked_vectors) @ vector)) >= s.duplicate_threshold:
                continue
            picked.append(int(row))
            picked_vectors.append(vector)
            per_article[article] = per_article.get(article, 0) + 1
            if len(picked) == k:
                break
        return picked


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` highest ``scores``, best first, ties in row order.

    The same as ``np.argsort(-scores, kind="stable")[:n]`` without sorting
    every passage: at 200,000 passages the full sort was a quarter of a search.
    """
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, len(scores) - n)[len(scores) - n]
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[: n - len(above)]
    rows = np.concatenate([above, tied])
    rows.sort()
    return rows[np.argsort(-scores[rows], kind="stable")]
