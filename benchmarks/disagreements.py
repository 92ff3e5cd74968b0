"""The disagreement check, measured: RGB pairs, perturbed news, false alarms, cost.

    python benchmarks/disagreements.py --rgb ../shared/eval/rgb/en_fact.json \
        --corpus ../shared/eval/multihop-rag/corpus.json \
        --queries ../shared/eval/multihop-rag/queries-dev.json \
        --index /work/eval-index/corpus [--limit 200] [--flags-out benchmarks/data/disagreement_flags_dev.jsonl]

1. RGB counterfactual pairs and 2. perturbed MultiHop-RAG dev articles
   (rag.eval.disagreements): with lexical evidence only, and with the index's
   embedder (``--index``; else the default embedder) as in an answer, so the
   embedder's part shows.
3. False alarms on the untouched corpus: for the first ``--limit`` dev
   questions (file order), the sources an answer is given (Answerer.plan, the
   extractive backend: no model) and the flags among them; and the flags an
   extractive answer shows (those it relies on). Per 100 questions. Every flag
   goes to ``--flags-out`` (JSON lines) for hand labels
   (benchmarks/data/disagreement_flags_dev_labels.json); the labelled share real
   is printed when that file exists.
4. Cost of the check per answer: the hook's work (find the flags among the
   sources, keep those the answer relies on) per question, the facts cache
   cleared first, against the plan (retrieval and sources) of the same question
   in the same process: median, 90th percentile and the ratio of medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.disagree.answer_note import note_disagreements
from rag.disagree.facts import facts_of
from rag.disagree.flags import find_disagreements
from rag.eval.disagreements import evaluate_perturbed, evaluate_rgb

LABELS = Path(__file__).parent / "data" / "disagreement_flags_dev_labels.json"


def show(name: str, result: dict) -> None:
    for group, m in result.items():
        print(f"  {name:<22} {group:>12}: cases {m['cases']:>4}  recall {m['recall']:.3f}  "
              f"flagged {m['flagged']:.3f}  control flags {m['control_flag_rate']:.3f}  "
              f"precision {m['precision']:.3f}  cite+state {m['both_cited_and_stated']:.3f}")


def false_alarms(index: Path, queries: Path, limit: int, flags_out: Path | None) -> None:
    from rag.answer.pipeline import Answerer
    from rag.config import load_settings

    settings = load_settings(index_dir=index, llm={"backend": "extractive"})
    questions = json.loads(queries.read_text(encoding="utf-8"))[:limit]
    plan_ms, check_ms, among, shown = [], [], 0, 0
    rows = []
    with Answerer(settings) as answerer:
        embed = answerer.opened.embedder.embed
        answerer.plan(questions[0]["query"])  # warm the index and the embedder
        for q in questions:
            t0 = time.perf_counter()
            plan = answerer.plan(q["query"])
            t1 = time.perf_counter()
            answer = answerer._fallback(plan) or ""  # the extractive answer's text, markers as sources
            facts_of.cache_clear()
            t2 = time.perf_counter()
            _, relied = note_disagreements(answer, plan.sources, embed)  # the hook, as an answer runs it
            t3 = time.perf_counter()
            flags = find_disagreements(plan.sources, embed)
            plan_ms.append((t1 - t0) * 1000)
            check_ms.append((t3 - t2) * 1000)
            among += len(flags)
            shown += len(relied)
            for i, f in enumerate(flags):
                rows.append({"qid": q.get("id"), "i": i, "question": q["query"],
                             "relied_on": any(f.to_dict() == r.to_dict() for r in relied),
                             **f.to_dict()})
    n = len(questions)
    print(f"3. false alarms, first {n} dev questions (untouched corpus):")
    print(f"  flags among the sources: {among} ({100 * among / n:.1f} per 100 questions); "
          f"shown in extractive answers: {shown} ({100 * shown / n:.1f} per 100)")
    if flags_out:
        flags_out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"  flags written to {flags_out}")
    if LABELS.is_file():
        labels = json.loads(LABELS.read_text(encoding="utf-8"))["labels"]
        for part in ("final", "looser"):
            chosen = [x for x in labels if x["set"] == part]
            real = sum(1 for x in chosen if x["label"] == "real")
            print(f"  hand-labelled ({LABELS.name}, {part} rules): {real} of {len(chosen)} real")
    med_check, med_plan = statistics.median(check_ms), statistics.median(plan_ms)
    p90 = sorted(check_ms)[int(0.9 * (len(check_ms) - 1))]
    print("4. cost per answer (ms):")
    print(f"  check median {med_check:.1f}, p90 {p90:.1f}, max {max(check_ms):.1f}; plan (retrieval + sources) "
          f"median {med_plan:.1f}; check / plan {med_check / med_plan:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rgb", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--index", type=Path)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--flags-out", type=Path)
    args = parser.parse_args()
    from rag.config import load_settings

    if args.index:
        from rag.search.open_index import open_index

        embed = open_index(load_settings(index_dir=args.index)).embedder.embed
    else:  # the default embedder, as a new index would use
        from rag.embed.registry import make_embedder

        embed = make_embedder(load_settings().embedding).embed
    if args.rgb:
        print("1. RGB counterfactual pairs:")
        show("lexical only", evaluate_rgb(args.rgb))
        show("with the embedder", evaluate_rgb(args.rgb, embed))
    if args.corpus and args.queries:
        print("2. perturbed MultiHop-RAG dev articles:")
        show("lexical only", evaluate_perturbed(args.corpus, args.queries))
        show("with the embedder", evaluate_perturbed(args.corpus, args.queries, embed))
    if args.index and args.queries:
        false_alarms(args.index, args.queries, args.limit, args.flags_out)


if __name__ == "__main__":
    main()
