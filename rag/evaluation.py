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


def load_queries(path: Path | str, limit: int | None = None) -> list[dict]:
    """Non-null MultiHop-RAG queries (those with evidence), in file order."""
    data = json.loads(Path(path).read_text())
    queries = [q for q in data if q.get("evidence_list")]
    return queries[:limit] if limit else queries
