"""Retrieval metrics on MultiHop-RAG-format data, as the benchmark defines them.

A retrieved chunk is relevant when, after removing every space and newline
from both, a gold evidence ``fact`` is a substring of the chunk text. Hits@k:
share of queries with a relevant chunk in the top k. MRR@10: 1/rank of the
first relevant chunk. MAP@10: at each relevant rank r <= 10, the number of gold
facts found for the first time in that chunk, times 1/r, summed and divided by
min(number of gold facts, 10).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def squash(text: str) -> str:
    """Text with every space and newline removed (the benchmark's matching form)."""
    return text.replace(" ", "").replace("\n", "")


@dataclass
class QueryScores:
    """Metrics of one query."""

    hits4: float
    hits10: float
    rr10: float
    ap10: float


def score_query(chunks: Sequence[str], facts: Sequence[str]) -> QueryScores:
    """Metrics for one query from its ranked chunk texts and its gold facts."""
    gold = [squash(f) for f in facts]
    found: set[int] = set()
    first_hit = None
    ap = 0.0
    for rank, chunk in enumerate(chunks[:10], start=1):
        text = squash(chunk)
        matched = [i for i, fact in enumerate(gold) if fact in text]
        if not matched:
            continue
        if first_hit is None:
            first_hit = rank
        new = [i for i in matched if i not in found]
        found.update(new)
        ap += len(new) / rank
    return QueryScores(
        hits4=1.0 if first_hit is not None and first_hit <= 4 else 0.0,
        hits10=1.0 if first_hit is not None else 0.0,
        rr10=1.0 / first_hit if first_hit else 0.0,
        ap10=ap / min(len(gold), 10) if gold else 0.0,
    )


def aggregate(scores: Sequence[QueryScores]) -> dict[str, float]:
    """Mean metrics over queries, with the benchmark's key names."""
    n = len(scores)
    if not n:
        return {"hits@4": 0.0, "hits@10": 0.0, "mrr@10": 0.0, "map@10": 0.0, "n": 0}
    return {
        "hits@4": sum(s.hits4 for s in scores) / n,
        "hits@10": sum(s.hits10 for s in scores) / n,
        "mrr@10": sum(s.rr10 for s in scores) / n,
        "map@10": sum(s.ap10 for s in scores) / n,
        "n": n,
    }


def evidence_recall(article_urls: Sequence[str | None], evidence: Sequence[dict]) -> float:
    """Share of a query's distinct gold evidence articles found among ``article_urls``."""
    gold = {e["url"] for e in evidence}
    if not gold:
        return 0.0
    return len(gold & set(article_urls)) / len(gold)


def gold_facts(query: dict) -> list[str]:
    """Evidence facts of a query (``evidence_list``, or ``gold_list`` in the authors' outputs)."""
    return [e["fact"] for e in query.get("evidence_list") or query.get("gold_list") or []]


def load_queries(path: Path | str, limit: int | None = None, *, include_null: bool = False) -> list[dict]:
    """MultiHop-RAG queries in file order: those with evidence, or all with ``include_null``.

    ``limit`` counts the queries kept, so the first N of each kind.
    """
    data = json.loads(Path(path).read_text())
    if not isinstance(data, list) or (data and not isinstance(data[0], dict)) or (data and "query" not in data[0]):
        raise ValueError(f"{path}: expected a JSON list of objects with 'query' (MultiHop-RAG format)")
    queries = data if include_null else [q for q in data if gold_facts(q)]
    return queries[:limit] if limit else queries


def evaluate_retriever(retriever, queries: Sequence[dict], vectors: Sequence | None = None, k: int = 10,
                       progress=None) -> dict:
    """Score ``retriever``'s top ``k`` on ``queries`` (with evidence); ``vectors`` are the
    queries' embeddings when already computed (else each is embedded alone, by the search).

    Returns ``{"overall": {...}, "by_type": {question_type: {...}}}`` with the
    keys hits@4, hits@10, mrr@10, map@10, evidence_recall@10 and n. The one
    evaluation loop: ``rag eval retrieval`` and the tuning scripts call it.
    """
    if vectors is None:
        # Each query embedded alone, as every search embeds it: the int8 embedder's vectors
        # depend on the batch a text is in (97 of the first 200 dev rankings differed when the
        # queries were embedded together), and the evaluation must score what users get
        # (benchmarks/serve_parity.py: `rag eval retrieval` = POST /v1/search exactly).
        vectors = [None] * len(queries)
    per_query = []
    for i, (query, vector) in enumerate(zip(queries, vectors)):
        passages = retriever.search(query["query"], k, query_vector=vector)
        per_query.append((
            query.get("question_type", "all"),
            score_query([p.full_text for p in passages], gold_facts(query)),
            evidence_recall([p.url for p in passages], query["evidence_list"]),
        ))
        if progress and i % 25 == 0:
            progress("questions", i, len(queries))

    def summary(items) -> dict:
        out = aggregate([s for _, s, _ in items])
        n = out.pop("n")
        out["evidence_recall@10"] = sum(r for _, _, r in items) / len(items) if items else 0.0
        out["n"] = n
        return out

    by_type = {t: summary([x for x in per_query if x[0] == t]) for t in sorted({x[0] for x in per_query})}
    return {"overall": summary(per_query), "by_type": by_type}


def evaluate_retrieval(settings, corpus: Path, queries_path: Path, limit: int | None = None, progress=None) -> dict:
    """Index ``corpus`` (incrementally) and score retrieval on the non-null queries
    (:func:`evaluate_retriever`)."""
    from rag.index.building import build_index
    from rag.search.open_index import open_index

    build_index(settings, [corpus], progress=progress)
    queries = load_queries(queries_path, limit)
    with open_index(settings) as opened:
        return evaluate_retriever(opened.retriever, queries, progress=progress)
