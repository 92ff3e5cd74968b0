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

    for q in quantities(sentence):
        out.append(make("number", q.surface.strip(), f"{q.unit}|{q.counts}", q.start, q.end, quantity=q))
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
            if len(sentence) < 12 or not _WORTH_A_LOOK.search(sentence):
                continue
            out.extend(_sentence_facts(sentence, published_at))
    return tuple(out)
