"""Answer metrics on MultiHop-RAG-format questions, null questions included.

- ``accuracy``: the upstream word-overlap accuracy: answer and gold are
  lower-cased and split on whitespace; correct if they share any token.
- ``strict_accuracy``: both normalised (lower case, punctuation and articles
  removed, spaces collapsed). A yes/no gold answer needs the answer's leading
  yes/no, as a word of its own ("No." or "Yes, ..." but not "No language
  model..."), to match; the null gold ("Insufficient information.") needs a refusal;
  any other gold must be contained in the answer.
- ``null_refusal_rate``: share of null questions answered with a refusal;
  ``false_refusal_rate``: share of the other questions refused.
- ``citation_validity``: share of the ``[n]`` markers in the final answers that
  name a passage given to the model (1.0 by construction);
  ``raw_citation_validity``: the same share in the raw model output.
- ``evidence_cited``: share of non-null answers whose cited sources contain a
  gold evidence fact (the retrieval metrics' space-squashed substring match,
  against the excerpt the model read).
- ``evidence_articles_given``: share of the real questions' gold evidence
  articles (matched by title) that are among the sources the model read: the
  ceiling the context sets on a multi-article answer.
- ``answers_with_citations``: share of answers that cite; ``cited_when_answered``:
  the same among answers that are not refusals; ``invalid_markers``: markers
  in the final texts that name no citation; ``unsupported_share``: flagged
  citations over all (claim, citation) checks.
- ``repairs``: sentences cited in code, citations moved, sentences left uncited,
  and answers replaced by the quoted sentences (``fallback``).
- ``mean_prompt_tokens`` and ``mean_seconds`` per question (the whole answer).
- ``by_type``: the same metrics per MultiHop question type.
"""

from __future__ import annotations

import json
import re
import string
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.answer.citations import parse_markers
from rag.eval.retrieval import load_queries, squash

NULL_ANSWER = "insufficient information"
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")
# "No." / "Yes, ..." / "Yes [1]" but not "No language model was used".
_LEADING_YES_NO = re.compile(r"^\W*(yes|no)\s*(?:[.,;:!—–-]|\[|$)")
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’—–…]")


def normalise(text: str) -> str:
    """Lower case, no punctuation or articles, single spaces."""
    text = _PUNCT.sub(" ", text.lower())
    return " ".join(_ARTICLES.sub(" ", text).split())


def is_null(query: dict) -> bool:
    return query.get("question_type") == "null_query" or not query.get("evidence_list")


def word_overlap_correct(answer: str, gold: str) -> bool:
    """The upstream MultiHop-RAG check: any shared lower-cased whitespace token."""
    return bool(set(answer.lower().split()) & set(gold.lower().split()))


def strict_correct(answer: str, gold: str, refused: bool = False) -> bool:
    """The stricter normalised check described in the module docstring."""
    g, a = normalise(gold), normalise(answer)
    if g == NULL_ANSWER:
        return refused or a.startswith(NULL_ANSWER)
    if g in ("yes", "no"):
        match = _LEADING_YES_NO.match(answer.lower())
        return bool(match) and match.group(1) == g
    return bool(g) and g in a


def score_answers(records: Sequence[dict]) -> dict[str, Any]:
    """Aggregate per-question records (see :func:`answer_record`) into the metrics."""
    nulls = [r for r in records if r["null"]]
    real = [r for r in records if not r["null"]]
    markers = sum(r["markers"] for r in records)
    raw_markers = sum(r["raw_markers"] for r in records)
    answered = [r for r in records if not r["refused"] and not r.get("error")]
    checks = sum(r.get("claims", 0) for r in records)
    gold_articles = sum(r.get("evidence_articles", 0) for r in real)

    def share(items, key):
        return sum(bool(r[key]) for r in items) / len(items) if items else None

    def mean(key):
        values = [r[key] for r in records if r.get(key) is not None]
        return sum(values) / len(values) if values else None

    return {
        "accuracy": share(records, "overlap_correct"),
        "strict_accuracy": share(records, "strict_correct"),
        "null_refusal_rate": share(nulls, "refused"),
        "false_refusal_rate": share(real, "refused"),
        "citation_validity": sum(r["valid_markers"] for r in records) / markers if markers else 1.0,
        "raw_citation_validity": sum(r["raw_valid_markers"] for r in records) / raw_markers if raw_markers else 1.0,
        "evidence_cited": share(real, "evidence_cited"),
        "evidence_articles_given": (sum(r.get("evidence_articles_given", 0) for r in real) / gold_articles
                                    if gold_articles else None),
        "unsupported_citations": sum(r["unsupported"] for r in records),
        "answers_with_citations": share(records, "cited"),
        "cited_when_answered": share(answered, "cited"),
        "invalid_markers": markers - sum(r["valid_markers"] for r in records),
        "unsupported_share": sum(r["unsupported"] for r in records) / checks if checks else 0.0,
        "repairs": {k: sum(r.get("repairs", {}).get(k, 0) for r in records)
                    for k in ("cited", "recited", "uncited", "trimmed", "fallback")},
        "mean_prompt_tokens": mean("prompt_tokens"),
        "mean_seconds": mean("seconds"),
        "errors": sum(1 for r in records if r.get("error")),
        "n_null": len(nulls),
        "n": len(records),
    }


def by_type(records: Sequence[dict]) -> dict[str, dict[str, Any]]:
    """:func:`score_answers` for each question type (comparison, inference, temporal, null)."""
    kinds: dict[str, list[dict]] = {}
    for r in records:
        kinds.setdefault(str(r.get("type") or "unknown").removesuffix("_query"), []).append(r)
    return {kind: score_answers(items) for kind, items in sorted(kinds.items())}


def answer_record(query: dict, answer: Any, seconds: float | None = None) -> dict:
    """Per-question figures from a MultiHop query and an :class:`rag.answer.pipeline.Answer`."""
    gold = str(query.get("answer", ""))
    numbers = [n for m in parse_markers(answer.text) for n in m.numbers]
    valid = {c.n for c in answer.citations}
    raw_numbers = [n for m in parse_markers(answer.raw_text) for n in m.numbers]
    facts = [squash(e["fact"]) for e in query.get("evidence_list") or []]
    gold_titles = {e.get("title") for e in query.get("evidence_list") or []} - {None}
    given_titles = {p.title for p in answer.passages}
    cited_text = [squash(p.full_text) for c in answer.citations for p in answer.passages if p.id == c.passage_id]
    return {
        "id": query.get("id"),
        "type": query.get("question_type"),
        "null": is_null(query),
        "question": query.get("query"),
        "answer": answer.text,
        "raw_answer": answer.raw_text,  # what the model wrote, before repair or fallback
        "gold": gold,
        "refused": answer.refused,
        "overlap_correct": word_overlap_correct(answer.text, gold),
        "strict_correct": strict_correct(answer.text, gold, answer.refused),
        "markers": len(numbers),
        "valid_markers": sum(1 for n in numbers if n in valid),
        "raw_markers": len(raw_numbers),
        "raw_valid_markers": sum(1 for n in raw_numbers if 1 <= n <= len(answer.passages)),
        "evidence_cited": any(f in t for f in facts for t in cited_text),
        "evidence_articles": len(gold_titles),
        "evidence_articles_given": len(gold_titles & given_titles),
        "unsupported": answer.unsupported_citations,
        "claims": sum(len(c.claims) for c in answer.citations),
        "cited": bool(answer.citations),
        "refusal_reason": answer.refusal_reason,
        "repairs": dict(getattr(answer, "repairs", {}) or {}),
        "prompt_tokens": getattr(answer, "prompt_tokens", None),
        "seconds": None if seconds is None else round(seconds, 3),
    }


def evaluate_answers(settings, corpus: Path, queries_path: Path, limit: int | None = None,
                     progress: Callable[[str, int, int], None] | None = None,
                     answerer: Any = None, records_path: Path | None = None) -> dict[str, Any]:
    """Index ``corpus`` (incrementally), answer the first ``limit`` questions and score them.

    Returns ``{"overall": metrics, "by_type": {type: metrics}, "records": [per question]}``. A backend
    failure on one question is recorded (``error``) and the run goes on. With
    ``records_path``, each record is appended there (JSON lines) as soon as it
    exists, so a long run that is stopped still leaves its results.
    """
    from rag.answer.pipeline import Answerer
    from rag.errors import BackendError
    from rag.index.building import build_index

    build_index(settings, [corpus], progress=progress)
    queries = load_queries(queries_path, limit, include_null=True)
    own = answerer is None
    answerer = answerer or Answerer(settings)
    records = []
    try:
        for i, query in enumerate(queries):
            if progress:
                progress("questions", i, len(queries))
            started = time.perf_counter()
            try:
                answer = answerer.answer(query["query"])
                records.append(answer_record(query, answer, time.perf_counter() - started))
            except BackendError as exc:
                records.append({"id": query.get("id"), "type": query.get("question_type"),
                                "null": is_null(query), "error": str(exc),
                                "refused": False, "overlap_correct": False, "strict_correct": False,
                                "markers": 0, "valid_markers": 0, "raw_markers": 0, "raw_valid_markers": 0,
                                "evidence_cited": False, "unsupported": 0, "cited": False})
            if records_path is not None:
                with open(records_path, "a", encoding="utf-8") as fh:
                    fh.write(json.dumps(records[-1], ensure_ascii=False) + "\n")
        if progress:
            progress("questions", len(queries), len(queries))
    finally:
        if own:
            answerer.close()
    return {"overall": score_answers(records), "by_type": by_type(records), "records": records}
