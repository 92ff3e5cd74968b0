"""The records every role shares: an `Article` as loaded, a `Passage` as indexed and
retrieved, and the `SearchFilters` a search asks a passage store to apply.

They live here, not beside the loader, the chunker or a store, so that search,
answer and UI code can name them without importing ingestion or an index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Article:
    """One news article as loaded from disk.

    ``id`` is stable across edits (it comes from the url, or from the file path
    and position when there is no url), so an edited article is *updated* in the
    index rather than removed and added. ``content_hash`` changes with any edit.
    """

    id: str
    title: str
    body: str
    source: str | None = None
    published_at: str | None = None  # ISO-8601, as found or normalised
    url: str | None = None
    author: str | None = None
    path: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def content_hash(self) -> str:
        """sha256 over every field that ends up in a passage."""
        h = hashlib.sha256()
        for part in (self.title, self.body, self.source, self.published_at, self.url, self.author):
            h.update((part or "").encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()



@dataclass
class Passage:
    """One retrievable passage and the article metadata it needs for display."""

    id: str
    article_id: str
    ordinal: int
    text: str  # verbatim slice of the article body
    header: str
    start: int
    end: int
    token_count: int
    title: str = ""
    source: str | None = None
    published_at: str | None = None
    url: str | None = None
    author: str | None = None
    score: float = 0.0
    extra: dict = field(default_factory=dict)
    path: str | None = None  # the article's file, when it was loaded from one

    @property
    def full_text(self) -> str:
        """Header and text: what is embedded, indexed lexically and shown to the model."""
        return f"{self.header}\n{self.text}"

    @property
    def text_hash(self) -> str:
        """Identifies identical passage content across builds (to reuse vectors)."""
        return hashlib.sha256(self.full_text.encode("utf-8")).hexdigest()


@dataclass
class SearchFilters:
    """Hard filters: only passages of these publishers, published in this range.

    Portable: each passage store translates them into its own terms. Sources
    match case-insensitively; ``since`` and ``until`` are inclusive days and
    exclude passages whose article has no date.
    """

    sources: list[str] = field(default_factory=list)
    since: date | None = None
    until: date | None = None

    def is_empty(self) -> bool:
        return not self.sources and self.since is None and self.until is None


def human_date(published_at: str | None) -> str:
    """'October 1, 2023' from an ISO date; the raw value if it does not parse."""
    if not published_at:
        return ""
    try:
        when = datetime.fromisoformat(published_at)
    except ValueError:
        return published_at
    return f"{when:%B} {when.day}, {when.year}"
