"""The passage store: where indexed passages live, how they are searched and how
a build replaces them. Retrieval, answering and the build talk to this
interface only, so another engine can take the embedded store's place.

Three roles, in the spirit of Haystack's ``DocumentStore``:

- :class:`PassageStore` is the place (an index folder, a collection alias):
  it opens the published version and begins drafts.
- :class:`PassageSnapshot` is one published version, read-only. Passages are
  addressed by their stable string ids (``"<article id>:<ordinal>"``); search
  results never mention a storage position. Searches take portable
  :class:`rag.types.SearchFilters` that each implementation translates.
- :class:`PassageDraft` is the next version being written. It starts as a
  copy of the published one (or empty), takes writes and deletes by id (and
  :meth:`PassageDraft.write_revisions`: earlier versions of updated articles,
  kept but never searched), and
  :meth:`PassageDraft.publish` makes it the published version atomically:
  a reader opens the old version or the new one, never a mix. A draft that is
  aborted, fails or is killed leaves the published version as it was.

Implementations: :class:`rag.index.embedded.store.IndexStore` (embedded: FAISS,
SQLite and BM25 in versioned folders, ``rag/index/embedded/``) and
:class:`rag.index.qdrant.store.QdrantStore` (a Qdrant server, cluster or local
mode: versioned collections behind an alias, ``rag/index/qdrant/``), plus any
an installed package registers (entry-point group ``article_rag.passage_stores``).
:func:`rag.index.stores.make_store` picks one from the settings. Every
implementation passes :class:`rag.testing.passage_store.PassageStoreContract`
(``tests/test_passage_store_contract.py`` runs it over the built-in ones).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from rag.types import Article, Passage, SearchFilters

__all__ = ["Hits", "PassageDraft", "PassageFacts", "PassageSnapshot", "PassageStore", "Revision", "SearchFilters",
           "StoredArticle", "extra_json"]


def extra_json(article: Article) -> str:
    """An article's extra fields as stored: JSON text (compared as text by a build)."""
    return json.dumps(article.extra, default=str)


@dataclass
class Hits:
    """Passages found by one search, best first, with their scores."""

    ids: list[str]
    scores: np.ndarray  # float32, one per id

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class PassageFacts:
    """What ranking needs to know about passages without reading their text.

    ``positions`` fix the order of ties: distinct integers, fixed within one
    published version. The fused ranking breaks ties in position order (the
    embedded store gives each passage's row: articles in the order they were
    last written, each article's passages by ordinal).
    """

    article_ids: list[str]
    sources: list[str]  # "" when unknown
    dates: list[str]  # "YYYY-MM-DD", or "" when unknown
    positions: np.ndarray  # int64


@dataclass(frozen=True)
class StoredArticle:
    """The stored state of an article that a build compares against the files.

    ``content_hash`` covers what goes into passages; ``path`` and ``extra``
    (JSON text, :func:`extra_json`) are kept too, so a moved file or changed extra fields are
    published without re-embedding anything.
    """

    content_hash: str
    path: str | None
    extra: str


@dataclass(frozen=True)
class Revision:
    """An earlier version of an article, kept when a build saw its title or body change.

    Not searched: only the current version has passages. ``seen_at`` is when the
    build that replaced this version ran (ISO-8601, UTC); the other fields are
    this version's own.
    """

    article_id: str
    seen_at: str
    title: str
    body: str
    published_at: str | None = None


class PassageSnapshot(ABC):
    """One published version of the passages, read-only and safe to search from many threads."""

    manifest: dict
    """At least ``embedder`` (id, dim, max_tokens), ``chunking``, ``counts``
    (articles, passages) and ``built_at``."""

    @property
    def embedder_id(self) -> str:
        """Id of the embedder whose vectors this version holds."""
        return self.manifest["embedder"]["id"]

    @property
    @abstractmethod
    def version(self) -> str:
        """Name of this published version (changes with every publish)."""

    @abstractmethod
    def count(self) -> int:
        """Number of passages."""

    def __len__(self) -> int:
        return self.count()

    # searching -------------------------------------------------------------
    @abstractmethod
    def dense_search(self, vector: np.ndarray, k: int, filters: SearchFilters | None = None) -> Hits:
        """The ``k`` passages whose unit vectors have the highest inner product with
        ``vector`` (cosine), best first, among those ``filters`` allow."""

    @abstractmethod
    def lexical_search(self, query: str, k: int, filters: SearchFilters | None = None) -> Hits:
        """The ``k`` passages with the highest BM25 score for ``query`` (header and
        text), best first, ties in position order; only scores above 0, among
        those ``filters`` allow."""

    @abstractmethod
    def sentence_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        """Per passage of ``ids``: the BM25 score for ``query`` of its best-matching
        sentence (0.0 when none matches), as float32."""

    @abstractmethod
    def facts(self, ids: Sequence[str]) -> PassageFacts:
        """Article id, source, date and position of each passage of ``ids``, in order."""

    @abstractmethod
    def embeddings(self, ids: Sequence[str]) -> np.ndarray:
        """The stored unit vectors of ``ids``, shape (len(ids), dim), float32."""

    # reading ---------------------------------------------------------------
    @abstractmethod
    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        """The passages of ``ids`` with their article's metadata, in the given order.

        Raises KeyError naming an id that is not stored.
        """

    @abstractmethod
    def article(self, article_id: str) -> dict | None:
        """The stored article (every field and its body), or None."""

    @abstractmethod
    def list_sources(self) -> list[str]:
        """Distinct publishers of the stored passages, sorted."""

    @abstractmethod
    def sample_titles(self, n: int, seed: int = 0) -> list[str]:
        """Up to ``n`` article titles, the same for the same seed and version."""

    # what a build compares against -------------------------------------------
    @abstractmethod
    def stored_articles(self) -> dict[str, StoredArticle]:
        """Every stored article id and its :class:`StoredArticle`."""

    @abstractmethod
    def passage_hashes(self) -> Iterator[tuple[str, str, str]]:
        """``(passage id, article id, text hash)`` of every passage, in position order."""

    # earlier versions --------------------------------------------------------
    def revisions(self, article_id: str) -> list[Revision]:
        """The kept earlier versions of an article, oldest first (none for an unknown id).

        A store that keeps no revisions returns none; the built-in ones keep them
        (the contract checks it).
        """
        return []

    def revised_articles(self) -> dict[str, int]:
        """Article id -> number of kept revisions, for every article that has any."""
        return {}

    @abstractmethod
    def close(self) -> None:
        """Release what the snapshot holds open."""


class PassageDraft(ABC):
    """The next version, being written by one build; see the module docstring.

    Use it as a context manager: leaving the block without :meth:`publish`
    aborts the draft.
    """

    previous: PassageSnapshot | None
    """The published version the draft started from (None for a fresh draft)."""

    manifest: dict
    """What :meth:`publish` records (a copy of what ``begin`` was given); a build may
    add keys before publishing, e.g. the ``roots`` of :mod:`rag.index.scope`."""

    @abstractmethod
    def write_articles(self, articles: Sequence[Article]) -> None:
        """Add or replace article records (by id). Their passages are untouched."""

    @abstractmethod
    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Remove articles and every passage and revision of theirs (unknown ids are ignored)."""

    @abstractmethod
    def write(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        """Add or replace passages by id, with their unit vectors (one row each).

        Each passage's article must have been written or be stored already:
        otherwise ValueError. Article metadata on the passage is ignored; the
        article record is what a search returns.
        """

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None:
        """Remove passages by id (unknown ids are ignored)."""

    def write_revisions(self, revisions: Sequence[Revision]) -> None:
        """Keep earlier versions of stored articles, after the ones kept already (in order).

        They are published with the draft, atomically, carried into every later
        version, and go with their article when it is deleted. A store that keeps
        no revisions ignores them.
        """

    @abstractmethod
    def count(self) -> int:
        """Number of passages the draft would publish."""

    @abstractmethod
    def publish(self) -> None:
        """Make this draft the published version, atomically; the draft is then closed."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the draft; the published version stays as it was. Safe to call twice."""

    def __enter__(self) -> "PassageDraft":
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class PassageStore(ABC):
    """Where the published version of the passages lives, and the one build that may replace it."""

    location: str
    """Where the store lives, as a person would name it in a message (a folder, a URL)."""

    @abstractmethod
    def exists(self) -> bool:
        """True when a version has been published."""

    @abstractmethod
    def open(self, embedder_id: str | None = None) -> PassageSnapshot:
        """The published version, ready to search.

        Raises IndexMissingError when none was published, IndexMismatchError
        when ``embedder_id`` is given and another embedder built it, and
        IndexCorruptError when it is damaged.
        """

    @abstractmethod
    def begin(self, manifest: dict, fresh: bool = False) -> PassageDraft:
        """Start the next version, as a copy of the published one (empty when ``fresh``
        or when none is published).

        ``manifest`` holds ``embedder`` (id, dim, max_tokens) and ``chunking``;
        the store adds counts and the build time. Only one draft may be open:
        another raises IndexLockedError.
        """

    @abstractmethod
    def published_version(self) -> str:
        """Name of the published version, without opening it (IndexMissingError if none)."""

    @abstractmethod
    def info(self) -> dict:
        """The published version's manifest, where it lives (``path``), its name
        (``version``) and its size (``size_bytes``), read cheaply."""
