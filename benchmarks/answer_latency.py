"""Time to the first answer token, and the share of it spent on retrieval.

    python benchmarks/answer_latency.py [--index index] [--llm llama-cpp] [--runs 3]

Asks the seed article's questions through the full pipeline (rewrite,
retrieval, prompt, model) with the configured backend (the offline default:
in-process llama.cpp with the packaged Qwen2.5-Coder-1.5B). The index and the
model are loaded before timing. Prints, per question, retrieval and
first-token times and their ratio, then medians.
"""

from __future__ import annotations

import argparse
import statistics

from rag.answer.pipeline import Answerer
from rag.config import load_settings

QUESTIONS = [
    "What does Ukraine's victory plan ask the West for?",
    "Which Western nation wants talks with Putin, according to Bloomberg?",
    "What did Putin warn about strikes deep inside Russia?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=None)
    parser.add_argument("--llm", default=None)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    overrides = {"llm": {"backend": args.llm}} if args.llm else {}
    if args.index:
        overrides["index_dir"] = args.index
    answerer = Answerer(load_settings(**overrides))
    answerer.answer("warm up: what is this about?")  # loads the index, embedder and model

    retrieval, first, total = [], [], []
    for run in range(args.runs):
        for question in QUESTIONS:
            result = answerer.answer(question)
            t = result.timings
            retrieval.append(t["retrieval_ms"])
            first.append(t["first_token_ms"])
            total.append(t["total_ms"])
            cited = ", ".join(sorted({c.title for c in result.citations})) or "-"
            print(f"[{run}] {question}\n    retrieval {t['retrieval_ms']:7.1f} ms  first token "
                  f"{t['first_token_ms']:7.1f} ms  total {t['total_ms']:7.1f} ms  "
                  f"refused={result.refused}  cites: {cited}")
    med = statistics.median
    print(f"\nbackend {answerer.chat_model.backend}, model {answerer.chat_model.model}")
    print(f"median retrieval {med(retrieval):.1f} ms, first token {med(first):.1f} ms, total {med(total):.1f} ms")
    print(f"retrieval share of time to first token: {med(retrieval) / med(first):.3f}")


if __name__ == "__main__":
    main()
