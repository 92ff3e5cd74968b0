"""Story questions in the chat: "who reported first", "when did X first appear",
"how did the story develop", answered from a timeline's facts.

The answer pipeline calls :func:`story_reply` once per question (a hook of a
few lines in :meth:`rag.answer.pipeline.Answerer.stream`). On a story question
whose timeline has events, the reply is written here, in code: outlets,
publication dates and delays come from the articles' metadata and each
quoted sentence is cited and checked with the answer's citation code; no
model writes or guesses a date. The facts from code (outlets, dates, delays)
stand in their own sentences, without markers; the quoted sentences carry the
markers, so the citation check judges the articles' words only. Any other question gets None and the usual
pipeline answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rag.answer.citations import Citation, process_citations
from rag.answer.context import Source
from rag.timeline.build import build_timeline
from rag.timeline.events import Event
from rag.timeline.dates import published_datetime
from rag.types import SearchFilters

_FIRST = re.compile(
    r"\b(?:who|which (?:outlet|publication|newspaper|site|source|publisher))\s+(?:was\s+)?(?:the\s+)?"
    r"(?:first\s+to\s+(?:report|cover|break)\w*|(?:reported|broke|covered|wrote about|published)\b.{0,60}?\bfirst)"
    r"|\bwhen\s+(?:did|was)\b.{1,120}?\bfirst\s+(?:appear|emerge|surface|reported|come out|mentioned)\w*", re.I)
_DEVELOP = re.compile(
    r"\bhow\s+(?:did|has)\s+(?:the|this|that)\b.{0,80}?\b(?:story|news|coverage|situation)\s+"
    r"(?:develop|evolve|unfold|change)\w*"
    r"|\b(?:a\s+)?timeline\s+of\b|\bhow\s+(?:the|this)\s+story\s+(?:developed|evolved|unfolded)", re.I)
# The words of the story phrasing itself, left out of what the timeline searches for.
_META = set("""who which outlet outlets publication newspaper site source publisher was were is the a an first to
report reported reports reporting break broke cover covered wrote write about published when did does do appear
appeared emerge emerged surface surfaced come came out mentioned how has have story news coverage situation
develop developed evolve evolved unfold unfolded change changed timeline of that this it on in""".split())
MAX_EVENTS = 6


@dataclass
class StoryReply:
    """A reply written from a timeline: text with ``[n]`` markers, its checked citations and the
    numbered sources they point at."""

    text: str
    citations: list[Citation]
    sources: list[Source]


def story_kind(question: str) -> str | None:
    """"first" or "develop" for a story question, else None."""
    if _FIRST.search(question):
        return "first"
    if _DEVELOP.search(question):
        return "develop"
    return None


def story_topic(question: str) -> str:
    """The question without its story phrasing: what the timeline searches for."""
    words = re.findall(r"[\w'’.-]+", question)
    topic = " ".join(w for w in words if w.lower().strip(".") not in _META)
    return topic if topic else question


def story_reply(opened: Any, question: str, filters: SearchFilters | None = None) -> StoryReply | None:
    """The timeline's answer to a story question, or None (module doc)."""
    kind = story_kind(question)
    if kind is None:
        return None
    timeline = build_timeline(opened, story_topic(question), filters)
    if not timeline.events:
        return None
    if kind == "first":
        chosen = [min(timeline.events, key=lambda e: published_datetime(e.first.published_at))]
    else:
        chosen = sorted(sorted(timeline.events, key=lambda e: -e.relevance)[:MAX_EVENTS],
                        key=lambda e: (e.date, published_datetime(e.first.published_at)))
    sources: list[Source] = []
    lines = []
    for event in chosen:
        claims = _claims(event, sources)
        if kind == "first":
            lines.append(f"{event.first.source or 'An outlet without a name'} reported it first, "
                         f"on {event.first.published_at[:10]}.\n{claims}")
            if event.outlets[1:]:
                lines.append("Then: " + ", ".join(f"{o.source or 'unknown outlet'} ({o.delay})"
                                                  for o in event.outlets[1:]) + ".")
        else:
            stated = "" if event.date_kind == "published" else ", the date the article names"
            lines.append(f"- {event.date.isoformat()}{stated}, {event.first.source or 'unknown outlet'}"
                         f"{_followers(event)}.\n  {claims}")
    if kind == "develop":
        lines.insert(0, f"The story in {len(chosen)} event(s), in date order (dates from the articles):")
    cited = process_citations("\n".join(lines), sources, question=question)
    if not cited.citations or not all(c.supported for c in cited.citations):
        return None
    return StoryReply(cited.text, cited.citations, sources)


def _claims(event: Event, sources: list[Source]) -> str:
    """``event.text`` with its markers renumbered into the shared ``sources`` list."""
    numbers = {}
    for n, source in enumerate(event.sources, start=1):
        if source not in sources:
            sources.append(source)
        numbers[n] = sources.index(source) + 1
    return re.sub(r"\[(\d+)\]", lambda m: f"[{numbers[int(m.group(1))]}]", event.text)


def _followers(event: Event) -> str:
    rest = event.outlets[1:]
    return f" (then {', '.join(f'{o.source} {o.delay}' for o in rest)})" if rest else ""
