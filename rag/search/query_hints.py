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

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august",
     "september", "october", "november", "december"], start=1)}
_MONTH_ABBR = {m[:3]: i for m, i in _MONTHS.items()}
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


def find_sources(query: str, known_sources: Iterable[str]) -> list[str]:
    """Known publisher names that the query mentions, as whole words.

    Case matters: publishers are proper names, and "on the verge of" must not
    match The Verge. A leading "The" is optional ("reported by Verge").
    """
    found = []
    for source in known_sources:
        name = source.strip()
        if len(name) < 3:
            continue
        variants = {name}
        if name.startswith("The ") and len(name) > 7:
            variants.add(name[4:])
        if any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", query) for v in variants):
            found.append(source)
    return found


def query_hints(query: str, known_sources: Iterable[str]) -> QueryHints:
    """Everything the query says about which articles it wants."""
    days, months = find_dates(query)
    return QueryHints(sources=find_sources(query, known_sources), days=days, months=months)
