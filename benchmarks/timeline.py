"""Timelines on the MultiHop-RAG dev questions whose evidence spans two or more dated articles.

    python benchmarks/timeline.py [--index /work/eval-index/corpus] [--limit N]
        [--sweep] [--labels benchmarks/data/timeline_labels.json] [--dump FILE]

Prints, on the questions whose gold evidence comes from >= 2 dated articles
(each question taken as the story query, no language model):

- the metrics of :mod:`rag.eval.timeline` (gold articles present, gold pairs in
  order, outlet named, events per timeline), as ``rag eval timeline`` does;
- ``--sweep``: gold articles kept and articles per timeline for a grid of the
  relevance cut (margin below the best article's cosine, absolute floor), the
  measurement behind :class:`rag.timeline.story.StoryOptions`;
- the median time of ``build_timeline`` against the median time of one plain
  ``Retriever.search`` (k=6) in the same process (query vectors computed
  once for both, model load excluded);
- ``--labels``: precision of the hand-labelled timelines (entries about the
  story / entries), from the labels file (see benchmarks/data/README-timeline.md);
- ``--dump``: the first 30 timelines as JSON lines, the material the labels were made on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from rag.config import load_settings
from rag.eval.timeline import evaluate_opened, story_questions
from rag.search.open_index import open_index
from rag.timeline.build import build_timeline
from rag.timeline.story import StoryOptions, searched

MARGINS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 1.0)
FLOORS = (0.0, 0.2, 0.3, 0.4)


def sweep(opened, questions: list[dict]) -> None:
    """Gold kept / articles kept for each (margin, floor) of the cut."""
    found = []
    for q in questions:
        _, best = searched(opened, q["query"])
        found.append(({e["url"] for e in q["evidence_list"]}, list(best.values())))
    print(f"{'margin':>7} {'floor':>6} {'gold kept':>10} {'articles':>9}")
    for margin in MARGINS:
        for floor in FLOORS:
            kept_share, counts = [], []
            for gold, rows in found:
                top = max((c for c, _ in rows), default=0.0)
                kept = [u for c, u in rows if c >= max(top - margin, floor)]
                kept_share.append(len(gold & set(kept)) / len(gold))
                counts.append(len(kept))
            print(f"{margin:>7.2f} {floor:>6.2f} {statistics.mean(kept_share):>10.3f} {statistics.mean(counts):>9.1f}")


def timings(opened, questions: list[dict]) -> None:
    texts = [q["query"] for q in questions]
    vectors = opened.embedder.embed(texts)
    build_timeline(opened, texts[0])  # warm caches (dateparser's first parse); model load excluded
    plain, full = [], []
    for text, vector in zip(texts, vectors):
        t = time.perf_counter()
        opened.retriever.search(text, 6, query_vector=vector)
        plain.append(time.perf_counter() - t)
    for text in texts:
        t = time.perf_counter()
        build_timeline(opened, text)
        full.append(time.perf_counter() - t)
    a, b = statistics.median(plain), statistics.median(full)
    print(f"median Retriever.search (k=6, vector given): {a * 1000:.0f} ms")
    print(f"median build_timeline (query embedded too):  {b * 1000:.0f} ms  ({b / a:.1f}x the search; "
          f"p90 {sorted(full)[int(0.9 * len(full))] * 1000:.0f} ms)")


def precision(labels_path: Path) -> None:
    data = json.loads(labels_path.read_text())
    entries = [x for t in data["timelines"] for x in t["labels"]]
    about = sum(1 for x in entries if x["about_story"])
    per = [sum(x["about_story"] for x in t["labels"]) / len(t["labels"]) for t in data["timelines"] if t["labels"]]
    print(f"hand-labelled: {len(data['timelines'])} timelines, {len(entries)} entries, "
          f"precision {about / len(entries):.3f} (mean per timeline {statistics.mean(per):.3f})")


def dump(opened, questions: list[dict], path: Path) -> None:
    with path.open("w") as out:
        for i, q in enumerate(questions[:30]):
            t = build_timeline(opened, q["query"])
            rows = [{"entry": k, "date": e.date.isoformat(), "outlets": [o.source for o in e.outlets],
                     "text": e.text} for k, e in enumerate(t.events)]
            rows += [{"entry": len(rows) + k, "undated": True, "text": u.text} for k, u in enumerate(t.undated)]
            out.write(json.dumps({"question": i, "query": q["query"], "entries": rows}, ensure_ascii=False) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/work/eval-index/corpus")
    parser.add_argument("--queries", default="/work/shared/eval/multihop-rag/queries-dev.json")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--labels", type=Path, default=None)
    parser.add_argument("--dump", type=Path, default=None)
    args = parser.parse_args()
    opened = open_index(load_settings(index_dir=args.index, llm={"backend": "extractive"}))
    questions = story_questions(args.queries, args.limit)
    print(f"{len(questions)} questions with evidence from >= 2 dated articles; cut {StoryOptions()}")
    if args.dump:
        dump(opened, questions, args.dump)
    if args.sweep:
        sweep(opened, questions)
    result = evaluate_opened(opened, questions)
    for key, value in result["overall"].items():
        print(f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
    timings(opened, questions)
    if args.labels:
        precision(args.labels)


if __name__ == "__main__":
    main()
