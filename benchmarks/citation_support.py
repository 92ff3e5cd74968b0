"""How the citation support check scores true and wrong citations (no model call).

    python benchmarks/citation_support.py --index index/eval/corpus \
        --queries ../shared/eval/multihop-rag/queries-dev.json

The measurement behind ``rag.answer.citations.SUPPORT_THRESHOLD``, on the
MultiHop-RAG dev questions over an index of their corpus:

- verbatim: each gold evidence fact against a passage that holds it (true)
  and against the top-6 retrieved passages of other articles (wrong);
- paraphrased: each question against the union of the passages holding its
  facts (true) and against the best retrieved passage of an article holding
  none (wrong).

Prints the share passing at 0.35, 0.5 and 0.6. Run it from two checkouts
(``PYTHONPATH``) to see whether a change to the content words moves them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.answer.citations import support_score
from rag.config import load_settings
from rag.eval.retrieval import load_queries, squash
from rag.search.open_index import open_index

THRESHOLDS = (0.35, 0.5, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    settings = load_settings(index_dir=args.index)
    opened = open_index(settings)
    snapshot = opened.snapshot
    everything = snapshot.passages(range(len(snapshot)))
    squashed = [squash(p.full_text) for p in everything]
    scores: dict[str, list[float]] = {k: [] for k in ("verbatim_true", "verbatim_wrong", "para_true", "para_wrong")}
    for q in load_queries(Path(args.queries), args.limit, include_null=False):
        facts = [e["fact"] for e in q["evidence_list"]]
        holders = []
        for fact in facts:
            key = squash(fact)
            row = next((i for i, text in enumerate(squashed) if key in text), None)
            if row is None:
                continue
            holders.append(everything[row])
            scores["verbatim_true"].append(support_score(fact, everything[row].full_text))
        gold_articles = {p.article_id for p in holders}
        retrieved = opened.retriever.search(q["query"], 6)
        for fact in facts:
            for p in retrieved:
                if p.article_id not in gold_articles:
                    scores["verbatim_wrong"].append(support_score(fact, p.full_text))
        if holders:
            scores["para_true"].append(support_score(q["query"], "\n".join(p.full_text for p in holders)))
        wrong = next((p for p in retrieved if p.article_id not in gold_articles), None)
        if wrong is not None:
            scores["para_wrong"].append(support_score(q["query"], wrong.full_text))
    for name, values in scores.items():
        passing = "  ".join(f"{t}: {sum(v >= t for v in values) / len(values):.3f}" for t in THRESHOLDS)
        print(f"{name:>14} (n={len(values):>5})  passing at {passing}")
    opened.close()


if __name__ == "__main__":
    main()
