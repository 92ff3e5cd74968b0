"""How much gold evidence reaches the model, and in how many tokens (no model call).

    python benchmarks/answer_context.py --index index/eval/corpus \
        --queries ../shared/eval/multihop-rag/queries-dev.json [--limit 200]

For each real MultiHop-RAG question, retrieves as the answer pipeline does and
builds both contexts from the same retrieval: the full passages (the previous
prompt) and the evidence excerpts (rag.answer.context). A gold fact "reaches"
the model when its text (spaces removed, as the retrieval metrics match it)
lies inside one passage, or inside one run of consecutive sentences of an
excerpt. Prints the share of facts that reach it, the share of questions whose
facts all reach it, and the mean source tokens (the packaged Qwen tokenizer
when it is assembled, else the estimate).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from rag.answer.context import GAP
from rag.answer.pipeline import Answerer
from rag.config import load_settings
from rag.eval.retrieval import load_queries, squash


def covered(fact: str, texts: list[str]) -> bool:
    return any(fact in t for t in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--budget", type=int, default=None, help="source tokens (default: the setting)")
    args = parser.parse_args()
    overrides: dict = {"index_dir": args.index, "llm": {"backend": "extractive"}}
    if args.budget:
        overrides["answer"] = {"context_tokens": args.budget}
    settings = load_settings(**overrides)
    count = _qwen_counter()
    queries = [q for q in load_queries(Path(args.queries), args.limit, include_null=True) if q.get("evidence_list")]
    rows = {"passages": [], "excerpts": []}
    seconds = []
    with Answerer(settings) as answerer:
        for q in queries:
            facts = [squash(e["fact"]) for e in q["evidence_list"]]
            t0 = time.perf_counter()
            plan = answerer.plan(q["query"], count=count)
            seconds.append(time.perf_counter() - t0)
            passages = [squash(p.full_text) for p in plan.retrieved]
            runs = [squash(run) for s in plan.sources for run in s.text.split(GAP.strip())]
            for name, texts, tokens in (
                ("passages", passages, sum(count(p.full_text) for p in plan.retrieved)),
                ("excerpts", runs, sum(count(s.full_text) for s in plan.sources)),
            ):
                hits = [covered(f, texts) for f in facts]
                rows[name].append((sum(hits), len(hits), all(hits), tokens))
    print(f"{len(queries)} real questions; source tokens counted with {count.__doc__ or 'the estimate'}")
    for name, items in rows.items():
        facts = sum(r[1] for r in items)
        print(f"{name:>9}: facts reaching the model {sum(r[0] for r in items) / facts:.3f}  "
              f"questions with all facts {sum(r[2] for r in items) / len(items):.3f}  "
              f"mean source tokens {statistics.mean(r[3] for r in items):.0f}")
    print(f"median planning time {statistics.median(seconds) * 1000:.0f} ms")


def _qwen_counter():
    try:
        from llama_cpp import Llama

        from rag.llm.packaged_gguf import DEFAULT_GGUF_SHA256, default_model_path, is_verified

        if not is_verified(default_model_path(), DEFAULT_GGUF_SHA256):
            raise FileNotFoundError
        vocab = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    except Exception:  # noqa: BLE001 - the estimate is what every other backend uses
        from rag.llm.base import estimate_tokens

        return estimate_tokens

    def count(text: str) -> int:
        """the packaged Qwen tokenizer"""
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    return count


if __name__ == "__main__":
    main()
