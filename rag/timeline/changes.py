"""What changed between two versions of an article, sentence by sentence.

Sentences are found in each body with typography mapped character for
character (curly quotes to straight, dashes to "-", no-break and other odd
spaces to spaces), so both versions split alike, and compared by a key with
typography normalised further (Unicode NFKC, "…" to "...", spaces around
dashes, soft hyphens and zero-width characters dropped, whitespace
collapsed). Sentences are compared as a multiset, so a reorder of paragraphs,
or a quotes/dashes/whitespace edit, is "no substantive change". A removed and
an added sentence that share at least ``CHANGED_SIMILARITY`` of their words
(``difflib``'s ratio over word sequences, the most similar pairs first) are
one *changed* sentence, with the numbers, dates and names that differ picked
out.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from rag.answer.citations import numbers_in
from rag.index.words import STOPWORDS
from rag.ingest.sentences import sentence_spans
from rag.timeline.dates import DATE_EXPRESSION

CHANGED_SIMILARITY = 0.6
# One character for one, so sentence spans found in the mapped text are spans of the original.
_SAME_LENGTH = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                              "′": "'", "″": '"', "–": "-", "—": "-", "‒": "-", "−": "-", "‐": "-", "‑": "-",
                              "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " "})
_DROPPED = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_DASH = re.compile(r"\s*-\s*")
_NAME = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_CALENDAR = frozenset("january february march april may june july august september october november december "
                      "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday "
                      "friday saturday sunday".split())


def normalised(text: str) -> str:
    """``text`` with typography normalised (module doc): the key sentences are compared by."""
    text = unicodedata.normalize("NFKC", text.translate(_DROPPED)).translate(_SAME_LENGTH).replace("…", "...")
    return " ".join(_DASH.sub(" - ", text).split())


def sentences(body: str) -> list[str]:
    """The sentences of ``body`` as written, split where its typography-mapped copy splits."""
    return [body[s:e] for s, e in sentence_spans(body.translate(_SAME_LENGTH))]


@dataclass
class ChangedSentence:
    old: str
    new: str
    numbers: list[str] = field(default_factory=list)  # numbers in one version and not the other
    dates: list[str] = field(default_factory=list)  # date expressions in one version and not the other
    names: list[str] = field(default_factory=list)  # capitalised names in one version and not the other


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
    if normalised(old_body) == normalised(new_body):
        return Changes(headline, [], [], [])
    old = [(normalised(s), s) for s in sentences(old_body)]
    new = [(normalised(s), s) for s in sentences(new_body)]
    removed, added = _unmatched(old, new), _unmatched(new, old)
    pairs = sorted(((_similarity(r, a), i, j) for i, r in enumerate(removed) for j, a in enumerate(added)),
                   key=lambda t: (-t[0], t[1], t[2]))
    paired: dict[int, int] = {}
    for score, i, j in pairs:
        if score < CHANGED_SIMILARITY:
            break
        if i not in paired and j not in paired.values():
            paired[i] = j
    changed = [_changed(removed[i], added[j]) for i, j in sorted(paired.items(), key=lambda p: p[1])]
    return Changes(headline, [a for j, a in enumerate(added) if j not in paired.values()],
                   [r for i, r in enumerate(removed) if i not in paired], changed)


def _unmatched(these: list[tuple[str, str]], others: list[tuple[str, str]]) -> list[str]:
    """The sentences of ``these`` (as written) that ``others`` lacks, counting repeats."""
    remaining = [key for key, _ in others]
    out = []
    for key, raw in these:
        if key in remaining:
            remaining.remove(key)
        else:
            out.append(raw)
    return out


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalised(a).split(), normalised(b).split(), autojunk=False).ratio()


def _dates(text: str) -> set[str]:
    return {m.group(0) for m in DATE_EXPRESSION.finditer(normalised(text))}


def _names(text: str) -> set[str]:
    """Capitalised runs of words, without a sentence's first word when it is a common one and
    without month and weekday names (those are dates)."""
    out = set()
    for match in _NAME.finditer(normalised(text)):
        words = match.group(0).split()
        if match.start() == 0 and words[0].lower() in STOPWORDS:
            words = words[1:]
        words = [w for w in words if w.lower().strip(".'") not in _CALENDAR]
        if words:
            out.add(" ".join(words))
    return out


def _changed(old: str, new: str) -> ChangedSentence:
    def differing(found_old: set[str], found_new: set[str]) -> list[str]:
        return sorted(found_old ^ found_new)

    return ChangedSentence(old, new, differing(numbers_in(normalised(old)), numbers_in(normalised(new))),
                           differing(_dates(old), _dates(new)), differing(_names(old), _names(new)))
