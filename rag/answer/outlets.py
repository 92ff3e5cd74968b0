"""Publishers a question attributes its facts to, and whether the index holds them.

"According to The Verge", "a Forbes article", "the report by TechCrunch":
news questions often say whose reporting they ask about. When a question
attributes what it asks to a publisher of which no article is indexed, the
articles cannot say what that publisher reported, so the honest answer is that
they do not cover it. This module finds such attributions (capitalised names
next to "article", "report", "reported by", "according to"...) and matches them
loosely against the indexed publishers: case and a leading "The" are ignored,
and a name matches a publisher whose name starts with it or whose main part
(before " - ", " | " or ":") it starts with, so "CNBC" matches "Cnbc | World
Business News Leader" and "The Independent" matches "The Independent - Sports".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = r"['‘\"]?((?:[A-Z][\w&.'’-]*|of|and|&)(?:\s+(?:[A-Z][\w&.'’-]*|of|and|&|-|\|))*)['’\"]?"
_WORK = r"(?:article|report|piece|story|stories|coverage|analysis|reporting|review|post|feature|column|op-ed|news)s?"
_PATTERNS = [
    re.compile(rf"\b{_WORK}\s+(?:from|by|in)\s+(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?:reported|published|written|posted|discussed)\s+(?:by|in)\s+(?:both\s+)?(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?:a|an|the|another|both)\s+{_NAME}\s+{_WORK}\b"),
    re.compile(rf"\band\s+(?:another|one)\s+(?:by|from|in)\s+(?:the\s+)?{_NAME}"),
    re.compile(rf"\b(?:did|does|has|have)\s+(?:the\s+)?{_NAME}\s+(?:report|publish)"),
]
_SPLIT = re.compile(r"\s+(?:and|&)\s+|,\s*")
# A quoted span: "the 'NBA Rookie of the Year Odds' article" quotes a title, and
# "Year Odds" inside it is no publisher ('The Verge' quoted whole still is one).
_QUOTED = re.compile(r"(?<!\w)['‘\"“](.+?)['’\"”](?!\w)")
_MONTHS = frozenset("""january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec""".split())
_TRAILING = re.compile(r"(?:\s+(?:of|and|&|-|\|))+$")
_SOURCE_CORE = re.compile(r"\s+[-|:–—]\s+|:\s*")


def _norm(name: str) -> str:
    name = re.sub(r"[‘’'\"]", "", name).strip().lower()
    name = re.sub(r"^the\s+", "", name)
    return " ".join(re.sub(r"[^\w&.\s-]", " ", name).split())


def attributed_outlets(question: str) -> list[str]:
    """Names the question attributes reporting to, as written (may include unknown ones)."""
    found: list[str] = []
    quoted = [m.span(1) for m in _QUOTED.finditer(question)]
    for pattern in _PATTERNS:
        for match in pattern.finditer(question):
            if any(start < match.start(1) < end for start, end in quoted):
                continue  # part of a quoted title
            for part in _SPLIT.split(match.group(1)):
                name = _TRAILING.sub("", part.strip()).strip().rstrip("'’\"")
                if re.search(r"['’]s?$", name) or name.split()[0].lower().strip(".") in _MONTHS if name else True:
                    continue  # a possessive ("Google's plan") or a date names no publisher
                if name[0].isupper() and name.lower() not in ("the", "a", "an") and name not in found:
                    found.append(name)
    return found


def matches_source(name: str, source: str) -> bool:
    """True if the mentioned ``name`` plausibly means the indexed publisher ``source``."""
    n, s = _norm(name), _norm(source)
    if not n or not s:
        return False
    core = _norm(_SOURCE_CORE.split(source.strip(), maxsplit=1)[0])
    return s.startswith(n) or (bool(core) and n.startswith(core)) or n == core


def unknown_outlets(question: str, known_sources: Iterable[str]) -> list[str]:
    """Publishers the question attributes reporting to that match no indexed publisher.

    Only names that look like publishers are considered: at most five words,
    not the start of a longer phrase of the question's own topic.
    """
    sources = [s for s in known_sources if s]
    for source in sorted(sources, key=len, reverse=True):  # "Life and Style" is one name, not two
        question = re.sub(re.escape(source), "indexed", question, flags=re.IGNORECASE)
    out = []
    for name in attributed_outlets(question):
        if len(name.split()) > 5:
            continue
        if not any(matches_source(name, s) for s in sources):
            out.append(name)
    return out
