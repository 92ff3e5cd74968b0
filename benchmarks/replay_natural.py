"""Replay recorded natural-question answers through the code after the model, without the model.

`rag eval answers --questions FILE --records R.jsonl` keeps each item's reply as
the model wrote it (``raw_answer``) and the standalone question it answered
(a follow-up already rewritten). This script asks each standalone question
again through the current pipeline with the recorded reply standing in for the
model (benchmarks/replay_answers.py's ``RecordedReplies``) and scores it with
the natural-question rule (rag.eval.natural), printing the recorded and the
replayed pass rates per category and each item whose verdict changed. Like
that script, it stands for changes after the model only; it counts the items
whose prompt token count changed.

    python benchmarks/replay_natural.py R.jsonl --index /work/eval-index/corpus \
        --questions benchmarks/data/natural_questions.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_answers import RecordedReplies  # noqa: E402

from rag.answer.pipeline import Answerer  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.eval.natural import load_natural, natural_record, score_natural  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("records", type=Path, help="JSON lines written by `rag eval answers --questions --records`")
    parser.add_argument("--index", type=Path, required=True, help="the index the records were answered from")
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/data/natural_questions.json"))
    args = parser.parse_args()

    items = {item["id"]: item for item in load_natural(args.questions)}
    recorded = [json.loads(line) for line in args.records.read_text(encoding="utf-8").splitlines() if line.strip()]
    recorded = [r for r in recorded if r.get("id") in items and "raw_answer" in r]
    settings = load_settings(index_dir=args.index)
    with Answerer(settings) as counting:
        model = RecordedReplies({r["standalone_question"]: r["raw_answer"] for r in recorded}, counting.chat_model)
        replayer = Answerer(settings, opened_index=counting.opened, chat_model=model)
        replayed, changed_prompts = [], 0
        for before in recorded:
            answer = replayer.answer(before["standalone_question"])
            record = natural_record(items[before["id"]], answer)
            replayed.append(record)
            if before.get("refusal_reason") in (None, "model", "unsupported") and \
                    answer.prompt_tokens != before.get("prompt_tokens"):
                changed_prompts += 1
            if record["passed"] != before["passed"]:
                print(f"{before['id']}: {before['passed']} -> {record['passed']}: {record['answer'][:140]!r}")
    old, new = score_natural(recorded), score_natural(replayed)
    print(f"{len(recorded)} items; prompts whose token count changed since the recording: {changed_prompts}")
    for name in new["by_category"]:
        o, n = old["by_category"].get(name, {}), new["by_category"][name]
        print(f"{name:>14}: recorded {o.get('passed', 0)}/{o.get('n', 0)}   replayed {n['passed']}/{n['n']}")
    print(f"{'all':>14}: recorded {old['passed']}/{old['n']}   replayed {new['passed']}/{new['n']}; "
          f"code-check refusals of answerable items {new['code_refusals']}")


if __name__ == "__main__":
    main()
