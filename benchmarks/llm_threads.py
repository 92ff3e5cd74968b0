"""llama.cpp threads: one against all cores, on an idle machine and with one core kept busy.

    python benchmarks/llm_threads.py [--index index] [--runs 2] [--threads 1 2]

Builds the answer prompts of the seed article's questions once (the
configured pipeline: retrieval, evidence sentences), then has the in-process
model (the packaged GGUF unless RAG_LLM__MODEL says otherwise) answer each
with every thread count in turn, one model per count, all loaded before
timing, in the same process: first with nothing else running, then with a
second process spinning on one core (another request embedding, another
program), which is what "a loaded 2-core machine" means here. Prints the
median time to the first token and to the whole reply for each thread count
and condition, and their ratios against the first count.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time

from rag.answer.pipeline import Answerer
from rag.answer.prompts import answer_messages
from rag.config import load_settings
from rag.llm.llama_cpp import LlamaCppChatModel

QUESTIONS = [
    "What does Ukraine's victory plan ask the West for?",
    "Which Western nation wants talks with Putin, according to Bloomberg?",
    "What did Putin warn about strikes deep inside Russia?",
]


def spin(stop) -> None:
    while not stop.is_set():
        pass


def timed(model: LlamaCppChatModel, messages: list[dict]) -> tuple[float, float]:
    start = time.perf_counter()
    first = None
    for _ in model.stream(messages):
        first = first or time.perf_counter() - start
    return first or 0.0, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    settings = load_settings(**({"index_dir": args.index} if args.index else {}))
    with Answerer(settings) as answerer:
        prompts = []
        for question in QUESTIONS:
            plan = answerer.plan(question)
            prompts.append(answer_messages(plan.parsed, plan.sources))
    models = {n: LlamaCppChatModel(settings.llm.model_copy(update={"threads": n})) for n in args.threads}
    for model in models.values():
        model.complete(prompts[0], max_tokens=1)  # load
    results: dict[tuple[str, int], dict[str, list[float]]] = {}
    for condition in ("idle", "one core busy"):
        stop = multiprocessing.Event()
        spinner = multiprocessing.Process(target=spin, args=(stop,)) if condition != "idle" else None
        if spinner:
            spinner.start()
        try:
            for _ in range(args.runs):
                for messages in prompts:
                    for n, model in models.items():
                        first, total = timed(model, messages)
                        row = results.setdefault((condition, n), {"first": [], "total": []})
                        row["first"].append(first)
                        row["total"].append(total)
        finally:
            stop.set()
            if spinner:
                spinner.join()
    med = statistics.median
    base = args.threads[0]
    print(f"model {next(iter(models.values())).model}; {len(prompts)} prompts x {args.runs} runs")
    for (condition, n), row in results.items():
        ref = results[(condition, base)]
        print(f"{condition:>14}, {n} thread(s): first token {med(row['first']):6.2f} s, whole reply "
              f"{med(row['total']):6.2f} s; ratio to {base} thread(s): {med(row['first']) / med(ref['first']):.2f}, "
              f"{med(row['total']) / med(ref['total']):.2f}")


if __name__ == "__main__":
    main()
