"""Other yes/no verdict signals, beside the answer's first-token odds (docs/answers.md).

For each yes/no dev question from ``--start`` on, over the sources the
pipeline builds, records:

- ``m_answer``: log P(Yes) - log P(No) of the answer prompt's first token
  (what rag.answer.verdict uses);
- ``m_true``: log P(True) - log P(False) for "Is what the question says true
  according to the sources?";
- ``m_halves``: the question split into its halves ("A says X while B says
  Y"), each asked as "Statement: ... Do the sources say this?" (Yes/No odds);
- ``lex_halves``: each half's lexical support by its best source
  (rag.answer.citations.support_score).

Then prints the AUC of each signal (and of some sums) against the gold
answers. The extra prompts share the sources with the answer prompt, so
llama.cpp reads only their last lines again.

    python benchmarks/yes_no_signals.py --index index/eval/corpus --start 200 --out signals.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from yes_no_calibration import first_token_odds, gold, print_aucs, yes_no_questions

from rag.answer.citations import support_score
from rag.answer.pipeline import Answerer
from rag.answer.prompts import SYSTEM_PROMPT, _user_prompt, answer_messages
from rag.config import load_settings
from rag.llm.llama_cpp import first_token_ids

_SPLIT = re.compile(r",?\s+(?:while|whereas|and (?:did|does|do|is|was|has|have|are|were)|but|compared to|"
                    r"in contrast to)\s+", re.I)


def halves(question: str) -> list[str]:
    parts = [p.strip(" ?,") for p in _SPLIT.split(question) if len(p.split()) >= 4]
    return parts if len(parts) >= 2 else [question.strip(" ?")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=Path("../shared/eval/multihop-rag/queries-dev.json"))
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    queries = yes_no_questions(args.queries, args.start)
    rows = []
    with Answerer(load_settings(index_dir=args.index)) as answerer:
        llm = answerer.chat_model._load()  # the in-process llama.cpp model

        pairs = {"yn": (first_token_ids(llm, "Yes"), first_token_ids(llm, "No")),
                 "tf": (first_token_ids(llm, "True"), first_token_ids(llm, "False"))}

        def margin(messages: list[dict], pair: str) -> float:
            return first_token_odds(llm, messages, *pairs[pair])

        def asked(text: str, instruction: str, sources) -> list[dict]:
            return [{"role": "system", "content": SYSTEM_PROMPT},
                    {"role": "user", "content": _user_prompt(text, sources, instruction)}]

        for i, query in enumerate(queries, start=1):
            plan = answerer.plan(query["query"])
            if plan.refusal:
                continue
            texts = [s.full_text for s in plan.sources]
            parts = halves(plan.standalone)
            row = {"id": query.get("id"), "gold": gold(query), "halves": parts,
                   "m_answer": margin(answer_messages(plan.parsed, plan.sources), "yn"),
                   "m_true": margin(asked(plan.standalone, "Is what the question says true according to the "
                                          "sources? Answer True or False:", plan.sources), "tf"),
                   "m_halves": [margin([m if m["role"] == "system" else
                                        {**m, "content": m["content"].replace("Question: ", "Statement: ")}
                                        for m in asked(h, "Do the sources say this? Answer Yes or No:",
                                                       plan.sources)], "yn") for h in parts],
                   "lex_halves": [max(support_score(h, t) for t in texts) for h in parts]}
            rows.append(row)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(f"\r{i}/{len(queries)}", end="", flush=True)
    print()
    signals = {
        "answer's Yes/No odds": lambda r: r["m_answer"],
        "True/False odds": lambda r: r["m_true"],
        "halves, lower Yes/No odds": lambda r: min(r["m_halves"]),
        "halves, mean Yes/No odds": lambda r: sum(r["m_halves"]) / len(r["m_halves"]),
        "halves, lower lexical support": lambda r: min(r["lex_halves"]),
        "answer + True/False": lambda r: r["m_answer"] + r["m_true"],
    }
    print_aucs(rows, signals)

if __name__ == "__main__":
    main()
