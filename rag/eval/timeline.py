"""Timeline metrics on MultiHop-RAG-format questions whose gold evidence comes from
two or more dated articles (each question is taken as the story query).

- ``gold_present``: share of a question's gold evidence articles (by url) that
  the timeline lists (in an event or as undated), averaged over questions;
- ``searched_present``: the same for the search before the relevance cut (what
  the cut can lose at most);
- ``pairs_in_order``: over gold article pairs both listed with different
  publication times, the share the timeline puts in the gold order (by the
  publication times it reports for them);
- ``outlet_named``: over gold facts whose article is listed, the share whose
  listing names the gold outlet;
- ``events_per_timeline``, ``articles_per_timeline``: means.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from statistics import mean
from typing import Any

from rag.eval.retrieval import load_queries
from rag.timeline.build import Timeline, build_timeline
from rag.timeline.dates import published_datetime
from rag.timeline.story import StoryOptions, searched


def story_questions(path: Path | str, limit: int | None = None) -> list[dict]:
    """The queries of ``path`` whose evidence comes from two or more distinct dated articles."""
    out = [q for q in load_queries(path)
           if len({e["url"] for e in q["evidence_list"] if e.get("published_at")}) >= 2]
    return out[:limit] if limit else out


def listings(timeline: Timeline) -> dict[str | None, dict]:
    """url -> {"source", "published_at"} for every article a timeline lists."""
    out: dict[str | None, dict] = {}
    for event in timeline.events:
        for c in event.citations:
            out.setdefault(c.url, {"source": c.source, "published_at": c.published_at})
    for entry in timeline.undated:
        for c in entry.citations:
            out.setdefault(c.url, {"source": c.source, "published_at": None})
    return out


def score_timeline(timeline: Timeline, query: dict, searched_urls: Sequence[str | None] = ()) -> dict:
    """The metrics of one question (module doc); pair and outlet counts, not shares."""
    gold = {e["url"]: e for e in query["evidence_list"]}
    listed = listings(timeline)
    present = [u for u in gold if u in listed]
    pairs = ordered = 0
    for a, b in combinations(present, 2):
        ga, gb = published_datetime(gold[a]["published_at"]), published_datetime(gold[b]["published_at"])
        ta, tb = published_datetime(listed[a]["published_at"]), published_datetime(listed[b]["published_at"])
        if ga is None or gb is None or ga == gb:
            continue
        pairs += 1
        ordered += ta is not None and tb is not None and (ta < tb) == (ga < gb)
    facts = [e for e in query["evidence_list"] if e["url"] in listed]
    return {"gold_present": len(present) / len(gold),
            "searched_present": len(gold.keys() & set(searched_urls)) / len(gold),
            "pairs": pairs, "pairs_ordered": ordered, "facts": len(facts),
            "facts_outlet_named": sum(listed[e["url"]]["source"] == e["source"] for e in facts),
            "events": len(timeline.events), "articles": timeline.articles}


def evaluate_opened(opened: Any, queries: Sequence[dict], options: StoryOptions = StoryOptions()) -> dict:
    """Score :func:`build_timeline` on ``queries`` over an opened index."""
    rows = []
    for q in queries:
        _, best = searched(opened, q["query"], options=options)
        rows.append(score_timeline(build_timeline(opened, q["query"], options=options), q,
                                   [u for _, u in best.values()]))
    pairs = sum(r["pairs"] for r in rows)
    facts = sum(r["facts"] for r in rows)
    overall = {
        "questions": len(rows),
        "gold_present": mean(r["gold_present"] for r in rows) if rows else 0.0,
        "searched_present": mean(r["searched_present"] for r in rows) if rows else 0.0,
        "pairs_in_order": sum(r["pairs_ordered"] for r in rows) / pairs if pairs else 1.0,
        "outlet_named": sum(r["facts_outlet_named"] for r in rows) / facts if facts else 1.0,
        "events_per_timeline": mean(r["events"] for r in rows) if rows else 0.0,
        "articles_per_timeline": mean(r["articles"] for r in rows) if rows else 0.0,
    }
    return {"overall": overall, "rows": rows}


def evaluate_timelines(settings: Any, queries_path: Path | str, limit: int | None = None) -> dict:
    """Open the index of ``settings`` and score the story questions of ``queries_path``."""
    from rag.search.open_index import open_index

    with open_index(settings) as opened:
        return evaluate_opened(opened, story_questions(queries_path, limit))
