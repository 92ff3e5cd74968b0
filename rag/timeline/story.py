"""The articles of a story and the sentences that carry it.

:func:`story_sources` searches with the existing hybrid search
(:class:`rag.search.retrieval.Retriever`, with near-duplicate removal off so
that syndicated copies stay in), keeps the articles whose best passage is
close enough to the query (the relevance cut below, measured in
``benchmarks/timeline.py``), and picks each article's story sentences with the
answer's sentence scoring (:func:`rag.answer.context.build_sources`, BM25
over the sentences of the retrieved passages, each article's best sentence
first). Each kept article becomes one :class:`rag.answer.context.Source`, the
object the answer cites, so a timeline's citations are the answer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rag.answer.context import Source, build_sources
from rag.search.retrieval import Retriever
from rag.types import Passage, SearchFilters


@dataclass(frozen=True)
class StoryOptions:
    """How a story's articles are found (defaults measured on the MultiHop-RAG dev
    questions with ``python benchmarks/timeline.py --sweep``; docs/timeline.md)."""

    candidates: int = 40  # passages searched (a story spans more articles than an answer's 6)
    per_article: int = 2  # passages kept per article
    margin: float = 0.25  # keep an article whose best cosine is within this of the best article's
    floor: float = 0.2  # and never one below this cosine
    words_per_article: int = 45  # sentence budget: about one sentence per article, then the best others
    max_articles: int = 30
    min_sentence: float = 0.3  # drop an article whose best sentence scores below this share of the best one's


@dataclass
class StoryArticle:
    """One article of the story: its cited excerpt and how close it is to the query."""

    source: Source
    cosine: float


def story_sources(opened: Any, query: str, filters: SearchFilters | None = None,
                  options: StoryOptions = StoryOptions()) -> list[StoryArticle]:
    """The story's articles for ``query``, most relevant first (see module doc)."""
    passages, best = searched(opened, query, filters, options)
    if not best:
        return []
    top = max(c for c, _ in best.values())
    keep = {a for a, (c, _) in best.items() if c >= max(top - options.margin, options.floor)}
    keep = set(sorted(keep, key=lambda a: -best[a][0])[: options.max_articles])
    passages = [p for p in passages if p.article_id in keep]
    sources = build_sources(query, passages, budget_tokens=options.words_per_article * len(keep),
                            count=lambda text: len(text.split()), max_sources=len(keep),
                            neighbours=False, min_relative=options.min_sentence)
    return sorted((StoryArticle(s, best[s.article_id][0]) for s in sources), key=lambda a: -a.cosine)


def searched(opened: Any, query: str, filters: SearchFilters | None = None,
             options: StoryOptions = StoryOptions()) -> tuple[list[Passage], dict[str, tuple[float, str | None]]]:
    """The searched passages and each article's best cosine to the query and its url,
    before the cut (what :func:`story_sources` cuts, and what the benchmark measures)."""
    settings = opened.retriever.settings.model_copy(
        update={"duplicate_threshold": 1.01, "max_per_article": options.per_article})
    found = Retriever(opened.snapshot, opened.embedder, settings).retrieve(query, options.candidates, filters)
    best: dict[str, tuple[float, str | None]] = {}
    if found.query_vector is None:
        return [], best
    cosines = np.asarray(found.vectors, dtype=np.float32) @ np.asarray(found.query_vector, dtype=np.float32)
    for passage, cosine in zip(found.passages, cosines):
        if float(cosine) > best.get(passage.article_id, (-1.0, None))[0]:
            best[passage.article_id] = (float(cosine), passage.url)
    return found.passages, best
