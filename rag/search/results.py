"""Search results as JSON-ready rows: what ``rag search --json``, ``POST /v1/search`` and the
MCP ``search_articles`` tool return (one code path)."""

from __future__ import annotations

from rag.search.retrieval import SearchFilters
from rag.types import Passage


def passage_row(rank: int, passage: Passage) -> dict:
    """One search result: its rank, fused score, ids, article metadata and text."""
    return {"rank": rank, "score": round(passage.score, 6), "passage_id": passage.id,
            "article_id": passage.article_id, "title": passage.title, "source": passage.source,
            "published_at": passage.published_at, "url": passage.url, "text": passage.text}


def search_rows(opened, query: str, k: int, filters: SearchFilters | None = None) -> list[dict]:
    """The ``k`` best passages of the opened index for ``query`` as rows, best first."""
    return [passage_row(i, p) for i, p in enumerate(opened.retriever.search(query, k, filters), start=1)]
