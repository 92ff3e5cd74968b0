"""Hybrid search: dense and lexical (BM25) candidates from the passage store, fused.

Fusion is weighted reciprocal rank fusion of three rankings (passage BM25,
dense cosine, and each passage's best-matching sentence under BM25) plus soft
boosts for publishers and dates that the question names (see
``rag.search.query_hints``); the weights were measured on the MultiHop-RAG dev
questions (docs/retrieval.md). The final list is diversified: at most
``max_per_article`` passages per article and no passage nearly identical
(cosine >= ``duplicate_threshold``) to one above it.

Everything comes through :class:`rag.index.passage_store.PassageSnapshot`, by
passage id: ties anywhere in the ranking break in the store's position order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import RetrievalSettings
from rag.embed.base import Embedder
from rag.index.passage_store import PassageFacts, PassageSnapshot
from rag.search.query_hints import QueryHints, query_hints
from rag.types import Passage, SearchFilters

__all__ = ["Ranking", "Retrieved", "Retriever", "SearchFilters"]


@dataclass
class Ranking:
    """Passage ids of one search, best first, with fused scores and stored vectors."""

    ids: list[str]
    scores: list[float]
    vectors: np.ndarray  # the passages' stored unit vectors, one row each
    query_vector: np.ndarray | None  # None when nothing was searched (empty store or query)


@dataclass
class Retrieved:
    """The passages of one search (each with its fused ``score``), their stored vectors
    and the query vector: what the answer pipeline needs to judge relevance."""

    passages: list[Passage]
    vectors: np.ndarray
    query_vector: np.ndarray | None


class Retriever:
    """Searches one published version of a passage store."""

    def __init__(self, snapshot: PassageSnapshot, embedder: Embedder, settings: RetrievalSettings | None = None):
        self.snapshot = snapshot
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.known_sources = snapshot.list_sources()

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
               query_vector: np.ndarray | None = None) -> list[Passage]:
        """The ``k`` best passages for ``query``, each with its fused ``score``."""
        return self.retrieve(query, k, filters, query_vector).passages

    def retrieve(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
                 query_vector: np.ndarray | None = None) -> Retrieved:
        """Like :meth:`search`, with the passages' vectors and the query vector."""
        ranking = self.rank(query, k, filters, query_vector)
        passages = self.snapshot.fetch(ranking.ids)
        for passage, score in zip(passages, ranking.scores):
            passage.score = score
        return Retrieved(passages, ranking.vectors, ranking.query_vector)

    def rank(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
             query_vector: np.ndarray | None = None) -> Ranking:
        """The fused ranking without reading passage text."""
        s = self.settings
        k = k or s.k
        snap = self.snapshot
        if snap.count() == 0 or not query.strip():
            return Ranking([], [], np.zeros((0, 0), np.float32), None)
        if query_vector is None:
            query_vector = self.embedder.embed([query])[0]
        lexical = snap.lexical_search(query, s.candidates, filters)
        dense = snap.dense_search(query_vector, s.candidates, filters)
        # Candidates in position order, so that every stable sort below breaks ties by position.
        ids = list(dict.fromkeys(lexical.ids + dense.ids))
        facts = snap.facts(ids)
        order = np.argsort(facts.positions, kind="stable")
        ids = [ids[i] for i in order]
        facts = PassageFacts([facts.article_ids[i] for i in order], [facts.sources[i] for i in order],
                             [facts.dates[i] for i in order], facts.positions[order])
        at = {pid: i for i, pid in enumerate(ids)}

        fused = np.zeros(len(ids), dtype=np.float64)
        fused[_where(at, lexical.ids)] += s.lexical_weight / (s.rrf_k + 1 + np.arange(len(lexical)))
        fused[_where(at, dense.ids)] += s.dense_weight / (s.rrf_k + 1 + np.arange(len(dense)))

        candidates = np.flatnonzero(fused)
        if s.sentence_weight:
            # Best-sentence BM25 re-orders the candidates; it adds none of its own.
            best = snap.sentence_scores(query, [ids[i] for i in candidates])
            order = np.argsort(-best, kind="stable")
            ranked = candidates[order][best[order] > 0]
            fused[ranked] += s.sentence_weight / (s.rrf_k + 1 + np.arange(len(ranked)))
        hints = query_hints(query, self.known_sources)
        fused[candidates] += self._hint_boost(candidates, facts, hints)
        order = candidates[np.argsort(-fused[candidates], kind="stable")]
        picked, vectors = self._diversify(order, k, ids, facts.article_ids)
        return Ranking([ids[i] for i in picked], [float(fused[i]) for i in picked], vectors, query_vector)

    def _hint_boost(self, rows: np.ndarray, facts: PassageFacts, hints: QueryHints) -> np.ndarray:
        """Extra fused score for passages whose publisher or date the query names."""
        s = self.settings
        boost = np.zeros(len(rows), dtype=np.float64)
        unit = 1.0 / (s.rrf_k + 1)
        if hints.sources:
            named = set(hints.sources)
            boost += s.source_boost * unit * np.array([facts.sources[r] in named for r in rows])
        if hints.days or hints.months:
            days, months = set(hints.days), set(hints.months)
            dates = facts.dates
            match = np.array([1.0 if dates[r] in days else 0.5 if dates[r][:7] in months else 0.0 for r in rows])
            boost += s.date_boost * unit * match
        return boost

    def _diversify(self, order: np.ndarray, k: int, ids: list[str],
                   article_ids: list[str]) -> tuple[list[int], np.ndarray]:
        """Best-first picks (indexes into ``ids``) with a per-article cap and near-duplicate
        removal, and the picks' vectors."""
        s = self.settings
        picked: list[int] = []
        per_article: dict[str, int] = {}
        picked_vectors: list[np.ndarray] = []
        window = order[: max(k * s.diversify_window_per_result, s.diversify_window_min)]
        vectors = self.snapshot.embeddings([ids[i] for i in window])
        for i, vector in zip(window, vectors):
            article = article_ids[i]
            if per_article.get(article, 0) >= s.max_per_article:
                continue
            if picked_vectors and float(np.max(np.stack(picked_vectors) @ vector)) >= s.duplicate_threshold:
                continue
            picked.append(int(i))
            picked_vectors.append(vector)
            per_article[article] = per_article.get(article, 0) + 1
            if len(picked) == k:
                break
        dim = vectors.shape[1] if vectors.ndim == 2 else 0
        return picked, np.stack(picked_vectors) if picked_vectors else np.zeros((0, dim), np.float32)


def _where(at: dict[str, int], ids: list[str]) -> np.ndarray:
    return np.array([at[i] for i in ids], dtype=np.int64)
