"""Replay recorded answers through the code after the model, without the model.

`rag eval answers --records R.jsonl` keeps each question's reply as the
model wrote it (``raw_answer``). This script asks the same questions again
through the current pipeline with those replies standing in for the model:
evidence and sources are rebuilt (sized with the configured chat model's
tokenizer, as in the recorded run), then the repair, support check and
fallback run as in any answer, and the answers are scored as `rag eval
answers` scores them. It prints the recorded and the replayed metrics side
by side, and each question whose strict verdict changed.

A change after the model (repair, check, fallback) is measured this way in
minutes instead of the half hour a 200-question model run takes. A change
before the model (evidence, sources, prompt) makes the replay meaningless:
the recorded reply answered another prompt. The script counts the questions
whose prompt now has another token count than was recorded, as a warning.

    python benchmarks/replay_answers.py run5.jsonl --index index/runtimes/onnx-int8/eval/corpus \
        --queries ../shared/eval/multihop-rag/queries-dev.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rag.answer.pipeline import Answerer
from rag.config import load_settings
from rag.eval.answers import answer_record, score_answers
from rag.eval.retrieval import load_queries
from rag.llm.base import ChatModel
from rag.llm.sources import QUESTION_PREFIX

SHOWN = ("strict_accuracy", "null_refusal_rate", "false_refusal_rate", "cited_when_answered",
         "invalid_markers", "unsupported_share")


class RecordedReplies(ChatModel):
    """A chat model that replies to each question with the reply recorded for it; it counts
    tokens with ``counter`` (the recorded run's model) so the sources come out the same."""

    # The replies are a language model's: the pipeline must treat them as such (a backend that
    # only quotes has its answer tested as quotes). Nothing is rewritten in a replay: the
    # questions are asked standalone, without history, and the evidence check is off.
    can_rewrite = True

    def __init__(self, replies: dict[str, str], counter: Any):
        self.replies, self.counter = replies, counter
        self.backend, self.model = "recorded", f"replies recorded from {counter.model}"

    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None) -> Iterator[str]:
        prompt = messages[-1]["content"]
        question = prompt.rsplit(QUESTION_PREFIX, 1)[-1].split("\n", 1)[0]
        yield self.replies[question]

    def count_tokens(self, text: str) -> int:
        return self.counter.count_tokens(text)


def fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("records", type=Path, help="JSON lines written by `rag eval answers --records`")
    parser.add_argument("--index", type=Path, required=True, help="the index the records were answered from")
    parser.add_argument("--queries", type=Path, default=Path("../shared/eval/multihop-rag/queries-dev.json"))
    args = parser.parse_args()

    recorded = [json.loads(line) for line in args.records.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_question = {r["question"]: r for r in recorded if "raw_answer" in r}
    queries = [q for q in load_queries(args.queries, include_null=True) if q["query"] in by_question]
    settings = load_settings(index_dir=args.index)
    with Answerer(settings) as counting:
        model = RecordedReplies({q: r["raw_answer"] for q, r in by_question.items()}, counting.chat_model)
        replayer = Answerer(settings, opened_index=counting.opened, chat_model=model)
        replayed, prompt_changed = [], 0
        for query in queries:
            before = by_question[query["query"]]
            answer = replayer.answer(query["query"])
            record = answer_record(query, answer)
            replayed.append(record)
            if before.get("refusal_reason") in (None, "model") and answer.prompt_tokens != before.get("prompt_tokens"):
                prompt_changed += 1
            if record["strict_correct"] != before["strict_correct"]:
                print(f"{query.get('id')}: {before['strict_correct']} -> {record['strict_correct']} "
                      f"(gold {query.get('answer')!r}): {record['answer'][:100]!r}")
    old = score_answers([by_question[q["query"]] for q in queries])
    new = score_answers(replayed)
    real = [r for r in replayed if not r["null"]]
    print(f"{len(queries)} questions ({len(real)} real); prompts whose token count changed since the "
          f"recording: {prompt_changed}{' (the replay does not stand for them)' if prompt_changed else ''}")
    for key in SHOWN:
        print(f"{key:22s} recorded {fmt(old[key]):>7s}   replayed {fmt(new[key]):>7s}")
    print(f"strict right on real questions: recorded {sum(by_question[r['question']]['strict_correct'] for r in real)}, "
          f"replayed {sum(r['strict_correct'] for r in real)}")


if __name__ == "__main__":
    main()
