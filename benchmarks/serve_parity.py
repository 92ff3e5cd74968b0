"""The dev retrieval evaluation through ``POST /v1/search`` against ``rag eval retrieval``:
the same questions must give exactly the same Hits@10 and MRR@10.

    nice -n 5 python benchmarks/serve_parity.py [--index /work/eval-index/corpus] [--limit 200]

The index is copied to a temporary folder first (``rag eval retrieval`` brings an index up
to date with the corpus before scoring, and the eval index is shared). ``rag eval
retrieval --json`` runs as a subprocess; then a ``rag serve`` subprocess over the same copy
answers ``POST /v1/search`` (k = 10) for each question, and the rows are scored with the
library's own metric functions (rag.eval.retrieval).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from serve_load import QUERIES, start_server  # noqa: E402
from rag.eval.retrieval import aggregate, evidence_recall, gold_facts, load_queries, score_query  # noqa: E402

CORPUS = QUERIES.parent / "corpus.json"


def cli_eval(index: Path, limit: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", "from rag.cli import app; app()", "eval", "retrieval",
                          "--corpus", str(CORPUS), "--queries", str(QUERIES), "--index", str(index),
                          "--limit", str(limit), "--json"], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def api_eval(base: str, limit: int) -> dict:
    queries = load_queries(QUERIES, limit)
    scores, recalls = [], []
    with httpx.Client(timeout=120) as client:
        for q in queries:
            r = client.post(f"{base}/v1/search", json={"query": q["query"], "k": 10})
            r.raise_for_status()
            rows = r.json()
            scores.append(score_query([row["text"] for row in rows], gold_facts(q)))
            recalls.append(evidence_recall([row["url"] for row in rows], q["evidence_list"]))
    out = aggregate(scores)
    n = out.pop("n")
    return {**out, "evidence_recall@10": sum(recalls) / len(recalls), "n": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/work/eval-index/corpus")
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    copy = Path(tempfile.mkdtemp()) / "corpus"
    shutil.copytree(args.index, copy)
    try:
        cli = cli_eval(copy, args.limit)
        proc, base = start_server(copy)
        try:
            api = api_eval(base, args.limit)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)
    print(f"dev retrieval, first {args.limit} questions with evidence; load average {os.getloadavg()[0]:.1f}")
    print(f"{'metric':>20} {'rag eval retrieval':>19} {'POST /v1/search':>16} {'equal':>6}")
    for key in ("hits@4", "hits@10", "mrr@10", "map@10", "evidence_recall@10", "n"):
        print(f"{key:>20} {cli[key]:>19.6f} {api[key]:>16.6f} {str(cli[key] == api[key]):>6}")


if __name__ == "__main__":
    main()
