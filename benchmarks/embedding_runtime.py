"""Embedding runtimes against PyTorch, in one process, on the MultiHop-RAG corpus.

    python benchmarks/embedding_runtime.py [--json] [--passages 512] [--rounds 2]
        [--queries-timed 100] [--no-eval] [--index-root index/runtimes]

For each runtime of the packaged all-MiniLM-L6-v2 (``embedding.runtime``:
torch, onnx, onnx-int8), all loaded once before any timing:

* passages/second embedding a seeded sample of the corpus's passages (the
  chunker's real passages), the runtimes interleaved round by round so that
  load from other processes falls on all of them alike; ``ratio_to_torch`` is
  the runtime's passages/second over PyTorch's;
* the median milliseconds to embed one dev question, the runtimes interleaved
  question by question;
* cosine of its passage vectors to PyTorch's (mean and lowest);
* unless ``--no-eval``: ``rag eval retrieval`` on the dev questions (the same
  function the command calls), which builds one full index per runtime into
  ``--index-root`` (kept, so a second run only re-scores).

Prints one line per runtime, or with ``--json`` one JSON object per runtime
with at least runtime, passages_per_s, ratio_to_torch, query_ms_median,
hits@10 and mrr@10.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from rag.config import EmbeddingSettings, load_settings
from rag.embed.registry import RUNTIMES, make_embedder
from rag.eval.retrieval import evaluate_retrieval, load_queries
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval" / "multihop-rag"


def sample_passages(corpus: Path, embedder, settings, count: int) -> list[str]:
    """``count`` of the corpus's passages (as the index cuts them), in a seeded random order."""
    chunker = Chunker(embedder, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
    texts = [p.full_text for a in load_paths([corpus]).articles for p in chunker.chunk(a)]
    random.Random(0).shuffle(texts)
    return texts[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus.json")
    parser.add_argument("--queries", type=Path, default=SHARED / "queries-dev.json")
    parser.add_argument("--passages", type=int, default=512, help="passages timed per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries-timed", type=int, default=100, help="dev questions embedded one by one")
    parser.add_argument("--no-eval", action="store_true", help="skip the retrieval evaluation")
    parser.add_argument("--index-root", type=Path, default=Path("index/runtimes"))
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runtimes = args.runtimes.split(",")
    if runtimes[0] != "torch":
        parser.error("--runtimes must start with torch (the baseline)")
    settings = load_settings()
    load_before = os.getloadavg()

    embedders = {r: make_embedder(EmbeddingSettings(runtime=r)) for r in runtimes}
    texts = sample_passages(args.corpus, embedders["torch"], settings, args.passages)
    for embedder in embedders.values():
        embedder.embed(texts[:8])  # warm up

    seconds = {r: 0.0 for r in runtimes}
    vectors = {}
    for _ in range(args.rounds):
        for runtime, embedder in embedders.items():
            started = time.perf_counter()
            vectors[runtime] = embedder.embed(texts)
            seconds[runtime] += time.perf_counter() - started

    questions = [q["query"] for q in load_queries(args.queries, args.queries_timed)]
    query_ms = {r: [] for r in runtimes}
    for question in questions:
        for runtime, embedder in embedders.items():
            started = time.perf_counter()
            embedder.embed([question])
            query_ms[runtime].append((time.perf_counter() - started) * 1000)

    rows = []
    torch_rate = len(texts) * args.rounds / seconds["torch"]
    for runtime in runtimes:
        rate = len(texts) * args.rounds / seconds[runtime]
        cosine = (vectors[runtime] * vectors["torch"]).sum(axis=1)
        rows.append({
            "runtime": runtime, "model_id": embedders[runtime].model_id,
            "passages": len(texts), "rounds": args.rounds,
            "passages_per_s": round(rate, 2), "ratio_to_torch": round(rate / torch_rate, 3),
            "query_ms_median": round(statistics.median(query_ms[runtime]), 2),
            "cosine_to_torch_mean": round(float(cosine.mean()), 5),
            "cosine_to_torch_min": round(float(cosine.min()), 5),
        })
    del embedders, vectors

    if not args.no_eval:
        # The runtime most likely to become the default is scored first.
        for row in sorted(rows, key=lambda r: r["runtime"] != "onnx-int8"):
            # The folder `RAG_INDEX_DIR=<root>/<runtime> rag eval retrieval` uses, so either reuses the other's.
            folder = args.index_root / row["runtime"] / "eval" / args.corpus.stem
            run_settings = load_settings(index_dir=folder,
                                         embedding={"runtime": row["runtime"]})
            started = time.perf_counter()
            scores = evaluate_retrieval(run_settings, args.corpus, args.queries)["overall"]
            row["eval_seconds"] = round(time.perf_counter() - started, 1)
            row.update({k: round(scores[k], 4) for k in ("hits@4", "hits@10", "mrr@10", "map@10")})
            row["questions"] = scores["n"]
            print(f"scored {row['runtime']}: {json.dumps(row)}", file=sys.stderr, flush=True)
        base = rows[0]
        for row in rows:
            row["hits@10_minus_torch"] = round(row["hits@10"] - base["hits@10"], 4)
            row["mrr@10_minus_torch"] = round(row["mrr@10"] - base["mrr@10"], 4)

    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    load = {"process_peak_rss_mb": peak, "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()]}
    for row in rows:
        row.update(load)
        if args.json:
            print(json.dumps(row))
        else:
            scored = f"  hits@10 {row['hits@10']:.4f}  mrr@10 {row['mrr@10']:.4f}" if "hits@10" in row else ""
            print(f"{row['runtime']:10s} {row['passages_per_s']:7.1f} passages/s  x{row['ratio_to_torch']:.3f} "
                  f"torch  query {row['query_ms_median']:6.1f} ms  cosine mean {row['cosine_to_torch_mean']:.4f} "
                  f"min {row['cosine_to_torch_min']:.4f}{scored}")
    if not args.json:
        print(f"load average (1, 5, 15 min) before {load['load_before']}, after {load['load_after']}")


if __name__ == "__main__":
    main()
