"""The refusals made in code, before any model: how many null and real MultiHop-RAG questions each check refuses.

`Answerer.plan` runs the evidence and the three checks of rag.answer.evidence
(unknown outlet, unknown name, no evidence) without calling a model, so this
measures, in about a second a question, the part of `rag eval answers`'s null
refusal and false refusal rates that the code decides. The model can still
refuse later, and the fallback can refuse an answer that the sources do not
support; those need the model run.

    python benchmarks/refusal_checks.py --index /work/eval-index/corpus --limit 200
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from rag.answer.pipeline import Answerer
from rag.config import load_settings
from rag.eval.answers import is_null
from rag.eval.retrieval import load_queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, default=Path("../shared/eval/multihop-rag/queries-dev.json"))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--show", action="store_true", help="print each refused real question and each answered null one")
    args = parser.parse_args()
    settings = load_settings(index_dir=args.index, llm={"backend": "extractive"})
    queries = load_queries(args.queries, args.limit, include_null=True)
    reasons: dict[bool, Counter] = {True: Counter(), False: Counter()}
    with Answerer(settings) as answerer:
        for query in queries:
            null = is_null(query)
            reason = answerer.plan(query["query"]).refusal or "answered"
            reasons[null][reason] += 1
            if args.show and (null == (reason == "answered")):
                print(f"{'null' if null else 'real'} {reason}: {query['query'][:150]}")
    for null in (True, False):
        total = sum(reasons[null].values())
        refused = total - reasons[null]["answered"]
        print(f"{'null' if null else 'real'} questions: {total}; refused in code {refused} "
              f"({refused / total if total else 0:.3f}): {dict(reasons[null])}")


if __name__ == "__main__":
    main()
