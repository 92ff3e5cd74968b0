"""Events: what one or more outlets reported about one development, in date order.

Articles of a story whose story sentences are near-duplicates of each other
(a syndicated copy, a rewrite of the same wire report, the same development
in similar words) are one event: an article joins an event when the content
words (:func:`rag.index.words.content_terms`) of its best sentence and of the
event's first article's best sentence overlap by at least
``SAME_EVENT_OVERLAP`` of the shorter one. An event lists
every outlet that carried it, the first by publication time and the
followers with their delay. Its text is the first outlet's best sentence,
cited by every member whose own excerpt supports it; a member that does not
adds its own best sentence with its own marker. The citations are checked by
the answer's citation code (:func:`rag.answer.citations.process_citations`)
and an event without a supported citation is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from rag.answer.citations import SUPPORT_THRESHOLD, Citation, parse_markers, process_citations, support_score
from rag.answer.context import Source
from rag.index.words import content_terms
from rag.timeline.dates import delay_text, published_datetime, stated_date

SAME_EVENT_OVERLAP = 0.6
"""Share of the shorter best sentence's content words the other must have for one event."""
MIN_TERMS = 4
"""A best sentence with fewer content words ("Is he a liar?") joins no other."""


@dataclass
class Outlet:
    """One article of an event: who published it, when, and how long after the first."""

    source: str | None
    published_at: str | None
    article_id: str
    delay_s: float = 0.0

    @property
    def delay(self) -> str:
        return delay_text(self.delay_s)

    def to_dict(self, with_delay: bool = True) -> dict:
        out = {"source": self.source, "published_at": self.published_at, "article_id": self.article_id}
        if with_delay:
            out["delay_s"] = round(self.delay_s)
        return out


@dataclass
class Event:
    """One development of the story (module doc)."""

    date: date
    date_kind: str  # "published" or "stated"
    outlets: list[Outlet]  # first outlet first, then by publication time
    text: str  # cited sentences, markers [1].. into ``citations``
    citations: list[Citation]
    sources: list[Source] = field(default_factory=list)  # the cited excerpts, numbered as the markers
    relevance: float = 0.0  # best member's cosine to the query
    summary: str | None = None  # a model's one-line summary, when one was written and checked

    @property
    def first(self) -> Outlet:
        return self.outlets[0]

    def to_dict(self) -> dict:
        return {"date": self.date.isoformat(), "date_kind": self.date_kind,
                "first": self.first.to_dict(with_delay=False),
                "outlets": [o.to_dict() for o in self.outlets[1:]],
                "text": self.text, "citations": [c.to_dict() for c in self.citations],
                **({"summary": self.summary} if self.summary else {})}


def same_event_groups(query: str, sources: list[Source]) -> list[list[int]]:
    """Indexes of ``sources`` grouped into events (module doc): in publication order,
    each article joins the first event whose leading article's best sentence overlaps
    its own, else it leads a new event (no chaining: A like B and B like C does not
    put A with C)."""
    order = sorted(range(len(sources)), key=lambda i: (published_datetime(sources[i].published_at),
                                                       sources[i].article_id))
    terms = {i: content_terms(best_sentence(query, sources[i])) for i in order}
    groups: list[list[int]] = []
    for i in order:
        for group in groups:
            if similar(terms[group[0]], terms[i]):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def similar(a: set[str], b: set[str]) -> bool:
    """Two best sentences tell one development (``SAME_EVENT_OVERLAP`` of the shorter)."""
    shorter = min(len(a), len(b))
    return shorter >= MIN_TERMS and len(a & b) >= SAME_EVENT_OVERLAP * shorter


def make_event(query: str, members: list[tuple[Source, float]]) -> Event | None:
    """The event of ``members`` (dated sources with their cosine), or None when no
    citation of it is supported."""
    members = sorted(members, key=lambda m: (published_datetime(m[0].published_at), m[0].article_id))
    sources = [m[0] for m in members]
    first_time = published_datetime(sources[0].published_at)
    outlets = [Outlet(s.source, s.published_at, s.article_id,
                      (published_datetime(s.published_at) - first_time).total_seconds()) for s in sources]
    text = cited_text(query, sources)
    cited = process_citations(text, sources)
    citations = [c for c in cited.citations if c.supported]
    if not citations or len(citations) != len(cited.citations):
        return None
    day, kind = event_date(sources, cited.citations)
    return Event(day, kind, outlets, cited.text, cited.citations, [sources[int(i)] for i in _cited_order(text)],
                 relevance=max(m[1] for m in members))


def cited_text(query: str, sources: list[Source]) -> str:
    """The event's sentences, each followed by the markers of the sources that support it."""
    claims: list[tuple[str, list[int]]] = []
    for n, source in enumerate(sources, start=1):
        for claim, numbers in claims:
            if support_score(claim, source.full_text) >= SUPPORT_THRESHOLD:
                numbers.append(n)
                break
        else:
            claims.append((best_sentence(query, source), [n]))
    return " ".join(claim + "".join(f"[{n}]" for n in numbers) for claim, numbers in claims)


def best_sentence(query: str, source: Source) -> str:
    """The excerpt sentence sharing the most content words with ``query`` (the first on a tie)."""
    terms = content_terms(query)
    return max(source.sentences or [source.text], key=lambda s: len(terms & content_terms(s))).strip()


def _cited_order(text: str) -> list[int]:
    """Source indexes (0-based) in the order the markers of ``text`` first name them
    (the numbering :func:`process_citations` gives them)."""
    order: list[int] = []
    for marker in parse_markers(text):
        order.extend(n - 1 for n in marker.numbers if n - 1 not in order)
    return order


def event_date(sources: list[Source], citations: list[Citation]) -> tuple[date, str]:
    """The date a cited sentence names, resolved against its article's publication
    time, the first outlet's first; else the first outlet's publication day."""
    for citation in citations:
        published = published_datetime(citation.published_at)
        for quote in citation.quotes or [citation.quote]:
            day = stated_date(quote, published)
            if day is not None:
                return day, "stated"
    first = published_datetime(sources[0].published_at)
    assert first is not None  # events hold dated articles only
    return first.date(), "published"


def sort_key(event: Event) -> tuple[date, datetime]:
    return event.date, published_datetime(event.first.published_at)
