"""Three more yes/no verdict ideas, against the answer's first-token odds (docs/answers.md).

For each yes/no dev question from ``--start`` on (at most ``--limit``), over
the sources the pipeline builds:

- ``m_answer``: log P(Yes) - log P(No) of the answer prompt's first token
  (what rag.answer.verdict uses);
- ``m_prior``: the same with no sources ("content-free calibration": the
  model's prior for the question's wording, to be subtracted);
- ``m_examples``: the answer's odds with two worked examples (an invented
  "No" and "Yes" over two invented articles) as earlier chat turns
  (``--examples``; they come before the sources, so llama.cpp reads them
  once for all questions);
- ``reasons``: the model first says what the sources say on each point of
  the question, then writes "Verdict: Yes" or "Verdict: No" (``--reasons``;
  slow: the model writes ~100 tokens per question).

Prints the AUC of the answer's odds, of the prior, of the answer's odds less
the prior (and with the examples), and with ``--reasons`` how often each
verdict is right.

    python benchmarks/yes_no_prior_and_reasons.py --index index/eval/corpus --start 200 --limit 60
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from yes_no_calibration import first_token_odds, gold, print_aucs, yes_no_questions

from rag.answer.pipeline import Answerer
from rag.answer.prompts import SYSTEM_PROMPT, YES_NO_INSTRUCTION, _user_prompt, answer_messages
from rag.answer.verdict import yes_no_threshold
from rag.config import load_settings
from rag.llm.llama_cpp import first_token_ids

REASONS_FIRST = ("First say in one or two short sentences what the sources say on each point the question "
                 "asks about, with [n] citations. Then, on a last line of its own, write \"Verdict: Yes\" or "
                 "\"Verdict: No\".")
_EXAMPLE_SOURCES = (
    "Sources:\n\n[1] City council approves Main Street bus lanes — Metro Daily, March 3, 2024\n"
    "The council voted 7-2 on Tuesday to add bus lanes on Main Street, at a cost of $4 million.\n\n"
    "[2] Bus lanes delayed by budget review — City Herald, March 20, 2024\n"
    "The Main Street bus lanes will not open until the city's budget review ends in June.\n\n")
EXAMPLES = (
    ("Did Metro Daily report that the council rejected the bus lanes, while City Herald reported that they "
     "opened in March?", "No. Metro Daily reported that the council approved the bus lanes [1], and City Herald "
     "reported that their opening was delayed until June [2]."),
    ("Was City Herald's report on the bus lanes published after Metro Daily's report on the council vote?",
     "Yes. Metro Daily reported the vote on March 3 [1] and City Herald reported the delay on March 20 [2]."),
)
_VERDICT = re.compile(r"Verdict:\s*(Yes|No)\b", re.I)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=Path("../shared/eval/multihop-rag/queries-dev.json"))
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--start", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--examples", action="store_true", help="also with two worked examples before the question")
    parser.add_argument("--reasons", action="store_true", help="also ask for the reasons before the verdict")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    queries = yes_no_questions(args.queries, args.start, args.limit)
    rows = []
    with Answerer(load_settings(index_dir=args.index)) as answerer:
        llm = answerer.chat_model._load()  # the in-process llama.cpp model
        threshold = yes_no_threshold(None, str(answerer.chat_model.model)) or 0.0
        yes_no = (first_token_ids(llm, "Yes"), first_token_ids(llm, "No"))

        def margin(messages: list[dict]) -> float:
            return first_token_odds(llm, messages, *yes_no)

        shots = [turn for question, reply in EXAMPLES
                 for turn in ({"role": "user", "content": f"{_EXAMPLE_SOURCES}Question: {question}\n{YES_NO_INSTRUCTION}"},
                              {"role": "assistant", "content": reply})]

        for i, query in enumerate(queries, start=1):
            plan = answerer.plan(query["query"])
            if plan.refusal:
                continue
            row = {"id": query.get("id"), "gold": gold(query),
                   "m_answer": margin(answer_messages(plan.parsed, plan.sources)),
                   "m_prior": margin(answer_messages(plan.parsed, []))}
            if args.examples:
                system, user = answer_messages(plan.parsed, plan.sources)
                row["m_examples"] = margin([system, *shots, user])
            if args.reasons:
                reply = llm.create_chat_completion(
                    messages=[{"role": "system", "content": SYSTEM_PROMPT},
                              {"role": "user", "content": _user_prompt(plan.standalone, plan.sources, REASONS_FIRST)}],
                    max_tokens=160, temperature=0.0)
                match = _VERDICT.search(reply["choices"][0]["message"]["content"])
                row["reasons_verdict"] = match.group(1).lower() if match else None
                row["reasons_tokens"] = reply["usage"]["completion_tokens"]
            rows.append(row)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
            print(f"\r{i}/{len(queries)}", end="", flush=True)
    print()
    signals = {"answer's odds": lambda r: r["m_answer"], "prior (no sources)": lambda r: r["m_prior"],
               "answer's odds less the prior": lambda r: r["m_answer"] - r["m_prior"]}
    if args.examples:
        signals["answer's odds after two worked examples"] = lambda r: r["m_examples"]
    print_aucs(rows, signals)
    if args.reasons:
        calibrated = sum(("yes" if r["m_answer"] >= threshold else "no") == r["gold"] for r in rows)
        reasoned = sum(r["reasons_verdict"] == r["gold"] for r in rows)
        missing = sum(r["reasons_verdict"] is None for r in rows)
        tokens = sum(r["reasons_tokens"] for r in rows) / max(1, len(rows))
        print(f"verdict right: answer first, calibrated at {threshold} {calibrated}/{len(rows)}; reasons first "
              f"{reasoned}/{len(rows)} ({missing} gave no verdict; {tokens:.0f} tokens written on average)")


if __name__ == "__main__":
    main()
