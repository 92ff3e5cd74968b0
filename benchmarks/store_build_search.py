"""Build and search on both passage stores, with ratios, in one process.

    python benchmarks/store_build_search.py [--index index/eval/corpus] [--limit 100]
        [--qdrant-path :memory: | --qdrant-path FOLDER | --qdrant-url URL] [--articles N]

Reads every article, passage and vector of a built (faiss) index, so nothing
is embedded again, and writes them through the passage-store interface into a
fresh faiss store and a fresh Qdrant store (local mode in memory by default):
the build times are the stores' own work (BM25, sentence index, writes), not
the embedder's. Then runs the same dev questions through ``Retriever.search``
on both (query vectors computed once), and compares fusion in the library (what
the retriever does) with Qdrant's server-side weighted RRF (prefetch of BM25 and
dense, one query) on the same two signals. Both stores are also scored with
the evaluation loop of ``rag eval retrieval`` (Hits@10, MRR@10, ...) on the
same questions.

``--articles N`` keeps only the evidence articles of the ``--limit`` questions
plus other articles up to N (Qdrant's local mode scans every point for every
query and is slow past a few thousand passages).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.config import RetrievalSettings, load_settings
from rag.embed.registry import make_embedder
from rag.eval.retrieval import evaluate_retriever, load_queries
from rag.index.building import embedding_for_index
from rag.index.qdrant.store import QdrantStore
from rag.index.embedded.store import IndexStore
from rag.search.retrieval import Retriever
from rag.types import Article

BLOCK = 2048


def read_all(snapshot):
    """Articles, passages and vectors of a published version."""
    ids = [h[0] for h in snapshot.passage_hashes()]
    articles = []
    for article_id in snapshot.stored_articles():
        fields = snapshot.article(article_id)
        fields.pop("content_hash", None)
        fields["extra"] = json.loads(fields.get("extra") or "{}")
        articles.append(Article(**fields))
    passages, vectors = [], []
    for start in range(0, len(ids), BLOCK):
        passages += snapshot.fetch(ids[start:start + BLOCK])
        vectors.append(snapshot.embeddings(ids[start:start + BLOCK]))
    return articles, passages, np.concatenate(vectors)


def keep_articles(articles, passages, vectors, questions, limit):
    """The questions' evidence articles, then others in stored order, up to ``limit`` articles."""
    wanted = {e["url"] for q in questions for e in q["evidence_list"]}
    keep = [a.id for a in articles if a.url in wanted]
    keep += [a.id for a in articles if a.url not in wanted][:max(0, limit - len(keep))]
    keep = set(keep)
    rows = [i for i, p in enumerate(passages) if p.article_id in keep]
    return [a for a in articles if a.id in keep], [passages[i] for i in rows], vectors[rows]


def build(store, manifest, articles, passages, vectors) -> float:
    started = time.perf_counter()
    with store.begin(manifest, fresh=True) as draft:
        draft.write_articles(articles)
        for start in range(0, len(passages), 256):
            draft.write(passages[start:start + 256], vectors[start:start + 256])
        draft.publish()
    return time.perf_counter() - started


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def library_rrf(snapshot, question, vector, s: RetrievalSettings) -> list[str]:
    fused: dict[str, float] = {}
    for hits, weight in ((snapshot.lexical_search(question, s.candidates), s.lexical_weight),
                         (snapshot.dense_search(vector, s.candidates), s.dense_weight)):
        for rank, pid in enumerate(hits.ids):
            fused[pid] = fused.get(pid, 0.0) + weight / (s.rrf_k + 1 + rank)
    return sorted(fused, key=lambda p: -fused[p])[:10]


def qdrant_rrf(snapshot, question, vector, s: RetrievalSettings) -> list[str]:
    from qdrant_client import models

    from rag.index.qdrant.schema import bm25_query, token_lists

    indices, values = bm25_query(token_lists([question])[0])
    prefetch = [models.Prefetch(query=models.SparseVector(indices=indices, values=values), using="bm25",
                                limit=s.candidates),
                models.Prefetch(query=vector.tolist(), using="dense", limit=s.candidates)]
    found = snapshot.client.query_points(
        snapshot.passages_col, prefetch=prefetch, limit=10, with_payload=["pid"],
        query=models.RrfQuery(rrf=models.Rrf(k=s.rrf_k, weights=[s.lexical_weight, s.dense_weight]))).points
    return [p.payload["pid"] for p in found]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index/eval/corpus", help="a built faiss index (the source)")
    parser.add_argument("--queries", default="../shared/eval/multihop-rag/queries-dev.json")
    parser.add_argument("--limit", type=int, default=100, help="questions timed")
    parser.add_argument("--qdrant-path", default=":memory:")
    parser.add_argument("--qdrant-url", default=None)
    parser.add_argument("--articles", type=int, default=None, help="keep the questions' evidence + others up to N")
    args = parser.parse_args()
    print(f"uptime before: {os.popen('uptime').read().strip()}")
    source = IndexStore(args.index).open()
    manifest = {k: source.manifest[k] for k in ("embedder", "chunking")}
    articles, passages, vectors = read_all(source)
    queries = load_queries(args.queries, args.limit)
    if args.articles:
        articles, passages, vectors = keep_articles(articles, passages, vectors, queries, args.articles)
    print(f"{len(articles)} articles, {len(passages)} passages, {vectors.shape[1]}-dim vectors from {args.index}")
    work = Path(tempfile.mkdtemp(prefix="store-bench-"))
    stores = {"faiss": IndexStore(work / "faiss"),
              "qdrant": QdrantStore(work / "qdrant", url=args.qdrant_url, path=args.qdrant_path, collection="bench")}
    seconds = {name: build(store, manifest, articles, passages, vectors) for name, store in stores.items()}
    where = args.qdrant_url or f"local mode, {args.qdrant_path}"
    print(f"build   faiss {seconds['faiss']:7.1f} s   qdrant ({where}) {seconds['qdrant']:7.1f} s   "
          f"ratio {seconds['qdrant'] / seconds['faiss']:.1f}x")

    settings = load_settings(index_dir=args.index)
    embedder = make_embedder(embedding_for_index(settings.embedding, IndexStore(args.index)))
    questions = [q["query"] for q in queries]
    qvectors = embedder.embed(questions)
    opened = {name: store.open() for name, store in stores.items()}
    retrievers = {name: Retriever(snap, embedder, settings.retrieval) for name, snap in opened.items()}
    results, latency = {}, {}
    for name, retriever in retrievers.items():
        retriever.search(questions[0], 10, query_vector=qvectors[0])  # warm
        results[name], latency[name] = [], []
        for question, vector in zip(questions, qvectors):
            started = time.perf_counter()
            results[name].append([p.id for p in retriever.search(question, 10, query_vector=vector)])
            latency[name].append((time.perf_counter() - started) * 1000)
    med = statistics.median
    same = sum(a == b for a, b in zip(results["faiss"], results["qdrant"]))
    print(f"search  faiss median {med(latency['faiss']):7.1f} ms   qdrant median {med(latency['qdrant']):7.1f} ms   "
          f"ratio {med(latency['qdrant']) / med(latency['faiss']):.1f}x   identical top-10: {same}/{len(questions)}")

    for name, retriever in retrievers.items():
        overall = evaluate_retriever(retriever, queries, vectors=qvectors)["overall"]
        print(f"eval    {name:6} " + "  ".join(f"{k} {v:.4f}" for k, v in overall.items() if k != "n")
              + f"  (n={overall['n']})")

    snap, s = opened["qdrant"], settings.retrieval
    pairs = list(zip(questions, qvectors))
    lib = timed(lambda qv: library_rrf(snap, qv[0], qv[1], s), pairs)
    srv = timed(lambda qv: qdrant_rrf(snap, qv[0], qv[1], s), pairs)
    overlap = statistics.mean(len(set(library_rrf(snap, q, v, s)) & set(qdrant_rrf(snap, q, v, s))) / 10
                              for q, v in pairs)
    print(f"fusion of BM25 + dense on qdrant: in the library (2 queries) median {med(lib):7.1f} ms, "
          f"in Qdrant (prefetch + weighted RRF, 1 query) median {med(srv):7.1f} ms, ratio {med(srv) / med(lib):.2f}; "
          f"top-10 overlap {overlap:.3f}")
    print(f"uptime after: {os.popen('uptime').read().strip()}")


if __name__ == "__main__":
    main()
