"""Same slot or not: the measured evidence that two facts speak of the same thing.

Two facts of two articles are in one slot (the same event, the same thing counted,
the same words quoted) when they are comparable (same kind; a number's unit and
what it counts; a date of the same thing) and the evidence says so:

- ``lexical``: Jaccard overlap of the two sentences' content words, values removed;
- ``near``: the same over the words within eight words of each value;
- ``cosine``: the embedder's cosine of the two sentences (only asked for pairs
  that pass the lexical test, so an answer embeds a few sentences at most);
- ``names``: capitalised names both sentences mention; two sentences that both
  name people or places and share none are about different things;
- ``days``: days between the two publication dates.

The thresholds (:class:`SlotRule`) were set on the perturbed-news pairs and the
false alarms of the untouched MultiHop-RAG dev corpus (docs/disagreements.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.disagree.facts import Fact
from rag.disagree.numbers import same_figure
from rag.disagree.quotes import same_speaker
from rag.disagree.when import coarser


@dataclass(frozen=True)
class SlotRule:
    """The thresholds of :func:`same_slot` (docs/disagreements.md says how they were set)."""

    min_lexical: float = 0.3
    min_near: float = 0.3
    strong_lexical: float = 0.55
    min_cosine: float = 0.7
    quote_lexical: float = 0.6
    max_days: int = 7
    max_days_same_outlet: int = 3
    min_shared_terms: int = 1
    min_title_same_outlet: float = 0.2


RULE = SlotRule()
RELATIVE_REACH_DAYS = 31
"""How far from a date a weekday or "yesterday" may be and still be a rival value for it."""


@dataclass
class Evidence:
    """What was measured on one pair of facts."""

    lexical: float
    near: float
    names: int
    names_conflict: bool
    days: int | None
    cosine: float | None = None
    shared_terms: int = 0
    same_outlet: bool = False
    title: float = 0.0  # Jaccard overlap of the two articles' titles

    def to_dict(self) -> dict:
        return {"lexical": round(self.lexical, 3), "near": round(self.near, 3), "shared_names": self.names,
                "days_apart": self.days, "cosine": None if self.cosine is None else round(self.cosine, 3),
                "same_outlet": self.same_outlet, "title": round(self.title, 3)}


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def comparable(a: Fact, b: Fact) -> bool:
    """Same kind, and for numbers the same unit and (for counts) the same thing counted."""
    if a.kind != b.kind:
        return False
    if a.kind != "number":
        return True
    if a.order[1] > 1 or b.order[1] > 1:
        if a.order != b.order:
            return False
    unit_a, counts_a = a.unit.split("|")
    unit_b, counts_b = b.unit.split("|")
    if unit_a != unit_b:
        return False
    if not unit_a:  # a count: "30 people" and "35 people", not "30 people" and "35 cars"
        return bool(counts_a) and counts_a == counts_b
    return not counts_a or not counts_b or counts_a == counts_b


def values_differ(a: Fact, b: Fact) -> bool:
    """True when the two values cannot be the same (rounding and hedges allowed)."""
    if a.kind == "number":
        return not same_figure(a.quantity, b.quantity)
    if a.kind == "date":
        if a.when.relative or b.when.relative:
            # "Thursday" is read against the publication day, as "last" or "next" by the
            # tense: the same weekday is one day seen two ways, and a weekday set against a
            # date a month or more away ("February 2014") is another event, not a rival date.
            if a.when.relative and b.when.relative and a.when.surface.lower() == b.when.surface.lower():
                return False
            if abs((a.when.day - b.when.day).days) > RELATIVE_REACH_DAYS:
                return False
        precision = coarser(a.when.precision, b.when.precision)
        if not (a.when.year_written and b.when.year_written):
            # A year inferred from the publication date is the likeliest one, not a fact:
            # "November 17" and "November 17, 2019" may be one day seen from two years, and
            # "October" against "2006" has nothing left to compare.
            return precision != "year" and a.when.key(precision)[5:] != b.when.key(precision)[5:]
        return a.when.key(precision) != b.when.key(precision)
    return not same_speaker(a.speaker.key, b.speaker.key)


def states_the_other(a: Fact, b: Fact, others_in_b: tuple[Fact, ...]) -> bool:
    """True when ``b``'s sentence itself also states ``a``'s value (a sentence with two
    figures, "$10 million in 2022 and $12 million in 2023", is not a disagreement)."""
    for other in others_in_b:
        if other is b or other.kind != a.kind or other.sentence != b.sentence:
            continue
        if a.unit == other.unit and not values_differ(a, other):  # in any position
            return True
    if a.kind == "attribution":
        return a.speaker.key.split()[-1] in b.sentence.lower()
    return False


def evidence(a: Fact, b: Fact, days: int | None, same_outlet: bool = False, title: float = 0.0) -> Evidence:
    """The cheap evidence (no embedding) for the pair."""
    shared = a.names & b.names
    only_a, only_b = a.names - shared, b.names - shared
    # Each names someone or something the other does not, at least as many as they share:
    # "WR Mike Evans, Buccaneers @ Falcons" and "WR Drake London, Falcons vs. Buccaneers".
    conflict = bool(only_a) and bool(only_b) and len(shared) <= max(len(only_a), len(only_b))
    return Evidence(jaccard(a.terms, b.terms), jaccard(a.near, b.near), len(shared), conflict, days,
                    shared_terms=len(a.terms & b.terms), same_outlet=same_outlet, title=title)


def lexical_candidate(a: Fact, ev: Evidence, rule: SlotRule = RULE) -> bool:
    """Worth embedding: passes every test but the cosine."""
    if ev.days is not None and ev.days > (rule.max_days_same_outlet if ev.same_outlet else rule.max_days):
        return False  # an outlet's figure five days on is most often another day's figure
    if ev.names_conflict or ev.shared_terms < rule.min_shared_terms:
        return False  # "Date: Nov. 27" and "Date: Nov. 30" share a template, not a subject
    if ev.same_outlet and ev.title < rule.min_title_same_outlet:
        return False  # one outlet's recurring template ("Consensus EPS Estimates: $1.45") in two stories
    if a.kind == "attribution":
        return ev.lexical >= rule.quote_lexical
    return ev.lexical >= rule.strong_lexical or (ev.lexical >= rule.min_lexical and ev.near >= rule.min_near)


def same_slot(a: Fact, ev: Evidence, rule: SlotRule = RULE) -> bool:
    """The decision: the lexical tests, then the cosine when it was measured."""
    if not lexical_candidate(a, ev, rule):
        return False
    return ev.cosine is None or ev.cosine >= rule.min_cosine
