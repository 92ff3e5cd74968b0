"""Search latency on an index, excluding model load, with ratios against its parts.

    python benchmarks/search_latency.py [--index index/eval/corpus] [--queries FILE]

Runs every dev question through ``Retriever.search`` (query embedding, BM25,
dense search, fusion, diversification, reading passages) and, in the same
process, through its parts alone (the passage store's searches), and prints
medians and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

from rag.config import load_settings
from rag.eval.retrieval import load_queries
from rag.search.open_index import open_index


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="index/eval/corpus")
    parser.add_argument("--queries", default="../shared/eval/multihop-rag/queries-dev.json")
    parser.add_argument("--limit", type=int, default=200, help="Number of questions timed.")
    args = parser.parse_args()
    opened = open_index(load_settings(index_dir=args.index))
    questions = [q["query"] for q in load_queries(args.queries, args.limit)]
    opened.retriever.search(questions[0])  # warm caches; model load is excluded
    vectors = opened.embedder.embed(questions)

    search = timed(lambda q: opened.retriever.search(q, 10), questions)
    given_vector = timed(lambda qv: opened.retriever.search(qv[0], 10, query_vector=qv[1]), list(zip(questions, vectors)))
    embed = timed(lambda q: opened.embedder.embed([q]), questions)
    lexical = timed(lambda q: opened.snapshot.lexical_search(q, 100), questions)
    dense = timed(lambda v: opened.snapshot.dense_search(v, 100), vectors)
    med = statistics.median
    print(f"{len(opened.snapshot)} passages, {len(questions)} questions")
    print(f"full search   median {med(search):6.2f} ms  p95 {sorted(search)[int(len(search) * .95)]:6.2f} ms")
    for name, values in [("search, vector given", given_vector), ("query embed", embed), ("bm25 top-100", lexical), ("dense top-100", dense)]:
        print(f"{name:13} median {med(values):6.2f} ms  ({med(values) / med(search):.2f} of full search)")


if __name__ == "__main__":
    main()
