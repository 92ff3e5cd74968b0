"""Time to a timeline's first checked event summary with the configured chat model.

    python benchmarks/timeline_summaries.py [--index /work/eval-index/corpus] [--limit 10]

For the first ``--limit`` MultiHop-RAG dev story questions (rag.eval.timeline:
gold evidence from two or more dated articles), builds the timeline without a
model, then asks the model for the first event's one-line summary
(rag.timeline.summaries, checked like an answer). Prints, per question, the
timeline's time, the first summary's time and whether it was kept, then the
medians of the timeline alone and of the timeline plus its first summary.
The model is loaded (and read once) before timing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

from rag.config import load_settings
from rag.eval.timeline import story_questions
from rag.llm.registry import make_chat_model
from rag.search.open_index import open_index
from rag.timeline.build import build_timeline
from rag.timeline.summaries import summarize_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/work/eval-index/corpus")
    parser.add_argument("--queries", default="/work/shared/eval/multihop-rag/queries-dev.json")
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    settings = load_settings(index_dir=args.index)
    opened = open_index(settings)
    model = make_chat_model(settings.llm)
    model.complete([{"role": "user", "content": "Say OK."}], max_tokens=2)  # load the model
    questions = story_questions(args.queries, args.limit)
    alone, with_first = [], []
    for q in questions:
        t0 = time.perf_counter()
        timeline = build_timeline(opened, q["query"])
        t1 = time.perf_counter()
        if not timeline.events:
            continue
        first = copy.copy(timeline)
        first.events = timeline.events[:1]
        kept = summarize_events(first, model)
        t2 = time.perf_counter()
        alone.append(t1 - t0)
        with_first.append(t2 - t0)
        print(f"timeline {1000 * (t1 - t0):7.1f} ms  first summary {1000 * (t2 - t1):7.1f} ms  kept={bool(kept)}  "
              f"{q['query'][:70]!r}")
    med = statistics.median
    print(f"\n{len(alone)} timelines: median timeline {med(alone):.2f} s; timeline + first event summary "
          f"{med(with_first):.2f} s (max {max(with_first):.2f} s); backend {model.backend}")


if __name__ == "__main__":
    main()
