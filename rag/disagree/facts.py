"""Comparable facts per source sentence: quantities, dates of developments, attributions.

A :class:`Fact` is one value a sentence states, with what is needed to decide
whether another sentence speaks of the same thing (its slot): the sentence's
content words without the value, the words near the value, and the names it
mentions. Sentences with no digit, month, weekday or reporting verb are skipped
before any parsing, so sources with nothing comparable cost almost nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.disagree.numbers import Quantity, quantities
from rag.disagree.quotes import Speaker, speakers
from rag.disagree.when import When, dates_in
from rag.index.words import content_terms
from rag.ingest.sentences import sentence_spans

_WORTH_A_LOOK = re.compile(
    r"\d|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b|day\b|yesterday"
    r"|\b(?:said|says|told|according to|added|stated|announced|wrote|claimed|argued|warned|insisted|"
    r"explained|noted|confirmed|denied|testified|one|two|three|four|five|six|seven|eight|nine|ten|"
    r"eleven|twelve|twenty|thirty|forty|fifty|hundred|dozen)\b", re.IGNORECASE)
_CAPITAL = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]{2,}")
_WORDS = re.compile(r"\S+")
GAP = " … "
"""Between two runs of an excerpt that are not next to each other (rag.answer.context)."""
NEAR_WORDS = 8
MIN_WORDS = 6
"""Shorter lines ("Consensus EPS Estimates: $1.45", "Date: Nov. 27") are labels and
headings, not sentences that report a development."""
SERIES_OVERLAP = 0.5
"""Content-word overlap at which two sentences of one article are lines of one list."""
"""Words on each side of a value that make its local context."""


@dataclass(frozen=True)
class Fact:
    """One comparable value stated by one sentence of one source.

    ``kind`` is "number", "date" or "attribution"; ``value`` is how it is shown;
    ``unit`` is what must match for two values to be comparable (a number's unit
    and what it counts, a date's precision); ``terms`` are the sentence's content
    words without the value, ``near`` those within :data:`NEAR_WORDS` words of it,
    ``names`` its capitalised words (lower case), the value's own excluded.
    """

    kind: str
    sentence: str
    value: str
    unit: str
    terms: frozenset[str]
    near: frozenset[str]
    names: frozenset[str]
    quantity: Quantity | None = None
    when: When | None = None
    speaker: Speaker | None = None
    order: tuple[int, int] = (0, 1)  # (position, count) among the sentence's values of this unit

    @property
    def span(self) -> tuple[int, int]:
        part = self.quantity or self.when or self.speaker
        return (part.start, part.end) if part else (0, 0)


def _near(sentence: str, start: int, end: int) -> frozenset[str]:
    left = " ".join(_WORDS.findall(sentence[:start])[-NEAR_WORDS:])
    right = " ".join(_WORDS.findall(sentence[end:])[:NEAR_WORDS])
    return frozenset(content_terms(f"{left} {right}"))


def _without(sentence: str, start: int, end: int) -> str:
    return sentence[:start] + " " + sentence[end:]


def _sentence_facts(sentence: str, published_at: str | None) -> list[Fact]:
    out: list[Fact] = []
    caps = {m.group(0).lower() for m in _CAPITAL.finditer(sentence)}

    def make(kind: str, value: str, unit: str, start: int, end: int, **part) -> Fact:
        rest = _without(sentence, start, end)
        own = {w.lower() for w in re.findall(r"[A-Za-z][a-zA-Z'’-]{2,}", sentence[start:end])}
        return Fact(kind, sentence, value, unit, frozenset(content_terms(rest)), _near(sentence, start, end),
                    frozenset(caps - own), **part)

    found = quantities(sentence)
    keys = [(q.unit, q.counts) for q in found]
    for k, q in enumerate(found):
        # "rose to 4.7 per cent from 4.56 per cent": with several figures of one kind, the
        # k-th is compared only with the k-th of a sentence that has as many.
        order = (keys[:k].count(keys[k]), keys.count(keys[k]))
        out.append(make("number", q.surface.strip(), f"{q.unit}|{q.counts}", q.start, q.end, quantity=q,
                        order=order))
    for w in dates_in(sentence, published_at):
        out.append(make("date", w.day.isoformat()[: {"year": 4, "month": 7, "day": 10}[w.precision]],
                        w.precision, w.start, w.end, when=w))
    for s in speakers(sentence):
        out.append(make("attribution", s.name, "", s.start, s.end, speaker=s))
    return out


@lru_cache(maxsize=4096)
def facts_of(text: str, published_at: str | None = None) -> tuple[Fact, ...]:
    """Every fact of every sentence of ``text`` (an article's excerpt), dates resolved
    against ``published_at``. Cached: the same excerpt is read once per process."""
    out: list[Fact] = []
    for run in text.split(GAP):
        for start, end in sentence_spans(run):
            sentence = run[start:end].strip()
            if len(sentence.split()) < MIN_WORDS or not _WORTH_A_LOOK.search(sentence):
                continue
            out.extend(_sentence_facts(sentence, published_at))
    return tuple(_without_series(out))


def _without_series(facts: list[Fact]) -> list[Fact]:
    """The facts less those of a series within the article: sentences that say nearly the
    same with another value of the same kind ("46 mins: Jamaica 0-1 Canada" in a live
    blog, "WR Mike Evans ($8,500)" in a price list, "Sunday, Oct. 8 Start time" in a
    schedule). Such a value belongs to its line, and comparing it across articles would
    compare lines of two lists."""
    series: set[int] = set()
    for i, a in enumerate(facts):
        for j in range(i + 1, len(facts)):
            b = facts[j]
            if a.kind != b.kind or a.kind == "attribution" or a.unit != b.unit or a.sentence == b.sentence:
                continue
            if a.value != b.value and _overlap(a.terms, b.terms) >= SERIES_OVERLAP:
                series.update((i, j))
    return [f for k, f in enumerate(facts) if k not in series]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
