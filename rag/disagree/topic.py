"""The differences among the articles of a topic (``rag disagreements QUERY``).

The topic's passages are the index's hybrid search for the query (the same
retriever as every answer, with the same filters), up to :data:`TOPIC_PASSAGES`;
the passages of one article are joined into one numbered source, best article
first, and :func:`rag.disagree.flags.find_disagreements` compares them. Each
value's ``n`` is its article's number in ``sources``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.disagree.facts import GAP
from rag.disagree.flags import find_disagreements
from rag.disagree.slots import RULE, SlotRule
from rag.types import Passage, SearchFilters

TOPIC_PASSAGES = 30
"""Passages searched for a topic (about as many articles at most)."""


@dataclass
class TopicSource:
    """One article of the topic: its retrieved passages' text, joined."""

    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    passages: list[Passage] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.passages[0].id if self.passages else self.article_id

    @property
    def text(self) -> str:
        ordered = sorted(self.passages, key=lambda p: p.start)
        return GAP.join(p.text for p in ordered)


def topic_sources(passages: list[Passage]) -> list[TopicSource]:
    """The passages grouped by article, in order of each article's best passage."""
    out: dict[str, TopicSource] = {}
    for p in passages:
        if p.article_id not in out:
            out[p.article_id] = TopicSource(p.article_id, p.title, p.source, p.published_at, p.url)
        out[p.article_id].passages.append(p)
    return list(out.values())


def differences(opened: Any, query: str, filters: SearchFilters | None = None,
                k: int = TOPIC_PASSAGES, rule: SlotRule = RULE) -> dict:
    """``{"query", "disagreements", "sources"}`` for ``query`` over ``opened``
    (from :func:`rag.search.open_index.open_index`)."""
    passages = opened.retriever.search(query, k, filters) if query.strip() else []
    sources = topic_sources(passages)
    flags = find_disagreements(sources, opened.embedder.embed, rule)
    return {
        "query": query,
        "disagreements": [f.to_dict() for f in flags],
        "sources": [{"n": n, "article_id": s.article_id, "title": s.title, "source": s.source,
                     "published_at": s.published_at, "url": s.url}
                    for n, s in enumerate(sources, start=1)],
    }
