"""The next version in Qdrant: new versioned collections, written by one build.

A draft creates the four collections of a new version (``<prefix>-<version>-
passages|articles|sentences|revisions``), copies the published version's points into them
unless it is fresh, and takes writes and deletes by id. ``publish`` swaps the
store's alias onto the new passages collection in one alias operation: readers
resolve the alias to the old version or the new one, never a mix. A draft that
is aborted deletes its collections; one that is killed leaves them unaliased,
and the next publish deletes them.

BM25 needs the average document length. A draft that copies a version keeps
that version's average while it writes (so new and old points are weighted
alike) and keeps the exact token totals; at publish, when the average has moved
by more than the store's ``avgdl_tolerance`` (a fraction; 0 by default), or the
draft started empty, every sparse vector is recomputed with the exact average,
so scores are those of the embedded store's BM25, which is rebuilt at every
publish too. A large collection can allow some drift to skip that pass on
small incremental builds (docs/scale.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.index.passage_store import PassageDraft, Revision, extra_json
from rag.index.qdrant.schema import (
    ORDINAL_BITS,
    ROLES,
    any_of,
    article_payload,
    bm25_document,
    collection_name,
    filter_fields,
    point_id,
    require_qdrant,
    sentence_key,
    token_lists,
)
from rag.index.qdrant.snapshot import PAGE, QdrantSnapshot, retrieve, scroll
from rag.index.qdrant.note import write_qdrant_note
from rag.ingest.sentences import sentence_spans
from rag.types import Article, Passage

_LENGTHS = ["n_tokens", "sent_tokens", "sent_count"]


def new_version() -> str:
    return f"v-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


def create_collections(client: Any, prefix: str, version: str, dim: int, metadata: dict, layout: dict) -> None:
    """The four empty collections of a version, with their payload indexes. ``layout``: shards
    and replicas on a server (payloads on disk there); empty for local mode, which has no
    payload indexes and scans."""
    models = require_qdrant().models
    sparse = {"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)}
    names = {role: collection_name(prefix, version, role) for role in ROLES}
    server = {**{k: v for k, v in layout.items() if v}, "on_disk_payload": True} if layout else {}
    client.create_collection(names["passages"], vectors_config={
        "dense": models.VectorParams(size=dim, distance=models.Distance.COSINE)},
        sparse_vectors_config=sparse, metadata=metadata, **server)
    client.create_collection(names["articles"], vectors_config={}, **server)
    client.create_collection(names["sentences"], vectors_config={}, sparse_vectors_config=sparse, **server)
    client.create_collection(names["revisions"], vectors_config={}, **server)
    if not layout:
        return
    keyword, integer = models.PayloadSchemaType.KEYWORD, models.PayloadSchemaType.INTEGER
    for role, field, kind in [("passages", "pid", keyword), ("passages", "article_id", keyword),
                              ("passages", "source_key", keyword), ("passages", "source", keyword),
                              ("passages", "date", integer), ("passages", "pos", integer),
                              ("articles", "source", keyword), ("sentences", "pid", keyword),
                              ("sentences", "article_id", keyword), ("revisions", "article_id", keyword)]:
        client.create_payload_index(names[role], field, kind)


class DraftsHome(Protocol):
    """What a draft needs of the store that began it (:class:`rag.index.qdrant.store.QdrantStore`)."""

    client: Any  # a qdrant_client.QdrantClient
    prefix: str  # collection names start with it
    folder: Path  # the index folder, where the note of the last publish goes
    layout: dict  # shards and replicas of new collections on a server
    avgdl_tolerance: float

    def describe(self) -> dict:
        """Where the store lives, for the manifest and the note."""

    def swap_alias(self, collection: str) -> str | None:
        """Point the alias at ``collection``; returns the version it named before."""

    def clean(self, keep: set[str | None]) -> None:
        """Delete the collections of versions not in ``keep``."""


class QdrantDraft(PassageDraft):
    """Writes into a new version's collections; holds the store's build lock."""

    def __init__(self, store: DraftsHome, previous: QdrantSnapshot | None, manifest: dict, lock: Any):
        self.store, self.previous, self.manifest, self._lock = store, previous, dict(manifest), lock
        self.client, self.models = store.client, require_qdrant().models
        self.version = new_version()
        self.names = {role: collection_name(store.prefix, self.version, role) for role in ROLES}
        self._closed = False
        meta = previous.metadata if previous is not None else {}
        # Token totals and document counts, and the average length the sparse vectors use now.
        self.totals = {role: list(meta.get("bm25", {}).get(role, {}).get("totals", [0, 0]))
                       for role in ("passages", "sentences")}
        self.avgdl = {role: meta.get("bm25", {}).get(role, {}).get("avgdl") for role in ("passages", "sentences")}
        self.next_seq = int(meta.get("next_seq", 0))
        self.next_revision = int(meta.get("next_revision", 0))  # orders the revisions
        self._seqs: dict[str, tuple[int, dict]] = {}  # articles written by this draft
        try:
            create_collections(self.client, store.prefix, self.version, int(manifest["embedder"]["dim"]),
                               {"state": "draft"}, store.layout)
            if previous is not None:
                for role in ROLES:
                    source = collection_name(store.prefix, previous.version, role)
                    if role != "revisions" or self.client.collection_exists(source):  # older versions have none
                        self._copy(source, self.names[role])
        except BaseException:
            self._close(clean=True)
            raise

    def _copy(self, source: str, target: str) -> None:
        batch = []
        for point in scroll(self.client, source, True, vectors=True):
            batch.append(self.models.PointStruct(id=point.id, vector=point.vector or {}, payload=point.payload))
            if len(batch) == PAGE:
                self.client.upsert(target, batch)
                batch = []
        if batch:
            self.client.upsert(target, batch)

    # articles ------------------------------------------------------------------
    def write_articles(self, articles: Sequence[Article]) -> None:
        # An article keeps the sequence number it was first written with, so the
        # positions of its passages (ties' order) do not depend on later builds;
        # an article whose stored fields are all the same is not rewritten.
        stored = retrieve(self.client, self.names["articles"], [a.id for a in articles],
                          ["seq", "content_hash", "path", "extra", "source", "day"])
        points = []
        for article in articles:
            old = stored.get(article.id)
            seq = old.payload["seq"] if old is not None else self.next_seq
            self.next_seq += old is None
            payload = article_payload(article, seq, extra_json(article))
            self._seqs[article.id] = (seq, filter_fields(article.source, article.published_at))
            if old is not None and all(old.payload[k] == payload[k] for k in old.payload):
                continue
            points.append(self.models.PointStruct(id=point_id(article.id), vector={}, payload=payload))
            if old is not None and (old.payload["source"], old.payload["day"]) != (payload["source"], payload["day"]):
                # Passages carry their article's source and date for filters: keep them in step.
                self.client.set_payload(self.names["passages"], payload=self._seqs[article.id][1],
                                        points=self.models.Filter(must=[any_of(self.models, "article_id", [article.id])]))
        for start in range(0, len(points), PAGE):
            self.client.upsert(self.names["articles"], points[start:start + PAGE])

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        if not article_ids:
            return
        flt = self.models.Filter(must=[any_of(self.models, "article_id", list(article_ids))])
        self._forget([p.payload for p in scroll(self.client, self.names["passages"], _LENGTHS, flt)])
        for role in ("passages", "sentences", "revisions"):
            self.client.delete(self.names[role], points_selector=self.models.FilterSelector(filter=flt))
        self.client.delete(self.names["articles"], points_selector=[point_id(i) for i in article_ids])
        for i in article_ids:
            self._seqs.pop(i, None)

    def write_revisions(self, revisions: Sequence[Revision]) -> None:
        if not revisions:
            return
        self._articles({r.article_id for r in revisions}, [])
        points = []
        for revision in revisions:
            payload = {**asdict(revision), "seq": self.next_revision}
            points.append(self.models.PointStruct(id=point_id(f"revision:{self.next_revision}"), vector={},
                                                  payload=payload))
            self.next_revision += 1
        for start in range(0, len(points), PAGE):
            self.client.upsert(self.names["revisions"], points[start:start + PAGE])

    # passages ------------------------------------------------------------------
    def write(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        if not passages:
            return
        articles = self._articles({p.article_id for p in passages}, passages)
        self.delete([p.id for p in passages])  # replaced passages: their old sentences go too
        texts = [p.full_text for p in passages]
        spans = [sentence_spans(p.text) for p in passages]
        tokens = token_lists(texts)
        sentence_tokens = token_lists([p.text[s:e] for p, sp in zip(passages, spans) for s, e in sp])
        points, sentences, at = [], [], 0
        for passage, vector, toks, sp in zip(passages, np.asarray(vectors, dtype=np.float32), tokens, spans):
            seq, fields = articles[passage.article_id]
            own = sentence_tokens[at:at + len(sp)]
            at += len(sp)
            payload = {"pid": passage.id, "article_id": passage.article_id, "ordinal": passage.ordinal,
                       "text": passage.text, "header": passage.header, "start": passage.start, "end": passage.end,
                       "token_count": passage.token_count, "text_hash": passage.text_hash,
                       "pos": (seq << ORDINAL_BITS) | passage.ordinal, "n_tokens": len(toks),
                       "sent_tokens": sum(len(t) for t in own), "sent_count": len(own), **fields}
            points.append(self.models.PointStruct(id=point_id(passage.id), payload=payload, vector={
                "dense": vector.tolist(), **self._sparse("passages", toks)}))
            if self.avgdl["sentences"] is not None:  # else written at publish, once (local mode persists each point)
                sentences += self._sentence_points(passage.id, passage.article_id, own)
            self._count(payload, +1)
        for role, batch in (("passages", points), ("sentences", sentences)):
            for start in range(0, len(batch), PAGE):
                self.client.upsert(self.names[role], batch[start:start + PAGE])

    def _articles(self, ids: set[str], passages: Sequence[Passage]) -> dict[str, tuple[int, dict]]:
        """Sequence number and filter fields of each article of the passages being written
        (ValueError for a passage, or with no passages an id, whose article is not in the draft)."""
        found = {i: self._seqs[i] for i in ids if i in self._seqs}
        stored = retrieve(self.client, self.names["articles"], sorted(ids - set(found)),
                          ["seq", "source", "published_at"])
        for i, point in stored.items():
            found[i] = (point.payload["seq"], filter_fields(point.payload["source"], point.payload["published_at"]))
        for passage in passages:
            if passage.article_id not in found:
                raise ValueError(f"passage {passage.id}: its article {passage.article_id} is not in the draft; "
                                 "write the article before its passages")
        if not passages and ids - set(found):
            raise ValueError(f"revision of {sorted(ids - set(found))[0]}: the article is not stored; write it first")
        return found

    def _sentence_points(self, pid: str, article_id: str, tokens: list[list[str]]) -> list[Any]:
        return [self.models.PointStruct(id=point_id(sentence_key(pid, i)), payload={"pid": pid, "article_id": article_id},
                                        vector=self._sparse("sentences", t)) for i, t in enumerate(tokens)]

    def _sparse(self, role: str, tokens: list[str]) -> dict:
        if self.avgdl[role] is None:
            return {}  # weighted at publish, once the average length is known
        indices, values = bm25_document(tokens, self.avgdl[role])
        return {"bm25": self.models.SparseVector(indices=indices, values=values)}

    def _count(self, lengths: dict, sign: int) -> None:
        self.totals["passages"][0] += sign * lengths["n_tokens"]
        self.totals["passages"][1] += sign
        self.totals["sentences"][0] += sign * lengths["sent_tokens"]
        self.totals["sentences"][1] += sign * lengths["sent_count"]

    def _forget(self, payloads: list[dict]) -> None:
        for payload in payloads:
            self._count(payload, -1)

    def delete(self, ids: Sequence[str]) -> None:
        stored = retrieve(self.client, self.names["passages"], list(ids), _LENGTHS)
        if not stored:
            return
        self._forget([p.payload for p in stored.values()])
        self.client.delete(self.names["passages"], points_selector=[point_id(i) for i in stored])
        sentences = [point_id(sentence_key(pid, i)) for pid, p in stored.items() for i in range(p.payload["sent_count"])]
        for start in range(0, len(sentences), PAGE):  # by id: a pid filter is a scan in local mode
            self.client.delete(self.names["sentences"], points_selector=sentences[start:start + PAGE])

    def count(self) -> int:
        return int(self.client.count(self.names["passages"], exact=True).count)

    # publishing ----------------------------------------------------------------
    def _settle_bm25(self) -> dict:
        """Average lengths from the exact totals; every sparse vector reweighted when they moved."""
        exact = {role: (t / n if n else 1.0) for role, (t, n) in self.totals.items()}
        tolerance = self.store.avgdl_tolerance
        stale = any(self.avgdl[r] is None or abs(exact[r] - self.avgdl[r]) > tolerance * self.avgdl[r]
                    for r in exact)
        if stale:
            self.avgdl = dict(exact)
            self._reweight()
        return {role: {"avgdl": self.avgdl[role], "totals": self.totals[role]} for role in exact}

    def _reweight(self) -> None:
        batch: list[Any] = []
        for point in scroll(self.client, self.names["passages"], ["pid", "article_id", "header", "text"]):
            batch.append(point)
            if len(batch) == PAGE:
                self._reweight_batch(batch)
                batch = []
        if batch:
            self._reweight_batch(batch)

    def _reweight_batch(self, points: list[Any]) -> None:
        texts = [f"{p.payload['header']}\n{p.payload['text']}" for p in points]
        spans = [sentence_spans(p.payload["text"]) for p in points]
        sentences = token_lists([p.payload["text"][s:e] for p, sp in zip(points, spans) for s, e in sp])
        updates, sentence_points, at = [], [], 0
        for point, toks, sp in zip(points, token_lists(texts), spans):
            updates.append(self.models.PointVectors(id=point.id, vector=self._sparse("passages", toks)))
            sentence_points += self._sentence_points(point.payload["pid"], point.payload["article_id"],
                                                     sentences[at:at + len(sp)])
            at += len(sp)
        self.client.update_vectors(self.names["passages"], updates)
        for start in range(0, len(sentence_points), PAGE):  # new points, or the same ones reweighted
            self.client.upsert(self.names["sentences"], sentence_points[start:start + PAGE])

    def publish(self) -> None:
        bm25 = self._settle_bm25()
        counts = {"articles": int(self.client.count(self.names["articles"], exact=True).count),
                  "passages": self.count()}
        manifest = {**self.manifest, "counts": counts,
                    "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "store": self.store.describe()}
        metadata = {"state": "published", "version": self.version, "manifest": manifest, "bm25": bm25,
                    "next_seq": self.next_seq, "next_revision": self.next_revision}
        self.client.update_collection(self.names["passages"], metadata=metadata)
        before = self.store.swap_alias(self.names["passages"])  # the moment the new version is published
        try:
            write_qdrant_note(self.store.folder, {**self.store.describe(), "version": self.version})
            self.store.clean(keep={self.version, before})  # under the lock: no other draft is being written
        finally:
            self._close(clean=False)

    def abort(self) -> None:
        self._close(clean=True)

    def _close(self, clean: bool) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if clean:
                for name in self.names.values():
                    if self.client.collection_exists(name):
                        self.client.delete_collection(name)
        finally:
            if self.previous is not None:
                self.previous.close()
            self._lock.release()
