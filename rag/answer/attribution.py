"""Who said it: a claim that names its speaker must have a source that attributes it to them.

"Zelensky said the plan asks for ..." cited to an article that says the plan
asks for it "according to reports" carries the words of the source and a
speaker the source does not give. The citation check counts words and
numbers; this counts the speaker too: :func:`unattributed_speakers` lists
the names a claim attributes what it says to ("X said / says / told /
warned ...", "according to X") that the cited text never attributes
anything to: no sentence of it holds the name (any of its words) beside a
reporting word, and the source's own title line does not name it (a claim
"The Verge reported ..." cited to a Verge article). Such a claim is not
supported (rag.answer.citations.support_score).
"""

from __future__ import annotations

import re

from rag.ingest.sentences import split_sentences

_REPORTING = (r"said|says|say|told|tells|stated|states|announced|announces|wrote|writes|added|adds|warned|warns|"
              r"argued|argues|claimed|claims|insisted|insists|explained|explains|noted|notes|reported|reports|"
              r"asked|asks|admitted|admits|confirmed|confirms|denied|denies|testified|testifies|according")
_NAME = r"((?:[A-Z][\w.'’-]*)(?:\s+(?:[A-Z][\w.'’-]*|of|de|van|von|bin|al))*)"
_SPEAKER_FIRST = re.compile(rf"(?<![\w.])(?<!\bthe\s){_NAME}\s+(?:has\s+|had\s+|have\s+)?(?:{_REPORTING})\b")
_ACCORDING = re.compile(rf"\b[Aa]ccording\s+to\s+(?:the\s+)?{_NAME}")
_REPORTING_WORD = re.compile(rf"\b(?:{_REPORTING})\b", re.I)
_NOT_SPEAKERS = frozenset("""it he she they we i you this that these those there the a an both each some
    and but so yet also however officials reports sources""".split())
_WORD = re.compile(r"[\w'’-]+")


def claimed_speakers(claim: str) -> list[str]:
    """The names ``claim`` attributes its content to, as written."""
    found = []
    for pattern in (_SPEAKER_FIRST, _ACCORDING):
        for match in pattern.finditer(claim):
            name = match.group(1).strip(" .'’")
            words = [w for w in _WORD.findall(name) if w.lower() not in _NOT_SPEAKERS]
            if words and name not in found:
                found.append(" ".join(words))
    return found


def _named(name: str, text: str) -> bool:
    """Any word of ``name`` (of three letters or more) in ``text``, as a whole word."""
    words = [w for w in _WORD.findall(name) if len(w) >= 3] or _WORD.findall(name)
    return any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I) for w in words)


def unattributed_speakers(claim: str, cited_text: str) -> list[str]:
    """The speakers of ``claim`` that ``cited_text`` (title line first, as a source's
    ``full_text``) never attributes anything to (module doc)."""
    speakers = claimed_speakers(claim)
    if not speakers:
        return []
    header, _, body = cited_text.partition("\n")
    attributing = [s for s in split_sentences(body or cited_text) if _REPORTING_WORD.search(s)]
    return [name for name in speakers
            if not _named(name, header) and not any(_named(name, s) for s in attributing)]
