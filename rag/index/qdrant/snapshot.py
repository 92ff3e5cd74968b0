"""One published version in Qdrant, read-only (a :class:`PassageSnapshot`).

The snapshot resolves the alias once, when it is opened, and reads the
version's own collections from then on: a publish that swaps the alias meanwhile
does not change what it answers (the previous version is kept for it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rag.index.passage_store import Hits, PassageFacts, PassageSnapshot, Revision, StoredArticle
from rag.index.qdrant.schema import (
    bm25_query,
    collection_name,
    point_id,
    require_qdrant,
    search_filter,
    sentence_key,
    token_lists,
)
from rag.types import Passage, SearchFilters

PAGE = 1024  # points per scroll or retrieve request
_FACTS = ["pid", "article_id", "source", "day", "pos"]
TIE_WIDENING = 8


def retrieve(client: Any, collection: str, keys: Sequence[str], payload: Any = True,
             vectors: Any = False) -> dict[str, Any]:
    """Points of ``keys`` (passage or article ids), by key; missing ones are absent."""
    out: dict[str, Any] = {}
    ids = [point_id(k) for k in keys]
    by_id = dict(zip(ids, keys))
    for start in range(0, len(ids), PAGE):
        for point in client.retrieve(collection, ids[start:start + PAGE], with_payload=payload,
                                     with_vectors=vectors):
            out[by_id[str(point.id)]] = point
    return out


def scroll(client: Any, collection: str, payload: Any, flt: Any = None, order_by: str | None = None,
           vectors: Any = False) -> Iterator[Any]:
    """Every point of ``collection`` (matching ``flt``), page by page."""
    models = require_qdrant().models
    if order_by is not None:
        # Ordered scrolls page by the ordered value, not by an offset id.
        after = None
        while True:
            cond = [models.FieldCondition(key=order_by, range=models.Range(gt=after))] if after is not None else []
            page_filter = models.Filter(must=[*(flt.must if flt else []), *cond])
            points, _ = client.scroll(collection, scroll_filter=page_filter, limit=PAGE, with_payload=payload,
                                      with_vectors=vectors, order_by=order_by)
            yield from points
            if len(points) < PAGE:
                return
            after = points[-1].payload[order_by]
    offset = None
    while True:
        points, offset = client.scroll(collection, scroll_filter=flt, limit=PAGE, offset=offset,
                                       with_payload=payload, with_vectors=vectors)
        yield from points
        if offset is None:
            return


class QdrantSnapshot(PassageSnapshot):
    """The collections of one published version."""

    def __init__(self, client: Any, prefix: str, version: str, metadata: dict):
        self.client, self.prefix, self._version = client, prefix, version
        self.metadata, self.manifest = metadata, metadata["manifest"]
        self.models = require_qdrant().models
        self.passages_col, self.articles_col, self.sentences_col, self.revisions_col = (
            collection_name(prefix, version, role) for role in ("passages", "articles", "sentences", "revisions"))
        self._has_revisions: bool | None = None  # a version published before revisions were kept has none

    @property
    def version(self) -> str:
        return self._version

    def count(self) -> int:
        return int(self.client.count(self.passages_col, exact=True).count)

    # searching -----------------------------------------------------------------
    def dense_search(self, vector: np.ndarray, k: int, filters: SearchFilters | None = None) -> Hits:
        query = np.asarray(vector, dtype=np.float32).tolist()
        return self._ranked(query, "dense", k, filters, positive=False)

    def lexical_search(self, query: str, k: int, filters: SearchFilters | None = None) -> Hits:
        tokens = token_lists([query])[0] if query.strip() else []
        if not tokens:
            return Hits([], np.zeros(0, dtype=np.float32))
        indices, values = bm25_query(tokens)
        return self._ranked(self.models.SparseVector(indices=indices, values=values), "bm25", k, filters, positive=True)

    def _ranked(self, query: Any, using: str, k: int, filters: SearchFilters | None, positive: bool) -> Hits:
        """The top ``k``, ties in position order (Qdrant cuts ties at its limit in no set order, so the
        limit widens, up to ``TIE_WIDENING`` times, until the k-th score's ties are all in)."""
        if k <= 0:
            return Hits([], np.zeros(0, dtype=np.float32))
        flt, limit = search_filter(self.models, filters), k
        while True:
            found = self.client.query_points(self.passages_col, query=query, using=using, query_filter=flt,
                                             limit=limit, with_payload=["pid", "pos"]).points
            if len(found) < limit or found[-1].score < found[k - 1].score or limit >= TIE_WIDENING * k:
                break
            limit *= 2
        found = sorted((p for p in found if p.score > 0 or not positive), key=lambda p: (-p.score, p.payload["pos"]))
        found = found[:k]
        return Hits([p.payload["pid"] for p in found], np.array([p.score for p in found], dtype=np.float32))

    def sentence_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(ids), dtype=np.float32)
        tokens = token_lists([query])[0] if query.strip() and len(ids) else []
        if not tokens:
            return out
        # The candidates' sentence points, by id (a passage's sentences are <pid>#0..n-1):
        # an id filter is cheap everywhere, where a filter on the pid payload is a scan in local mode.
        counts = {pid: p.payload["sent_count"] for pid, p in
                  retrieve(self.client, self.passages_col, sorted(set(ids)), ["sent_count"]).items()}
        owner = {point_id(sentence_key(pid, i)): pid for pid, n in counts.items() for i in range(n)}
        if not owner:
            return out
        indices, values = bm25_query(tokens)
        found = self.client.query_points(
            self.sentences_col, query=self.models.SparseVector(indices=indices, values=values), using="bm25",
            query_filter=self.models.Filter(must=[self.models.HasIdCondition(has_id=list(owner))]),
            limit=len(owner), with_payload=False).points
        best: dict[str, float] = {}
        for point in found:
            pid = owner[str(point.id)]
            best[pid] = max(best.get(pid, 0.0), point.score)
        for i, pid in enumerate(ids):
            out[i] = max(best.get(pid, 0.0), 0.0)
        return out

    def facts(self, ids: Sequence[str]) -> PassageFacts:
        points = self._points(ids, _FACTS)
        return PassageFacts(article_ids=[p.payload["article_id"] for p in points],
                            sources=[p.payload["source"] for p in points],
                            dates=[p.payload["day"] for p in points],
                            positions=np.array([p.payload["pos"] for p in points], dtype=np.int64))

    def embeddings(self, ids: Sequence[str]) -> np.ndarray:
        dim = int(self.manifest["embedder"]["dim"])
        if not len(ids):
            return np.zeros((0, dim), dtype=np.float32)
        points = self._points(ids, False, ["dense"])
        return np.array([p.vector["dense"] for p in points], dtype=np.float32).reshape(len(ids), dim)


    def _points(self, ids: Sequence[str], payload: Any, vectors: Any = False) -> list[Any]:
        found = retrieve(self.client, self.passages_col, ids, payload, vectors)
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(f"passage {missing[0]} is not in version {self.version} of the Qdrant store")
        return [found[i] for i in ids]

    # reading -------------------------------------------------------------------
    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        if not len(ids):
            return []
        points = self._points(ids, True)
        articles = retrieve(self.client, self.articles_col, sorted({p.payload["article_id"] for p in points}))
        out = []
        for point in points:
            p, a = point.payload, articles[point.payload["article_id"]].payload
            out.append(Passage(
                id=p["pid"], article_id=p["article_id"], ordinal=p["ordinal"], text=p["text"], header=p["header"],
                start=p["start"], end=p["end"], token_count=p["token_count"], title=a["title"],
                source=a["source"], published_at=a["published_at"], url=a["url"], author=a["author"],
                extra=json.loads(a["extra"] or "{}")))
        return out

    def article(self, article_id: str) -> dict | None:
        point = retrieve(self.client, self.articles_col, [article_id]).get(article_id)
        if point is None:
            return None
        return {k: v for k, v in point.payload.items() if k not in ("seq", "source_key", "date", "day")} | {
            "source": point.payload["source"] or None}

    def list_sources(self) -> list[str]:
        hits = self.client.facet(self.passages_col, key="source", limit=1_000_000, exact=True).hits
        return sorted(str(h.value) for h in hits if h.value)

    def sample_titles(self, n: int, seed: int = 0) -> list[str]:
        # Point ids are uniform UUIDs: the n articles from a seeded random id on
        # (wrapping round) are a sample that a seed and a version fix.
        start = str(np.random.default_rng(seed).bytes(16).hex())
        start = f"{start[:8]}-{start[8:12]}-{start[12:16]}-{start[16:20]}-{start[20:]}"
        first, _ = self.client.scroll(self.articles_col, limit=n, offset=start, with_payload=["title"])
        rest = []
        if len(first) < n:
            rest, _ = self.client.scroll(self.articles_col, limit=n - len(first), with_payload=["title"])
            rest = [p for p in rest if str(p.id) < start]
        return [p.payload["title"] for p in [*first, *rest]]

    # what a build compares against -----------------------------------------------
    def stored_articles(self) -> dict[str, StoredArticle]:
        return {p.payload["id"]: StoredArticle(p.payload["content_hash"], p.payload["path"], p.payload["extra"])
                for p in scroll(self.client, self.articles_col, ["id", "content_hash", "path", "extra"])}

    def passage_hashes(self) -> Iterator[tuple[str, str, str]]:
        for p in scroll(self.client, self.passages_col, ["pid", "article_id", "text_hash", "pos"], order_by="pos"):
            yield p.payload["pid"], p.payload["article_id"], p.payload["text_hash"]

    def _revision_points(self, flt: Any, payload: Any) -> list[Any]:
        if self._has_revisions is None:
            self._has_revisions = bool(self.client.collection_exists(self.revisions_col))
        if not self._has_revisions:
            return []
        return sorted(scroll(self.client, self.revisions_col, payload, flt), key=lambda p: p.payload["seq"])

    def revisions(self, article_id: str) -> list[Revision]:
        flt = self.models.Filter(must=[self.models.FieldCondition(
            key="article_id", match=self.models.MatchValue(value=article_id))])
        return [Revision(**{k: v for k, v in p.payload.items() if k != "seq"})
                for p in self._revision_points(flt, True)]

    def revised_articles(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for point in self._revision_points(None, ["article_id", "seq"]):
            counts[point.payload["article_id"]] = counts.get(point.payload["article_id"], 0) + 1
        return counts

    def close(self) -> None:
        pass  # the client is shared by the store
