"""Attributions: who a sentence says said it ("X said", "said X", "according to X").

The speaker is a capitalised name of one to four words next to a reporting verb
(a title before it is skipped: "Prime Minister Rishi Sunak said" -> "Rishi Sunak"
is not attempted; the whole name "Prime Minister Rishi Sunak" is kept and two
names match when one's last word is the other's). Pronouns, "the company" and
other common nouns are not speakers. What was said is the rest of the sentence:
two sentences with nearly the same rest and different speakers attribute the same
words to different people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERBS = (r"(?:said|says|told|tells|added|adds|stated|states|announced|announces|wrote|writes|tweeted|"
          r"posted|claimed|claims|argued|argues|warned|warns|insisted|insists|explained|explains|"
          r"noted|notes|confirmed|confirms|denied|denies|testified|testifies)")
_NAME = r"(?:[A-Z][a-zA-Z'’.-]+|[A-Z]\.)(?:\s+(?:de|van|von|bin|al|da|del|la|le)?\s*(?:[A-Z][a-zA-Z'’.-]+|[A-Z]\.)){0,3}"
_BEFORE = re.compile(rf"(?P<name>{_NAME})(?:,\s[^,]{{2,60}},)?\s+{_VERBS}\b")
_AFTER = re.compile(rf"\b{_VERBS}\s+(?P<name>{_NAME})(?=[\s,.;:!?”\"'’)]|$)")
_ACCORDING = re.compile(rf"\b(?i:according) to\s+(?P<name>{_NAME})")
_NOT_SPEAKERS = frozenset("""i he she they we it you this that these those there the a an his her their its
    our my your who which officials official police authorities reports report sources source analysts
    experts spokesperson spokesman spokeswoman company government statement data researchers study
    monday tuesday wednesday thursday friday saturday sunday today yesterday but and so if when while
    in on at for as after before earlier later meanwhile also however mr mrs ms dr""".split())


@dataclass(frozen=True)
class Speaker:
    """A person or body a sentence quotes, as written (``surface`` at ``start:end``)."""

    name: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """The name for comparison: lower case, possessive and dots dropped."""
        return re.sub(r"['’]s$|\.", "", self.name).lower().strip()


def _clean(name: str) -> str:
    words = name.split()
    while words and words[0].lower().strip(".") in _NOT_SPEAKERS:
        words = words[1:]
    return " ".join(words).rstrip(".,")


def speakers(sentence: str) -> list[Speaker]:
    """The speakers ``sentence`` attributes something to (see module doc)."""
    out: list[Speaker] = []
    for pattern in (_BEFORE, _AFTER, _ACCORDING):
        for m in pattern.finditer(sentence):
            raw = m.group("name")
            name = _clean(raw)
            if not name or name.lower() in _NOT_SPEAKERS or len(name) < 3:
                continue
            start = m.start("name") + raw.index(name)
            if any(s.start <= start < s.end for s in out):
                continue
            out.append(Speaker(name, start, start + len(name)))
    return out


def same_speaker(a: str, b: str) -> bool:
    """True when two speaker keys name the same person ("biden" and "joe biden")."""
    if a == b:
        return True
    wa, wb = a.split(), b.split()
    return bool(wa and wb) and (wa[-1] == wb[-1] or a in b or b in a)
