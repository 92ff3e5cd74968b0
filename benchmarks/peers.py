"""article-rag against LlamaIndex and Haystack on the same articles and questions, in one run.

    pip install -e ".[peers]"          # the peers; never part of the default install or the tests
    python benchmarks/peers.py [--limit N] [--articles N] [--json] [--out FILE]

Runs, one after the other and each in a fresh child process of this one run:
article-rag's default pipeline (as ``rag eval retrieval`` runs it), the same
pipeline with the model run by PyTorch (the runtime the peers use), LlamaIndex
(hybrid: vector + BM25 fused by ``QueryFusionRetriever`` reciprocal rerank;
vector only; BM25 only) and Haystack (hybrid: BM25 + embedding retrievers
joined by ``DocumentJoiner`` reciprocal rank fusion; embedding only; BM25
only), all with the packaged all-MiniLM-L6-v2 loaded from its local folder.
Each family ingests the corpus once; its variants share that ingestion.

Prints one table (or, with ``--json``, a JSON list with one object per
pipeline) and always writes the JSON to ``--out``. Throughput is reported as
a ratio to article-rag's in the same run: the machine is shared and noisy, so
ratios, not seconds, are what compare. Settings and their reasons:
docs/peers.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

from peer_pipelines import FAMILIES, Job, run_family

from rag.eval.retrieval import gold_facts, load_queries

EVAL = Path("../shared/eval/multihop-rag")
COLUMNS = [  # (heading, key, format)
    ("pipeline", "pipeline", "{}"),
    ("Hits@4", "hits@4", "{:.3f}"),
    ("Hits@10", "hits@10", "{:.3f}"),
    ("MRR@10", "mrr@10", "{:.3f}"),
    ("passages", "passages", "{:,}"),
    ("mean tokens", "mean_tokens", "{:.0f}"),
    ("over window", "over_window", "{:,}"),
    ("passages/s", "passages_per_s", "{:.1f}"),
    ("passages/s ÷ article-rag", "ingest_ratio", "{:.2f}"),
    ("articles/s ÷ article-rag", "articles_ratio", "{:.2f}"),
    ("articles/CPU-s ÷ article-rag", "articles_cpu_ratio", "{:.2f}"),
    ("search median ms", "search_ms_median", "{:.1f}"),
    ("search p95 ms", "search_ms_p95", "{:.1f}"),
    ("peak MB ingest", "ingest_peak_mb", "{:,.0f}"),
    ("peak MB search", "search_peak_mb", "{:,.0f}"),
]


def subset_corpus(corpus: Path, queries: list[dict], articles: int, folder: Path) -> Path:
    """A corpus of at least the questions' evidence articles, topped up in file order to ``articles``."""
    records = json.loads(corpus.read_text())
    evidence = {e["url"] for q in queries for e in q.get("evidence_list", [])}
    keep = [r for r in records if r.get("url") in evidence]
    for record in records:
        if len(keep) >= articles:
            break
        if record.get("url") not in evidence:
            keep.append(record)
    path = folder / "corpus-subset.json"
    path.write_text(json.dumps(keep))
    return path


def rows_of(family: dict, baseline: dict) -> list[dict]:
    """One row per variant, with the family's ingestion and its ratios to article-rag's."""
    ingest = family["ingest"]
    rows = []
    for variant in family["variants"]:
        rows.append({
            **variant,
            **ingest,
            "ingest_ratio": ingest["passages_per_s"] / baseline["passages_per_s"],
            "articles_ratio": ingest["articles_per_s"] / baseline["articles_per_s"],
            "articles_cpu_ratio": ingest["articles_per_cpu_s"] / baseline["articles_per_cpu_s"],
            "peak_mb": max(ingest["ingest_peak_mb"], variant["search_peak_mb"]),
        })
    return rows


def summary(rows: list[dict]) -> dict:
    """article-rag against the best peer row of each headline column."""
    ours, peers = rows[0], [r for r in rows[1:] if not r["pipeline"].startswith("article-rag")]
    out = {}
    for key in ("hits@10", "mrr@10", "ingest_ratio", "articles_ratio", "articles_cpu_ratio"):
        best = max(peers, key=lambda r: r[key], default=None)
        if best:
            out[key] = {"article-rag": ours[key], "best_peer": best["pipeline"], "best_peer_value": best[key],
                        "article_rag_ahead": ours[key] >= best[key]}
    return out


def markdown_table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(h for h, _, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for _, key, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("article-rag", "llama-index-core", "llama-index-embeddings-huggingface",
                 "llama-index-retrievers-bm25", "llama-index-vector-stores-faiss", "haystack-ai",
                 "sentence-transformers-haystack", "sentence-transformers", "transformers", "torch", "onnxruntime",
                 "faiss-cpu"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=EVAL / "corpus.json")
    parser.add_argument("--queries", type=Path, default=EVAL / "queries-dev.json")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N non-null dev questions.")
    parser.add_argument("--articles", type=int, default=None,
                        help="Index only the questions' evidence articles plus others up to N (a quick run).")
    parser.add_argument("--only", nargs="+", choices=list(FAMILIES), default=list(FAMILIES),
                        help="Families to run (article-rag always runs: it is the baseline of the ratios).")
    parser.add_argument("--json", action="store_true", help="Print the JSON list instead of the table.")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/peers.json"))
    args = parser.parse_args()
    for path in (args.corpus, args.queries):
        if not path.is_file():
            parser.error(f"{path} not found; run from the repository root or pass --corpus/--queries")

    queries = load_queries(args.queries, args.limit)
    families = ["article-rag"] + [f for f in args.only if f != "article-rag"]
    load_before = os.getloadavg()
    started = time.perf_counter()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = subset_corpus(args.corpus, queries, args.articles, Path(tmp)) if args.articles else args.corpus
        job = Job(corpus=str(corpus), queries=[{"query": q["query"], "facts": gold_facts(q)} for q in queries])
        for name in families:
            print(f"== {name}", file=sys.stderr, flush=True)
            # A fresh process per family: its peak memory is its own, and no
            # library's import-time set-up leaks into the next family.
            with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
                results[name] = pool.submit(run_family, name, job).result()
    wall = time.perf_counter() - started
    load_after = os.getloadavg()

    baseline = results["article-rag"]["ingest"]
    rows = [row for name in families for row in rows_of(results[name], baseline)]
    record = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "wall_seconds": round(wall, 1),
        "questions": len(queries),
        "settings": {k: v for k, v in asdict(job).items() if k not in ("queries", "corpus")},
        "versions": versions(),
        "pipelines": rows,
        "summary": summary(rows),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(markdown_table(rows))
        for key, item in record["summary"].items():
            print(f"{key}: article-rag {item['article-rag']:.3f}, best peer {item['best_peer']} "
                  f"{item['best_peer_value']:.3f} -> {'article-rag ahead' if item['article_rag_ahead'] else 'peer ahead'}")
        print(f"\n{len(queries)} questions; {rows[0]['articles']} articles; wall {wall:.0f} s; "
              f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; written to {args.out}")


if __name__ == "__main__":
    main()
