"""The evidence for one question: what is retrieved, and whether the index can answer at all.

Retrieval. One hybrid search for the question (``answer.passages`` results),
then one more for each publisher and each day the question names, and for
the range of dates it places itself in (rag.answer.dates: "last week",
"before October"), ``answer.per_hint_passages`` results each, filtered to
that publisher, day or range: "Did The Verge and TechCrunch both report ..."
needs both outlets' articles, and one search ranks whichever matches best
first. Passages the first search already found are not repeated, and the
searches' articles take turns in the result (:func:`articles_in_turn`), so
the sources, the first ``answer.max_sources`` articles, hold each named
publisher's best article even when the question's own search fills them.

Can the index answer? Checked in this order, each without calling a model:

1. ``unknown_outlet``: the question attributes reporting to an outlet of
   which no article is indexed, nor a near miss of one ("an article by
   Forbes", "according to Bloomberg" when no passage names Bloomberg either;
   rag.answer.outlets). "The IPCC report" is a subject, not an outlet. Only
   when the index records publishers at all.
2. ``unknown_name``: the question names someone or something, as a whole
   name, that no indexed passage mentions (rag.answer.names); the options of
   an either/or question are not names to look up.
3. ``no_evidence``: the best passage's dense cosine is below the embedder's
   measured threshold (:data:`MIN_COSINE`), or, for an embedder without one,
   no content word of the question is in any retrieved passage.

Measured on the 851 MultiHop-RAG dev questions (tools in docs/answers.md):
1 and 2 together flag 91 of the 100 null questions and 4 of the 751 real ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from rag.answer.dates import DateRange, date_range
from rag.answer.names import missing_names
from rag.answer.outlets import unknown_outlets
from rag.answer.question import Question
from rag.config import AnswerSettings
from rag.index.words import content_terms
from rag.search.retrieval import SearchFilters
from rag.types import Passage

# Dense cosine of the best passage below which a question is refused, per
# embedder id (measured: see rag.answer.pipeline's module doc and docs/answers.md).
MIN_COSINE = {"sentence-transformers/all-MiniLM-L6-v2": 0.35}


def min_cosine(model_id: str) -> float | None:
    """The measured threshold for ``model_id``; an ONNX runtime of a model (id
    ``<model>+onnx-int8``) shares its PyTorch threshold, since its vectors are
    within a cosine of 0.98 of PyTorch's (checked at export, rag.embed.onnx_export)."""
    return MIN_COSINE.get(model_id.split("+", 1)[0])
_NAME_CANDIDATES = 20  # passages read per name when checking that the index mentions it


@dataclass
class Evidence:
    """What was retrieved for a question, and what the index lacks for it."""

    query: str
    passages: list[Passage]
    relevance: dict[str, float]
    outlets: list[str] = field(default_factory=list)  # indexed publishers the question names
    dates: DateRange | None = None  # the publication dates the question asks about
    vector: Any = None  # the question's embedding
    unknown_outlets: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)


def gather(opened: Any, settings: AnswerSettings, question: Question, filters: SearchFilters | None = None,
           check_names: bool = True) -> Evidence:
    """Retrieve for ``question`` (parsed once, rag.answer.question) and check what the index
    lacks (see module doc)."""
    retriever, snapshot = opened.retriever, opened.snapshot
    query = question.text
    vector = opened.embedder.embed([query])[0]
    found = retriever.retrieve(query, settings.passages, filters, query_vector=vector)
    passages, vectors = list(found.passages), [found.vectors]
    seen = {p.id for p in passages}
    dates = date_range(query, _newest(snapshot))
    searches = [passages]
    for hint in _hint_filters(question, dates, filters):
        more = retriever.retrieve(query, settings.per_hint_passages, hint, query_vector=vector)
        keep = [i for i, p in enumerate(more.passages) if p.id not in seen]
        seen.update(more.passages[i].id for i in keep)
        searches.append([more.passages[i] for i in keep])
        vectors.append(more.vectors[keep])
    rel = relevance(query, vector, passages, vectors[0])
    passages = articles_in_turn(searches)
    evidence = Evidence(query, passages, rel, outlets=question.sources, dates=dates, vector=vector)
    known = retriever.known_sources

    def candidates(name: str) -> list[str]:
        return _name_candidates(opened, name)

    if known:
        evidence.unknown_outlets = unknown_outlets(
            question.attributions, known, mentioned=lambda name: not missing_names([name], candidates))
    if check_names and not evidence.unknown_outlets:
        evidence.missing_names = missing_names(question.names, candidates)
    return evidence


def articles_in_turn(searches: list[list[Passage]]) -> list[Passage]:
    """The passages of several searches, best first, ordered so that the searches' articles
    take turns: the question's best article, then each named publisher's or date's best new
    one, then the question's second, and so on (an article's passages stay together).

    The sources are the first ``answer.max_sources`` articles of this order, so a named
    publisher's article is not crowded out by the question's own search finding more
    articles than there are places.
    """
    queues: list[list[list[Passage]]] = []
    for found in searches:
        groups: dict[str, list[Passage]] = {}
        for p in found:
            groups.setdefault(p.article_id, []).append(p)
        queues.append(list(groups.values()))
    out: list[Passage] = []
    placed: set[str] = set()
    while any(queues):
        for queue in queues:
            while queue:
                group = queue.pop(0)
                out.extend(group)
                if group[0].article_id not in placed:
                    placed.add(group[0].article_id)
                    break
    return out


def refusal_reason(evidence: Evidence, threshold: float | None) -> str | None:
    """Why the index cannot answer (``unknown_outlet``, ``unknown_name``, ``no_evidence``) or None."""
    if evidence.unknown_outlets:
        return "unknown_outlet"
    if evidence.missing_names:
        return "unknown_name"
    if not evidence.passages:
        return "no_evidence"
    if threshold:
        return "no_evidence" if evidence.relevance.get("cosine", 0.0) < threshold else None
    return "no_evidence" if evidence.relevance.get("coverage", 0.0) == 0.0 else None


def _newest(snapshot: Any) -> date | None:
    """The newest article's date, as the build recorded it in the manifest."""
    newest = (snapshot.manifest or {}).get("newest_published_at")
    try:
        return date.fromisoformat(newest[:10]) if newest else None
    except ValueError:
        return None


def _hint_filters(hints: Question, dates: DateRange | None, filters: SearchFilters | None) -> list[SearchFilters]:
    """One filter per named publisher, per named day and for the question's date range,
    within the user's own filters."""
    base = filters or SearchFilters()
    out = []
    if dates and (dates.since or dates.until):
        since = max(filter(None, (dates.since, base.since)), default=None)
        until = min(filter(None, (dates.until, base.until)), default=None)
        if not (since and until and since > until):
            out.append(SearchFilters(sources=list(base.sources), since=since, until=until))
    for source in hints.sources:
        if base.sources and source not in base.sources:
            continue
        out.append(SearchFilters(sources=[source], since=base.since, until=base.until))
    for day in hints.days:
        try:
            when = date.fromisoformat(day)
        except ValueError:
            continue
        if (base.since and when < base.since) or (base.until and when > base.until):
            continue
        out.append(SearchFilters(sources=list(base.sources), since=when, until=when))
    return out


def _name_candidates(opened: Any, name: str) -> list[str]:
    snapshot = opened.snapshot
    hits = snapshot.lexical_search(name, _NAME_CANDIDATES)
    ids = [i for i, score in zip(hits.ids, hits.scores) if score > 0]
    return [p.full_text for p in snapshot.fetch(ids)] if ids else []


def relevance(query: str, query_vector: np.ndarray, passages: list[Passage],
              vectors: np.ndarray) -> dict[str, float]:
    """Absolute relevance of the best passage: dense cosine, and the share of the
    query's content words found in a passage (both maxima over ``passages``)."""
    if not len(passages):
        return {"cosine": 0.0, "coverage": 0.0}
    cosine = float(np.max(vectors @ np.asarray(query_vector, dtype=np.float32)))
    terms = content_terms(query)
    coverage = max((len(terms & content_terms(p.full_text)) / len(terms) for p in passages), default=0.0) if terms else 0.0
    return {"cosine": round(cosine, 4), "coverage": round(coverage, 4)}
