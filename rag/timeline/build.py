"""A story's timeline: its events in date order, and its undated articles apart.

``build_timeline(opened, query, filters)`` is the one code path behind
``rag timeline``, the UI's Timeline view and the chat's "who reported first"
answers. It needs no language model (:mod:`rag.timeline.summaries` adds an
optional one-line summary per event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.answer.citations import Citation, process_citations
from rag.answer.context import Source
from rag.timeline.dates import published_datetime
from rag.timeline.events import Event, best_sentence, make_event, same_event_groups, sort_key
from rag.timeline.story import StoryOptions, story_sources
from rag.types import SearchFilters


@dataclass
class UndatedEntry:
    """A story article without a publication date: shown apart, never placed in time."""

    source: Source
    text: str
    citations: list[Citation]

    def to_dict(self) -> dict:
        s = self.source
        return {"source": s.source, "title": s.title, "article_id": s.article_id, "file": s.file,
                "text": self.text, "citations": [c.to_dict() for c in self.citations]}


@dataclass
class Timeline:
    """The events of one story query (``rag timeline --json`` is :meth:`to_dict`)."""

    query: str
    events: list[Event]
    undated: list[UndatedEntry] = field(default_factory=list)
    articles: int = 0  # story articles found (dated and undated, before ``limit``)

    def to_dict(self) -> dict:
        return {"query": self.query, "events": [e.to_dict() for e in self.events],
                "undated": [u.to_dict() for u in self.undated], "articles": self.articles}

    @property
    def empty(self) -> bool:
        return not self.events and not self.undated


def build_timeline(opened: Any, query: str, filters: SearchFilters | None = None, limit: int | None = None,
                   options: StoryOptions = StoryOptions()) -> Timeline:
    """The timeline of ``query`` over the opened index (see the package doc).

    ``limit`` keeps the ``limit`` most relevant events (then in date order).
    """
    story = story_sources(opened, query, filters, options)
    dated = [(a.source, a.cosine) for a in story if published_datetime(a.source.published_at)]
    undated = [a.source for a in story if not published_datetime(a.source.published_at)]
    events = [e for group in same_event_groups(query, [s for s, _ in dated])
              if (e := make_event(query, [dated[i] for i in group])) is not None]
    if limit is not None:
        events = sorted(events, key=lambda e: -e.relevance)[:limit]
    events.sort(key=sort_key)
    return Timeline(query, events, [u for s in undated if (u := undated_entry(query, s))], len(story))


def undated_entry(query: str, source: Source) -> UndatedEntry | None:
    """An undated article's best sentence, cited and checked; None when not supported."""
    cited = process_citations(best_sentence(query, source) + "[1]", [source])
    if not cited.citations or not all(c.supported for c in cited.citations):
        return None
    return UndatedEntry(source, cited.text, cited.citations)
