"""Grid over fusion settings on an already built eval index (dev questions only).

    python scripts/tune_fusion.py index/eval/corpus

Used to write docs/retrieval.md; not part of the product.
"""
import itertools
import sys

import numpy as np

from rag.config import RetrievalSettings, load_settings
from rag.eval.retrieval import (
    aggregate,
    evidence_recall,
    gold_facts,
    load_queries,
    score_query,
)
from rag.search.open_index import open_index
from rag.search.retrieval import Retriever

opened = open_index(load_settings(index_dir=sys.argv[1]))
queries = load_queries("../shared/eval/multihop-rag/queries-dev.json")
vectors = opened.embedder.embed([q["query"] for q in queries])
texts: dict[int, tuple[str, str]] = {}


def evaluate(**kw) -> dict:
    retriever = Retriever(opened.snapshot, opened.embedder, RetrievalSettings(**kw))
    scores, recall = [], []
    for q, v in zip(queries, vectors):
        rows, _ = retriever.search_rows(q["query"], 10, query_vector=v)
        missing = [r for r in rows if r not in texts]
        for p, r in zip(opened.snapshot.passages(missing), missing):
            texts[r] = (p.full_text, p.url)
        scores.append(score_query([texts[r][0] for r in rows], gold_facts(q)))
        recall.append(evidence_recall([texts[r][1] for r in rows], q["evidence_list"]))
    m = aggregate(scores)
    m["evidence_recall@10"] = float(np.mean(recall))
    return {k: round(v, 3) for k, v in m.items()}


grid = [dict(dense_weight=0.0, sentence_weight=0.0), dict(lexical_weight=0.0, sentence_weight=0.0),
        dict(sentence_weight=0.0), dict(dense_weight=0.0), dict(source_boost=0.0, date_boost=0.0),
        dict(max_per_article=99, duplicate_threshold=2.0), dict()]
for kw in grid:
    print(kw, evaluate(**kw), flush=True)
for dw, sw, sb, db in itertools.product([0.2, 0.3], [0.3, 0.4, 0.6], [0.5, 1.0, 2.0], [0.5, 1.0]):
    kw = dict(dense_weight=dw, sentence_weight=sw, source_boost=sb, date_boost=db)
    print(kw, evaluate(**kw), flush=True)
