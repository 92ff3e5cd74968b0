"""Grid over fusion settings on an already built eval index (dev questions only).

    python scripts/tune_fusion.py index/eval/corpus

Used to write docs/retrieval.md; not part of the product.
"""
import itertools
import sys

from rag.config import RetrievalSettings, load_settings
from rag.eval.retrieval import evaluate_retriever, load_queries
from rag.search.open_index import open_index
from rag.search.retrieval import Retriever

opened = open_index(load_settings(index_dir=sys.argv[1]))
queries = load_queries("../shared/eval/multihop-rag/queries-dev.json")
vectors = opened.embedder.embed([q["query"] for q in queries])


def evaluate(**kw) -> dict:
    retriever = Retriever(opened.snapshot, opened.embedder, RetrievalSettings(**kw))
    return {k: round(v, 3) for k, v in evaluate_retriever(retriever, queries, vectors)["overall"].items()}


grid = [dict(dense_weight=0.0, sentence_weight=0.0), dict(lexical_weight=0.0, sentence_weight=0.0),
        dict(sentence_weight=0.0), dict(dense_weight=0.0), dict(source_boost=0.0, date_boost=0.0),
        dict(max_per_article=99, duplicate_threshold=2.0), dict()]
for kw in grid:
    print(kw, evaluate(**kw), flush=True)
for dw, sw, sb, db in itertools.product([0.2, 0.3], [0.3, 0.4, 0.6], [0.5, 1.0, 2.0], [0.5, 1.0]):
    kw = dict(dense_weight=dw, sentence_weight=sw, source_boost=sb, date_boost=db)
    print(kw, evaluate(**kw), flush=True)
