"""What a question names about the articles it wants: publishers and dates.

News questions often say where and when ("as reported by The Verge", "in an
October 2023 article"). These are soft hints for ranking, never filters: a
passage from another publisher can still win on content. Explicit filters
(``--source``, ``--since``) are hard and live in retrieval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
"""The one month table (rag.answer.dates reads it too): full lower-case name -> number."""
_MONTH_ABBR = {m[:3]: i for m, i in MONTHS.items()}
_MONTH_RE = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_RE},?\s+(\d{{4}})\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH_RE}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_MONTH_YEAR = re.compile(rf"\b{_MONTH_RE},?\s+(?:of\s+)?(\d{{4}})\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@dataclass
class QueryHints:
    """Publishers and dates (``YYYY-MM-DD`` or ``YYYY-MM``) named in a question."""

    sources: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)


def _month(name: str) -> int:
    return _MONTH_ABBR[name.lower()[:3]]


def find_dates(query: str) -> tuple[list[str], list[str]]:
    """(days, months) mentioned in the query."""
    days: list[str] = []
    taken: list[tuple[int, int]] = []
    for match in _MONTH_DAY_YEAR.finditer(query):
        days.append(f"{int(match.group(3)):04d}-{_month(match.group(1)):02d}-{int(match.group(2)):02d}")
        taken.append(match.span())
    for match in _DAY_MONTH_YEAR.finditer(query):
        days.append(f"{int(match.group(3)):04d}-{_month(match.group(2)):02d}-{int(match.group(1)):02d}")
        taken.append(match.span())
    for match in _ISO.finditer(query):
        days.append(match.group(0))
    months = [d[:7] for d in days]
    for match in _MONTH_YEAR.finditer(query):
        if not any(s <= match.start() < e for s, e in taken):
            months.append(f"{int(match.group(2)):04d}-{_month(match.group(1)):02d}")
    return sorted(set(days)), sorted(set(months))


@dataclass(frozen=True)
class OutletMention:
    """Where a question names an indexed publisher: the span as written and the publishers it
    names (one name can be several sources' short form: "FOX News" for "FOX News - Health")."""

    start: int
    end: int
    text: str
    sources: tuple[str, ...]


_CORE = re.compile(r"\s+[-|:–—]\s+|:\s*")


def outlet_variants(source: str) -> list[str]:
    """The ways a question may write ``source``: its name, without a leading "The", and its main
    part before " - ", " | " or ":" ("Cnbc" for "Cnbc | World Business News Leader"). A variant of
    under 4 letters must be written as it is (all capitals, "AP"), or it would be a word."""
    name = " ".join(source.split())
    core = _CORE.split(name, maxsplit=1)[0].strip()
    out: list[str] = []
    for v in (name, core):
        for w in (v, v[4:] if v.startswith("The ") else ""):
            if len(w) >= 2 and w not in out and (len(w) >= 4 or (w.isupper() and w.isalpha())):
                out.append(w)
    return out


def _written_as_name(span: str, variant: str) -> bool:
    """True when ``span`` (matched case-insensitively) is written as a name: each word starts with
    the variant's own case ("CNBC" for "Cnbc", "Techcrunch" for "TechCrunch"), except that a
    leading "the" may be lower case. "on the verge of" and "The age of AI" are not The Verge or
    The Age."""
    written, wanted = span.split(), variant.split()
    if len(written) != len(wanted):
        return False
    for i, (w, v) in enumerate(zip(written, wanted)):
        if i == 0 and v.lower() == "the":
            continue
        if len(v) < 4 and w != v:
            return False
        if w[0].isupper() != v[0].isupper():
            return False
    return True


def outlet_mentions(text: str, known_sources: Iterable[str]) -> list[OutletMention]:
    """Every place ``text`` names an indexed publisher, as whole words and written as a name
    (see :func:`_written_as_name`), the longest name first where two overlap. The one matcher
    that retrieval hints, the outlet check and the name check all use."""
    by_variant: dict[str, list[str]] = {}
    for source in known_sources:
        if source and source.strip():
            for v in outlet_variants(source):
                by_variant.setdefault(v.lower(), [])
                if source not in by_variant[v.lower()]:
                    by_variant[v.lower()].append(source)
    found: list[OutletMention] = []
    for key in sorted(by_variant, key=len, reverse=True):
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, key.split())) + r"(?!\w)"
        for match in re.finditer(pattern, text, re.IGNORECASE):
            if any(m.start < match.end() and match.start() < m.end for m in found):
                continue
            if _written_as_name(match.group(0), _variant_case(key, by_variant[key])):
                found.append(OutletMention(match.start(), match.end(), match.group(0), tuple(by_variant[key])))
    return sorted(found, key=lambda m: m.start)


def _variant_case(key: str, sources: list[str]) -> str:
    """The variant ``key`` as its first source writes it."""
    for v in outlet_variants(sources[0]):
        if v.lower() == key:
            return v
    return key


def find_sources(query: str, known_sources: Iterable[str]) -> list[str]:
    """Known publisher names that the query mentions (:func:`outlet_mentions`), in order."""
    found: list[str] = []
    for mention in outlet_mentions(query, known_sources):
        found.extend(s for s in mention.sources if s not in found)
    return found


def query_hints(query: str, known_sources: Iterable[str]) -> QueryHints:
    """Everything the query says about which articles it wants."""
    days, months = find_dates(query)
    return QueryHints(sources=find_sources(query, known_sources), days=days, months=months)
