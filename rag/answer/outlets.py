"""Outlets a question attributes reporting to, and whether the index holds them.

"According to Forbes", "a Bloomberg article", "what did Reuters report": a
question may say whose reporting it asks about. When no indexed article is
from that outlet, the articles cannot say what it reported, and the honest
answer says so. This module finds such attributions (:func:`attributions`)
and which of them the index lacks (:func:`unknown_outlets`).

Only reporting is an attribution, and a subject is not: "the IPCC report",
"the Mueller report", "the jobs report" are what a question is about. So:

- *outlet frames* name a publisher for certain: a news work of a name ("a
  Forbes article", "a piece by CNET", "an article in The Hindu", "the
  Hollywood Reporter's coverage") or "reported / published by X";
- *speaker frames* may name a publisher or a source quoted in the articles:
  "according to X", "did X report", "a/an X report", "a report by X". These
  count as unknown only when X is also named nowhere in the indexed text (the
  name check's lookup), so "according to the IMF" over articles that quote
  the IMF is answered.

The indexed publishers the question names (the one word-bounded matcher,
:func:`rag.search.query_hints.outlet_mentions`) are masked first, and an
attributed name that nearly matches an indexed publisher ("CNBC" for "Cnbc |
World Business News Leader", "New York Times" for "The New York Times",
"Techcrunch") is not unknown: it is that publisher.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from rag.search.query_hints import MONTHS, OutletMention

_NAME = r"['‘\"]?((?:[A-Z][\w&.'’-]*|of|and|&)(?:\s+(?:[A-Z][\w&.'’-]*|of|and|&|-|\|))*)['’\"]?"
_WORK = (r"(?:article|piece|story|stories|coverage|reporting|column|op-ed|editorial|post|feature|podcast|"
         r"newsletter|headline|interview|review)s?")
_REPORT = r"(?:report|analysis|study|survey)s?"
_OUTLET_FRAMES = [
    re.compile(rf"\b(?i:{_WORK})\s+(?:from|by|in)\s+(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?i:reported|published|written|posted|discussed|covered)\s+(?:by|in)\s+(?:both\s+)?(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?:a|an|the|another|both|one)\s+{_NAME}\s+{_WORK}\b"),
    re.compile(rf"\b{_NAME}['’]s?\s+{_WORK}\b"),
    re.compile(rf"\band\s+(?:another|one)\s+(?:by|from|in)\s+(?:the\s+)?{_NAME}"),
]
_SPEAKER_FRAMES = [
    re.compile(rf"\b(?i:according\s+to)\s+(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?:a|an|another)\s+{_NAME}\s+{_REPORT}\b"),
    re.compile(rf"\b{_REPORT}\s+(?:from|by)\s+(?:the\s+)?{_NAME}"),
    # "did Reuters report ...", not "did the IPCC report say ...": there "report" is a noun
    re.compile(rf"\b(?:did|does|has|have)\s+(?:the\s+)?{_NAME}\s+(?:report|publish)(?:ed)?\b(?!\s+(?:say|said|"
               r"find|found|show|showed|conclude|warn|reveal|recommend|claim|state|suggest|mention|predict|"
               r"estimate|note|describe|call|find)\b)"),
]
_SPLIT = re.compile(r"\s+(?:and|&)\s+|,\s*")
# A quoted span: "the 'NBA Rookie of the Year Odds' article" quotes a title, and
# "Year Odds" inside it is no publisher ('The Verge' quoted whole still is one).
_QUOTED = re.compile(r"(?<!\w)['‘\"“](.+?)['’\"”](?!\w)")
_MONTH_WORDS = frozenset(MONTHS) | frozenset(m[:3] for m in MONTHS) | {"sept"}
_TRAILING = re.compile(r"(?:\s+(?:of|and|&|-|\|))+$")
_SOURCE_CORE = re.compile(r"\s+[-|:–—]\s+|:\s*")
_MASK = "Indexed"
NEAR_MISS = 0.85
"""Similarity (difflib ratio of the normalised names) at which a name is taken for an indexed publisher."""
MAX_OUTLET_WORDS = 5


@dataclass(frozen=True)
class Attribution:
    """A name the question attributes reporting to, that is not an indexed publisher as written."""

    name: str
    outlet: bool  # named by an outlet frame (module doc), not only a speaker frame


def _norm(name: str) -> str:
    name = re.sub(r"[‘’'\"]", "", name).strip().lower()
    name = re.sub(r"^the\s+", "", name)
    return " ".join(re.sub(r"[^\w&.\s-]", " ", name).split())


def _masked(text: str, mentions: Sequence[OutletMention]) -> str:
    for m in sorted(mentions, key=lambda m: m.start, reverse=True):
        text = text[:m.start] + _MASK + text[m.end:]
    return text


def attributions(text: str, mentions: Sequence[OutletMention] = ()) -> list[Attribution]:
    """The names ``text`` attributes reporting to, other than the indexed publishers it names
    (``mentions``), each once; ``outlet`` when an outlet frame names it (module doc)."""
    text = _masked(text, mentions)
    quoted = [m.span(1) for m in _QUOTED.finditer(text)]
    found: dict[str, bool] = {}
    where: dict[str, int] = {}
    for outlet, frames in ((True, _OUTLET_FRAMES), (False, _SPEAKER_FRAMES)):
        for pattern in frames:
            for match in pattern.finditer(text):
                if any(start < match.start(1) < end for start, end in quoted):
                    continue  # part of a quoted title
                for part in _SPLIT.split(match.group(1)):
                    name = _TRAILING.sub("", part.strip()).strip().rstrip("'’\"")
                    if not name or re.search(r"['’]s?$", name) or name.split()[0].lower().strip(".") in _MONTH_WORDS:
                        continue  # a possessive ("Google's plan") or a date names no publisher
                    if _MASK in name.split() or name.lower() in ("the", "a", "an") or not name[0].isupper():
                        continue
                    if len(name.split()) <= MAX_OUTLET_WORDS:
                        found[name] = found.get(name, False) or outlet
                        where[name] = min(where.get(name, match.start(1)), match.start(1))
    return [Attribution(name, found[name]) for name in sorted(found, key=where.get)]


def matches_source(name: str, source: str) -> bool:
    """True if the attributed ``name`` is, or nearly is, the indexed publisher ``source``: the
    same after case and a leading "The", a prefix of it or its main part ("CNBC" for "Cnbc |
    World Business News Leader"), or within :data:`NEAR_MISS` of either (a misspelling)."""
    n, s = _norm(name), _norm(source)
    if not n or not s:
        return False
    core = _norm(_SOURCE_CORE.split(source.strip(), maxsplit=1)[0])
    if s.startswith(n) or (bool(core) and n.startswith(core)) or n == core:
        return True
    return max(SequenceMatcher(None, n, s).ratio(), SequenceMatcher(None, n, core).ratio() if core else 0) >= NEAR_MISS


def unknown_outlets(found: Iterable[Attribution], known_sources: Iterable[str],
                    mentioned: Callable[[str], bool] = lambda name: False) -> list[str]:
    """The attributed names that are no indexed publisher (nor a near miss of one): every one an
    outlet frame names, and those only a speaker frame names when ``mentioned(name)`` (is it
    named anywhere in the indexed text?) is false."""
    sources = [s for s in known_sources if s]
    out = []
    for attribution in found:
        if any(matches_source(attribution.name, s) for s in sources):
            continue
        if attribution.outlet or not mentioned(attribution.name):
            out.append(attribution.name)
    return out
