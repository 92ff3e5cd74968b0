"""Calibrate the yes/no verdict threshold (rag.answer.verdict) on MultiHop-RAG dev questions.

For each question from ``--start`` on whose gold answer is yes or no, the
pipeline builds its sources and prompt as for an answer, and the chat model
(in-process llama.cpp; the packaged GGUF unless RAG_LLM__MODEL says otherwise)
reads it and writes one token; its log P(Yes) - log P(No) is recorded. Prints
the AUC of that margin against the gold answers and the verdict's accuracy at
each threshold. Questions before ``--start`` are left for `rag eval answers`
(the first 200 are the measured ones), so the threshold is not tuned on them.

    python benchmarks/yes_no_calibration.py --index index/eval/corpus --start 200 --out margins.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.pipeline import Answerer
from rag.answer.prompts import answer_messages
from rag.config import load_settings
from rag.eval.retrieval import load_queries
from rag.llm.llama_cpp import log_odds

THRESHOLDS = (0.0, 0.25, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 1.0, 1.25)


def yes_no_questions(path: Path, start: int, limit: int | None = None) -> list[dict]:
    """The questions from number ``start`` on (file order, nulls counted, as `rag eval answers`
    counts them) whose gold answer is yes or no, at most ``limit``."""
    queries = load_queries(path, None, include_null=True)[start:]
    return [q for q in queries if gold(q) in ("yes", "no")][:limit]


def gold(query: dict) -> str:
    return str(query.get("answer", "")).strip().lower()


def auc(yes: list[float], no: list[float]) -> float:
    """Probability that a "yes" question's score is above a "no" question's (ties count half)."""
    return sum((y > n) + 0.5 * (y == n) for y in yes for n in no) / (len(yes) * len(no))


def first_token_odds(llm: Any, messages: list[dict], first: list[int], second: list[int]) -> float:
    """log P(first) - log P(second) of the first token llama.cpp's ``llm`` (a ``Llama``) would
    write in reply to ``messages`` (token ids from rag.llm.llama_cpp.first_token_ids)."""
    seen: dict = {}

    def capture(_ids, scores):
        seen.setdefault("s", np.array(scores, dtype=np.float64))
        return scores

    llm.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0, logits_processor=[capture])
    return log_odds(seen["s"], first, second)


def print_aucs(rows: list[dict], signals: dict[str, Callable[[dict], float]]) -> None:
    """The AUC of each signal (a function of a row) against the rows' gold answers."""
    print(f"{len(rows)} yes/no questions")
    for name, key in signals.items():
        yes = [key(r) for r in rows if r["gold"] == "yes"]
        no = [key(r) for r in rows if r["gold"] == "no"]
        print(f"AUC {auc(yes, no):.3f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=Path("../shared/eval/multihop-rag/queries-dev.json"))
    parser.add_argument("--index", type=Path, required=True, help="an index of the MultiHop-RAG corpus")
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None, help="at most this many yes/no questions")
    parser.add_argument("--out", type=Path, default=None, help="write each question's margin here (JSON lines)")
    args = parser.parse_args()

    queries = yes_no_questions(args.queries, args.start, args.limit)
    rows = []
    with Answerer(load_settings(index_dir=args.index)) as answerer:
        model = answerer.chat_model
        if not getattr(model, "calibrates_yes_no", False):
            raise SystemExit(f"{model.backend} cannot read its first token's odds; use RAG_LLM__BACKEND=llama-cpp")
        for i, query in enumerate(queries, start=1):
            plan = answerer.plan(query["query"])
            if plan.refusal:
                continue
            model.complete(answer_messages(plan.parsed, plan.sources), max_tokens=1, yes_no_threshold=0.0)
            rows.append({"id": query.get("id"), "gold": gold(query), "margin": model.last_yes_no_margin})
            if args.out:
                with open(args.out, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(rows[-1]) + "\n")
            print(f"\r{i}/{len(queries)}", end="", flush=True)
    print()
    yes = [r["margin"] for r in rows if r["gold"] == "yes"]
    no = [r["margin"] for r in rows if r["gold"] == "no"]
    print(f"{len(rows)} yes/no questions ({len(yes)} yes, {len(no)} no); AUC of the margin {auc(yes, no):.3f}; "
          f"always Yes {len(yes) / len(rows):.3f}")
    for t in THRESHOLDS:
        right = sum(m >= t for m in yes) + sum(m < t for m in no)
        said_no = sum(r["margin"] < t for r in rows)
        print(f"threshold {t:5.2f}: verdict right {right / len(rows):.3f}, No {said_no}")


if __name__ == "__main__":
    main()
