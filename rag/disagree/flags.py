"""Disagreements among sources: facts in one slot with different values.

:func:`find_disagreements` takes the sources (objects with ``text``, ``source``
(the outlet), ``published_at``, ``article_id``; an answer's
:class:`rag.answer.context.Source` or a :class:`rag.types.Passage`), reads their
facts (:mod:`rag.disagree.facts`), pairs facts of different articles that are in
one slot (:mod:`rag.disagree.slots`) and differ, and groups connected pairs into
one :class:`Disagreement` per slot.

A pair from the same outlet published at different times is "updated" (a later
report of the same outlet), not "differ". The citation check applies to every
flag: each value's sentence must be in its source's text word for word and state
the value, or the flag is dropped (:func:`checked`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.disagree.facts import Fact, facts_of
from rag.disagree.slots import RULE, Evidence, SlotRule, comparable, evidence, jaccard, lexical_candidate, same_slot
from rag.disagree.slots import states_the_other, values_differ
from rag.disagree.when import published_day
from rag.index.words import content_terms

Embed = Callable[[list[str]], np.ndarray]
MAX_PAIRS_EMBEDDED = 64
"""Cap on sentences embedded per check (the cost bound of one answer)."""


@dataclass
class Value:
    """One side of a disagreement: a value and the source sentence stating it."""

    value: str
    source: int  # index into the sources given (0-based)
    sentence: str
    outlet: str | None
    published_at: str | None
    article_id: str
    stated: str = ""  # the value as the sentence writes it ("Tuesday" for 2023-10-03)


@dataclass
class Disagreement:
    """Sources that state different values for one slot."""

    slot: str
    kind: str  # "number", "date" or "attribution"
    status: str  # "differ", or "updated" (a later report of the same outlet)
    values: list[Value]
    evidence: list[dict] = field(default_factory=list)

    def to_dict(self, numbers: dict[int, int] | None = None) -> dict:
        """The JSON object; ``numbers`` maps a source index to its ``[n]`` (default index + 1)."""
        return {"slot": self.slot, "kind": self.kind, "status": self.status,
                "values": [{"value": v.value, "n": (numbers or {}).get(v.source, v.source + 1),
                            "source": v.outlet, "published_at": v.published_at, "sentence": v.sentence,
                            "stated": v.stated, "article_id": v.article_id} for v in self.values],
                "evidence": self.evidence}


def _days(a: Any, b: Any) -> int | None:
    da, db = published_day(getattr(a, "published_at", None)), published_day(getattr(b, "published_at", None))
    return abs((da - db).days) if da and db else None


def _same_outlet(a: Any, b: Any) -> bool:
    outlet_a, outlet_b = (getattr(a, "source", None) or "").lower(), (getattr(b, "source", None) or "").lower()
    return bool(outlet_a) and outlet_a == outlet_b


def _is_update(a: Any, b: Any) -> bool:
    return _same_outlet(a, b) and (a.published_at or "") != (b.published_at or "")


def _own_day(fact: Fact, source: Any) -> bool:
    """True for a date that is its article's own publication day ("Published ... on
    October 12, 2023", "Sunday, Oct. 8" in a preview of that day): two such dates differ
    because the articles do, not because the outlets disagree."""
    return fact.when is not None and fact.when.day == published_day(getattr(source, "published_at", None))


def _slot_label(a: Fact, b: Fact) -> str:
    """The words right around ``a``'s value that ``b`` shares, in ``a``'s order (four at
    most, from four words before to three after): "warehouse killed people"."""
    shared = a.near & b.near
    start, end = a.span
    words = [w for w in (a.sentence[:start].split()[-4:] + a.sentence[end:].split()[:3])
             if content_terms(w) & shared]
    if len(words) < 2:  # too little near the value: the sentence's shared words before it
        words = [w for w in a.sentence[:start].split() if content_terms(w) & a.terms & b.terms][-4:] or words
    label = " ".join(w.strip(",.;:“”\"'()") for w in words[-4:])
    return label or a.unit.split("|")[-1] or a.kind


def checked(flag: Disagreement, texts: Sequence[str]) -> bool:
    """The citation check: every value's sentence is in its source's text and states the value."""
    for v in flag.values:
        if v.sentence not in texts[v.source]:
            return False
        if not v.stated or v.stated not in v.sentence:
            return False
    return True


def _pairs(sources: Sequence[Any], facts: list[tuple[Fact, ...]], rule: SlotRule):
    """Candidate pairs (i, a, j, b, evidence) that pass the cheap tests."""
    for i in range(len(sources)):
        for j in range(i + 1, len(sources)):
            if getattr(sources[i], "article_id", i) == getattr(sources[j], "article_id", j):
                continue
            days = _days(sources[i], sources[j])
            same = _same_outlet(sources[i], sources[j])
            title = jaccard(frozenset(content_terms(getattr(sources[i], "title", "") or "")),
                            frozenset(content_terms(getattr(sources[j], "title", "") or "")))
            for a in facts[i]:
                for b in facts[j]:
                    if not comparable(a, b) or not values_differ(a, b):
                        continue
                    if a.kind == "date" and _own_day(a, sources[i]) and _own_day(b, sources[j]):
                        continue
                    ev = evidence(a, b, days, same, title)
                    if not lexical_candidate(a, ev, rule):
                        continue
                    if states_the_other(a, b, facts[j]) or states_the_other(b, a, facts[i]):
                        continue
                    yield i, a, j, b, ev


def _cosines(pairs: list, embed: Embed | None) -> None:
    if embed is None or not pairs:
        return
    sentences = list(dict.fromkeys(s for _, a, _, b, _ in pairs[:MAX_PAIRS_EMBEDDED] for s in (a.sentence, b.sentence)))
    vectors = np.asarray(embed(sentences), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.where(norms == 0, 1, norms)
    at = {s: k for k, s in enumerate(sentences)}
    for _, a, _, b, ev in pairs[:MAX_PAIRS_EMBEDDED]:
        ev.cosine = float(vectors[at[a.sentence]] @ vectors[at[b.sentence]])


def find_disagreements(sources: Sequence[Any], embed: Embed | None = None, rule: SlotRule = RULE
                       ) -> list[Disagreement]:
    """The disagreements among ``sources`` (see module doc), most supported first."""
    facts = [facts_of(getattr(s, "text", "") or "", getattr(s, "published_at", None)) for s in sources]
    if sum(1 for f in facts if f) < 2:
        return []  # fewer than two sources with anything comparable: nothing to compare
    pairs = list(_pairs(sources, facts, rule))
    _cosines(pairs, embed)
    pairs = [p for p in pairs[:MAX_PAIRS_EMBEDDED] if same_slot(p[1], p[4], rule)]
    groups: list[dict] = []  # one per slot: facts by (source, value), pairs' evidence
    for i, a, j, b, ev in sorted(pairs, key=lambda p: -(p[4].lexical + (p[4].cosine or 0))):
        group = next((g for g in groups if g["kind"] == a.kind and ((i, a) in g["facts"] or (j, b) in g["facts"])),
                     None)
        if group is None:
            group = {"kind": a.kind, "facts": [], "evidence": [], "updates": [], "slot": _slot_label(a, b)}
            groups.append(group)
        for item in ((i, a), (j, b)):
            if item not in group["facts"]:
                group["facts"].append(item)
        group["evidence"].append(ev)
        group["updates"].append(_is_update(sources[i], sources[j]))
    out = []
    texts = [getattr(s, "text", "") or "" for s in sources]
    for g in groups:
        values, seen = [], set()
        for i, f in sorted(g["facts"], key=lambda item: (sources[item[0]].published_at or "", item[0])):
            if (i, f.value) in seen:
                continue
            seen.add((i, f.value))
            s = sources[i]
            part = f.quantity or f.when or f.speaker
            stated = f.sentence[part.start:part.end] if part else ""
            values.append(Value(f.value, i, f.sentence, getattr(s, "source", None), s.published_at,
                                str(getattr(s, "article_id", i)), stated))
        flag = Disagreement(g["slot"], g["kind"], "updated" if all(g["updates"]) else "differ", values,
                            [e.to_dict() for e in g["evidence"]])
        if checked(flag, texts):
            out.append(flag)
    return out


__all__ = ["Disagreement", "Evidence", "Value", "checked", "find_disagreements"]
