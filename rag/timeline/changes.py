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
_NUMBER_WORDS = frozenset("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
                          "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
                          "eighty ninety hundred thousand million billion trillion dozen half".split())
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
    _split_merged(removed, added)
    _split_merged(added, removed)
    old, new = [(normalised(s), s) for s in removed], [(normalised(s), s) for s in added]
    removed, added = _unmatched(old, new), _unmatched(new, old)  # what a split left the same
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


def _split_merged(parts: list[str], wholes: list[str]) -> None:
    """A sentence of ``wholes`` that starts or ends with a sentence of ``parts`` is that one and
    another written against it (the splitter joins "HQ. 11:04 p.m. ..." into one): the part is
    matched, the whole keeps only the rest. Changes both lists in place."""
    for part in list(parts):
        key = normalised(part)
        for j, whole in enumerate(wholes):
            full = normalised(whole)
            if len(full) > len(key) and (full.startswith(key + " ") or full.endswith(" " + key)):
                raw = whole.strip()
                if raw.startswith(part):
                    rest = raw[len(part):]
                elif raw.endswith(part):
                    rest = raw[:-len(part)]
                else:  # typography differs too: the rest as normalised
                    rest = full[len(key):] if full.startswith(key + " ") else full[:-len(key)]
                wholes[j] = rest.strip()
                parts.remove(part)
                break


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


def _changed(old: str, new: str) -> ChangedSentence:
    """The pair, with the numbers, dates and names of the words that differ (a date or name
    counts when any of its words does) found in one version and not the other."""
    old_text, new_text = normalised(old), normalised(new)
    old_words, new_words = list(re.finditer(r"\S+", old_text)), list(re.finditer(r"\S+", new_text))
    matcher = difflib.SequenceMatcher(None, [w.group(0) for w in old_words], [w.group(0) for w in new_words],
                                      autojunk=False)
    old_spans, new_spans = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            old_spans += [(old_words[i].start(), old_words[i].end()) for i in range(i1, i2)]
            new_spans += [(new_words[j].start(), new_words[j].end()) for j in range(j1, j2)]

    def touched(spans: list[tuple[int, int]], found: list[tuple[int, int, str]]) -> set[str]:
        return {value for start, end, value in found if any(s < end and start < e for s, e in spans)}

    def differing(finder) -> list[str]:
        return sorted(touched(old_spans, finder(old_text)) ^ touched(new_spans, finder(new_text)))

    return ChangedSentence(old, new, differing(_number_spans), differing(_date_spans), differing(_name_spans))


def _number_spans(text: str) -> list[tuple[int, int, str]]:
    """Numbers in figures (normalised: "1,000" is "1000") and in words ("two", "dozen")."""
    out = []
    for m in re.finditer(r"\S+", text):
        word = m.group(0).lower().strip(".,;:!?()\"'")
        values = numbers_in(m.group(0)) | ({word} if word in _NUMBER_WORDS or word.split("-")[0] in _NUMBER_WORDS
                                           else set())
        out += [(m.start(), m.end(), value) for value in values]
    return out


def _date_spans(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in DATE_EXPRESSION.finditer(text)]


def _name_spans(text: str) -> list[tuple[int, int, str]]:
    """Capitalised runs of words, without a sentence's first word when it is a common one and
    without month and weekday names (those are dates)."""
    out = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        if match.start() == 0 and words[0].lower() in STOPWORDS:
            words = words[1:]
        words = [w for w in words if w.lower().strip(".'") not in _CALENDAR]
        if words:
            out.append((match.start(), match.end(), " ".join(words)))
    return out
