"""Natural questions: the questions people ask, scored strictly, per category.

A question file (``benchmarks/data/natural_questions.json``) holds items with
a ``category``, a ``question`` (or ``turns``: a conversation whose last turn is
scored, the earlier ones asked first as history), ``facts`` (groups of
alternatives: every group must be stated) and ``articles`` (titles of the
articles that support the answer). An item with no facts is unanswerable.

**Pass** (docs/answers.md, "Natural questions"):

- an answerable item passes when the answer is not refused, states every fact
  group (some alternative of each is contained in the answer after
  :func:`rag.eval.answers.normalise`: lower case, punctuation and articles
  removed) and has at least one citation, marked supported by the citation
  check, of an article the item lists;
- an unanswerable item passes when the answer is refused, or when it states
  one of the item's ``instead`` facts (what the articles do say, such as "the
  articles preview the game; none reports its result").

``code_refusals`` counts answerable items refused by a check in code (unknown
outlet, unknown name, no evidence) rather than by the model or the support
check: the issue's bar is none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.eval.answers import normalise

CODE_CHECKS = frozenset({"unknown_outlet", "unknown_name", "no_evidence"})


def load_natural(path: Path) -> list[dict]:
    """The items of a natural-question file; a clear error naming the file and the field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON question file ({exc})") from None
    items = data.get("questions") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a list under \"questions\"")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or not (item.get("question") or item.get("turns")):
            raise ValueError(f"{path}: item {n} has no \"question\" or \"turns\"")
        if not isinstance(item.get("facts", []), list):
            raise ValueError(f"{path}: item {n}: \"facts\" must be a list of lists of alternatives")
    return items


def states(text: str, groups: Sequence[Sequence[str]]) -> list[bool]:
    """For each fact group, whether some alternative of it is contained in ``text`` (normalised)."""
    said = normalise(text)
    return [any(normalise(alt) in said for alt in group) for group in groups]


def natural_record(item: dict, answer: Any, seconds: float | None = None) -> dict:
    """Per-item figures and the pass verdict (module doc) for an :class:`rag.answer.pipeline.Answer`."""
    facts = item.get("facts") or []
    titles = set(item.get("articles") or [])
    answerable = bool(facts)
    stated = states(answer.text, facts)
    cited = [c for c in answer.citations if c.supported and c.title in titles]
    if answerable:
        passed = not answer.refused and all(stated) and bool(cited)
    else:
        passed = answer.refused or any(states(answer.text, [g])[0] for g in item.get("instead") or [])
    return {
        "id": item.get("id"), "category": item.get("category"),
        "question": item.get("question") or item.get("turns", [""])[-1],
        "standalone_question": answer.standalone_question, "answer": answer.text, "raw_answer": answer.raw_text,
        "refused": answer.refused, "refusal_reason": answer.refusal_reason, "answerable": answerable,
        "facts_stated": stated, "supporting_citation": bool(cited), "passed": bool(passed),
        "cited_titles": [c.title for c in answer.citations if c.supported],
        "code_refusal": answerable and answer.refusal_reason in CODE_CHECKS,
        "repairs": dict(answer.repairs or {}), "prompt_tokens": answer.prompt_tokens,
        "first_token_ms": (answer.timings or {}).get("first_token_ms"),
        "seconds": None if seconds is None else round(seconds, 3),
    }


def score_natural(records: Sequence[dict]) -> dict[str, Any]:
    """Pass rate overall and per category, and the code checks' refusals of answerable items."""
    by: dict[str, list[dict]] = {}
    for r in records:
        by.setdefault(str(r.get("category")), []).append(r)

    def rate(items: Sequence[dict]) -> float | None:
        return sum(r["passed"] for r in items) / len(items) if items else None

    return {
        "pass_rate": rate(records),
        "passed": sum(r["passed"] for r in records),
        "n": len(records),
        "by_category": {k: {"pass_rate": rate(v), "passed": sum(r["passed"] for r in v), "n": len(v)}
                        for k, v in sorted(by.items())},
        "code_refusals": sum(bool(r.get("code_refusal")) for r in records),
        "errors": sum(1 for r in records if r.get("error")),
    }


def ask_item(answerer: Any, item: dict) -> Any:
    """The answer to the item's (last) question, the earlier turns asked first as history."""
    turns = list(item.get("turns") or [item["question"]])
    history: list[dict] = []
    answer = None
    for question in turns:
        answer = answerer.answer(question, history)
        history += [{"role": "user", "content": question, "standalone": answer.standalone_question},
                    {"role": "assistant", "content": answer.text}]
    return answer


def evaluate_natural(settings: Any, corpus: Path, questions: Path,
                     progress: Callable[[str, int, int], None] | None = None,
                     records_path: Path | None = None, answerer: Any = None) -> dict[str, Any]:
    """Index ``corpus`` (incrementally), answer every item of ``questions`` and score them
    (``{"overall": ..., "records": [...]}``); each record is appended to ``records_path`` as
    soon as it exists."""
    from rag.answer.pipeline import Answerer
    from rag.errors import BackendError
    from rag.index.building import build_index

    build_index(settings, [corpus], progress=progress)
    items = load_natural(questions)
    own = answerer is None
    answerer = answerer or Answerer(settings)
    records = []
    try:
        for i, item in enumerate(items):
            if progress:
                progress("questions", i, len(items))
            started = time.perf_counter()
            try:
                records.append(natural_record(item, ask_item(answerer, item), time.perf_counter() - started))
            except BackendError as exc:
                records.append({"id": item.get("id"), "category": item.get("category"), "error": str(exc),
                                "passed": False, "answerable": bool(item.get("facts"))})
            if records_path is not None:
                with open(records_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(records[-1], ensure_ascii=False) + "\n")
    finally:
        if own:
            answerer.close()
    return {"overall": score_natural(records), "records": records}


def format_natural(scores: dict[str, Any]) -> str:
    """The per-category table ``rag eval answers --questions`` prints."""
    lines = [f"{'category':>14} {'n':>4} {'passed':>7} {'rate':>6}"]
    for name, m in scores["by_category"].items():
        lines.append(f"{name:>14} {m['n']:>4} {m['passed']:>7} {m['pass_rate']:>6.3f}")
    lines.append(f"{'all':>14} {scores['n']:>4} {scores['passed']:>7} {scores['pass_rate'] or 0:>6.3f}")
    lines.append(f"answerable questions refused by a code check: {scores['code_refusals']}")
    return "\n".join(lines)


def run_natural_command(settings: Any, corpus: Path, questions: Path | None, records: Path | None,
                        as_json: bool, fail: Callable[[str], None]) -> None:
    """``rag eval answers --questions FILE``: answer, score and print (JSON with ``--json``)."""
    import typer

    from rag.cli_output import emit_json
    from rag.errors import RagError

    if questions is None:
        fail("give --queries (MultiHop-RAG queries) or --questions (a natural-question file)")
        return
    try:
        result = evaluate_natural(settings, corpus, questions, records_path=records)
    except RagError as exc:
        fail(str(exc))
        return
    except ValueError as exc:
        fail(str(exc))
        return
    if as_json:
        emit_json(result["overall"])
    else:
        typer.echo(format_natural(result["overall"]))
