"""Time to the first answer token and to the whole answer, against the full-passage prompt.

    python benchmarks/answer_latency.py [--index index] [--llm llama-cpp] [--runs 2]

Asks the seed article's questions through the full pipeline (rewrite,
retrieval, checks, prompt, model) with the configured backend (the offline
default: in-process llama.cpp with the packaged Qwen2.5-Coder-1.5B), twice per
run: with the configured context (evidence sentences, and the evidence check
when it is on), and with the whole retrieved passages and no check (the
previous prompt), one after the other in the same process. The index and the
model are loaded before timing. Prints, per answer, retrieval, first-token
and total times and the prompt tokens, then medians and the ratio of the
first-token times (configured / full passages).
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
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    overrides: dict = {"llm": {"backend": args.llm, "threads": args.threads}}
    if args.index:
        overrides["index_dir"] = args.index
    settings = load_settings(**overrides)
    answerer = Answerer(settings)
    full = Answerer(settings.model_copy(update={"answer": settings.answer.model_copy(
        update={"context": "passages", "check_evidence": False})}), opened_index=answerer.opened,
        chat_model=answerer.chat_model)
    answerer.answer("warm up: what is this about?")  # loads the index, embedder and model

    times: dict[str, dict[str, list[float]]] = {
        name: {"retrieval": [], "first": [], "total": [], "tokens": []} for name in ("configured", "full")}
    for run in range(args.runs):
        for question in QUESTIONS:
            for name, who in (("configured", answerer), ("full", full)):
                result = who.answer(question)
                t = result.timings
                row = times[name]
                row["retrieval"].append(t["retrieval_ms"])
                row["first"].append(t["first_token_ms"])
                row["total"].append(t["total_ms"])
                row["tokens"].append(result.prompt_tokens or 0)
                cited = ", ".join(sorted({c.title[:40] for c in result.citations})) or "-"
                print(f"[{run}] {name:>10} {question}\n    retrieval {t['retrieval_ms']:7.1f} ms  first token "
                      f"{t['first_token_ms']:7.1f} ms  total {t['total_ms']:7.1f} ms  prompt "
                      f"{result.prompt_tokens} tokens  refused={result.refused}  cites: {cited}\n"
                      f"    {result.text[:160]!r}")
    med = statistics.median
    model = answerer.chat_model
    print(f"\nbackend {model.backend}, model {model.model}, threads {settings.llm.threads or 'all cores'}")
    for name, row in times.items():
        print(f"{name:>10}: median retrieval {med(row['retrieval']):.1f} ms, first token {med(row['first']):.1f} ms, "
              f"total {med(row['total']):.1f} ms, prompt {med(row['tokens']):.0f} tokens")
    c, f = times["configured"], times["full"]
    print(f"first-token ratio configured/full passages: {med(c['first']) / med(f['first']):.3f}; "
          f"prompt tokens ratio {med(c['tokens']) / med(f['tokens']):.3f}")


if __name__ == "__main__":
    main()
