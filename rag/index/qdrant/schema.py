"""How passages, articles and sentences are laid out in Qdrant collections.

One published version is four collections named ``<prefix>-<version>-<role>``:

- ``passages``: one point per passage, a dense vector (``dense``, cosine), a
  BM25 sparse vector (``bm25``, with Qdrant's IDF modifier) and the payload a
  search needs: passage id (``pid``), article id, source (``source`` as
  stored, ``source_key`` lower-cased for filters), the date as a number
  (``date``: YYYYMMDD), a tie-breaking ``pos``, the text and its offsets.
- ``articles``: one point per article, no vector, every stored field.
- ``sentences``: one point per sentence of a passage, a ``bm25`` sparse
  vector only; a passage's best-sentence score is its best point.
- ``revisions``: one point per kept earlier version of an article (no
  vector, never searched): article id, ``seq`` (its order), seen_at, title,
  body, published_at. A version published before revisions were kept has no
  such collection, and so no revisions.

Point ids must be unsigned integers or UUIDs: a passage id maps to
``uuid5(NAMESPACE, id)`` and the original id stays in the payload.

BM25 is split between the two sides: the client tokenizes exactly as the
embedded store does (bm25s: stop words, Snowball stemmer) and stores each
term's saturated, length-normalised frequency ``tf / (tf + k1 (1 - b + b
dl / avgdl))``; Qdrant multiplies by the term's IDF, ``ln(1 + (N - n + 0.5) /
(n + 0.5))``, over the collection at query time. That is the Lucene BM25 that
bm25s computes, so rankings match the embedded store's.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from rag.errors import ConfigError
from rag.index.lexical import tokenize
from rag.types import Article, SearchFilters

NAMESPACE = uuid.UUID("8a4c5a53-6d1e-4c3e-9a57-2f0b3c1e5d77")
ROLES = ("passages", "articles", "sentences", "revisions")
K1, B = 1.2, 0.75  # the embedded store's BM25 parameters (rag.index.lexical)
ORDINAL_BITS = 20  # pos = article sequence << 20 | passage ordinal


def require_qdrant() -> Any:
    """The ``qdrant_client`` module, or a ConfigError saying how to install it."""
    try:
        import qdrant_client
    except ImportError:
        raise ConfigError(
            "RAG_STORE__BACKEND=qdrant needs the qdrant-client package: install it with "
            "`pip install 'article-rag[qdrant]'`, or set RAG_STORE__BACKEND=faiss"
        ) from None
    return qdrant_client


def point_id(key: str) -> str:
    """The UUID point id of a passage, article or sentence key."""
    return str(uuid.uuid5(NAMESPACE, key))


def sentence_key(passage_id: str, index: int) -> str:
    return f"{passage_id}#{index}"


def collection_name(prefix: str, version: str, role: str) -> str:
    return f"{prefix}-{version}-{role}"


def date_number(published_at: str | None) -> int | None:
    """YYYYMMDD of an ISO date, or None when there is none that parses."""
    day = (published_at or "")[:10]
    try:
        return int(date.fromisoformat(day).strftime("%Y%m%d"))
    except ValueError:
        return None


def article_payload(article: Article, seq: int, extra: str) -> dict:
    """Every stored field of an article (the embedded store's ``article()`` keys) plus its sequence."""
    return {
        "id": article.id, "title": article.title, "body": article.body, "source": article.source,
        "published_at": article.published_at, "url": article.url, "author": article.author,
        "path": article.path, "extra": extra, "content_hash": article.content_hash,
        "seq": seq, **filter_fields(article.source, article.published_at),
    }


def filter_fields(source: str | None, published_at: str | None) -> dict:
    """The payload fields that filters and hints read, denormalised onto passages."""
    return {"source": source or "", "source_key": (source or "").lower(),
            "date": date_number(published_at), "day": (published_at or "")[:10]}


# BM25 ----------------------------------------------------------------------------
def term_index(token: str) -> int:
    """A stable 32-bit index for a token (the same on every node, no vocabulary to share)."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=4).digest(), "little")


def token_lists(texts: Sequence[str]) -> list[list[str]]:
    """The embedded store's BM25 tokens of each text."""
    return tokenize(list(texts)) if texts else []


def bm25_document(tokens: list[str], avgdl: float) -> tuple[list[int], list[float]]:
    """Sparse indices and BM25 term weights (before IDF) of a tokenized document."""
    counts = Counter(term_index(t) for t in tokens)
    norm = K1 * (1 - B + B * len(tokens) / avgdl) if avgdl > 0 else K1
    indices = sorted(counts)
    return indices, [counts[i] / (counts[i] + norm) for i in indices]


def bm25_query(tokens: list[str]) -> tuple[list[int], list[float]]:
    """Sparse query: each term counted as often as the query repeats it (as bm25s does)."""
    counts = Counter(term_index(t) for t in tokens)
    indices = sorted(counts)
    return indices, [float(counts[i]) for i in indices]


# filters -------------------------------------------------------------------------
def search_filter(models: Any, filters: SearchFilters | None, *more: Any) -> Any:
    """A Qdrant ``Filter`` for portable ``filters`` plus ``more`` conditions, or None."""
    must = list(more)
    if filters is not None and filters.sources:
        must.append(models.FieldCondition(key="source_key", match=models.MatchAny(
            any=sorted({s.lower() for s in filters.sources}))))
    if filters is not None and (filters.since is not None or filters.until is not None):
        since = int(filters.since.strftime("%Y%m%d")) if filters.since else None
        until = int(filters.until.strftime("%Y%m%d")) if filters.until else None
        must.append(models.FieldCondition(key="date", range=models.Range(gte=since, lte=until)))
    return models.Filter(must=must) if must else None


def any_of(models: Any, key: str, values: Sequence[str]) -> Any:
    """Condition: ``key`` is one of ``values``."""
    return models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))
