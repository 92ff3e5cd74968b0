"""What changed between two versions of an article, sentence by sentence.

The diff engine of issue 25's part 2 (revisions are not kept by the index
yet: nothing calls this from a build). Sentences are compared after
typography is normalised (Unicode NFKC, curly quotes to straight, dashes to
"-", whitespace collapsed), as a multiset, so a reorder of paragraphs or a
quotes/dashes/whitespace edit is "no substantive change". A removed and an
added sentence that share at least ``CHANGED_SIMILARITY`` of their words
(``difflib``'s ratio over word sequences) are one *changed* sentence, with
the numbers, dates and names that differ picked out.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from rag.answer.citations import numbers_in
from rag.ingest.sentences import split_sentences
from rag.timeline.dates import DATE_EXPRESSION

CHANGED_SIMILARITY = 0.6
_TYPOGRAPHY = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "‚": "'", "–": "-", "—": "-",
                             "‒": "-", "−": "-", "\u00a0": " ", "…": "..."})
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


def normalised(text: str) -> str:
    """``text`` with typography normalised (module doc)."""
    return " ".join(unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).split())


@dataclass
class ChangedSentence:
    old: str
    new: str
    numbers: list[str] = field(default_factory=list)  # numbers in one version and not the other
    dates: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass
class Changes:
    """The differences between two versions (empty lists and no headline: no substantive change)."""

    headline: dict | None
    added: list[str]
    removed: list[str]
    changed: list[ChangedSentence]

    @property
    def substantive(self) -> bool:
        return bool(self.headline or self.added or self.removed or self.changed)

    def to_dict(self) -> dict:
        return {"headline": self.headline, "added": self.added, "removed": self.removed,
                "changed": [asdict(c) for c in self.changed], "substantive": self.substantive}


def compare(old_title: str, old_body: str, new_title: str, new_body: str) -> Changes:
    """The changes from the old version to the new one (module doc)."""
    headline = None if normalised(old_title) == normalised(new_title) else {"old": old_title, "new": new_title}
    old = [(normalised(s), s) for s in split_sentences(old_body)]
    new = [(normalised(s), s) for s in split_sentences(new_body)]
    remaining = [key for key, _ in new]
    removed = []
    for key, raw in old:
        if key in remaining:
            remaining.remove(key)
        else:
            removed.append(raw)
    kept_old = [key for key, _ in old]
    added = []
    for key, raw in new:
        if key in kept_old:
            kept_old.remove(key)
        else:
            added.append(raw)
    changed = []
    for before in list(removed):
        scored = [(difflib.SequenceMatcher(None, normalised(before).split(), normalised(a).split()).ratio(), a)
                  for a in added]
        if scored and (best := max(scored))[0] >= CHANGED_SIMILARITY:
            removed.remove(before)
            added.remove(best[1])
            changed.append(_changed(before, best[1]))
    return Changes(headline, added, removed, changed)


def _changed(old: str, new: str) -> ChangedSentence:
    def differing(found_old: set[str], found_new: set[str]) -> list[str]:
        return sorted(found_old ^ found_new)

    def dates(text: str) -> set[str]:
        return {m.group(0) for m in DATE_EXPRESSION.finditer(normalised(text))}

    def names(text: str) -> set[str]:
        words = normalised(text).split()
        first = words[0] if words else ""
        return {n for n in _NAME.findall(normalised(text)) if n != first and not DATE_EXPRESSION.fullmatch(n)}

    return ChangedSentence(old, new, differing(numbers_in(old), numbers_in(new)),
                           differing(dates(old), dates(new)), differing(names(old), names(new)))
