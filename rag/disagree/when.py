"""Dates of developments in a sentence, resolved against the article's publication date.

Candidates are found with a regular expression ("November 17, 2023", "Nov. 17",
"17 November", "in January", "on Tuesday", "yesterday", "in 2021", "2023-11-17")
and each is resolved by dateparser's ``DateDataParser`` with the publication date
as ``RELATIVE_BASE``, so "Tuesday" in an article of Thursday 5 October 2023 is
3 October 2023 and "Nov. 17" without a year is the latest 17 November not after
publication (the next one when the sentence speaks of the future: "will", "next",
"scheduled"). dateparser also says the precision ("day", "month", "year"); two
dates are compared only at the coarser of the two. Without a publication date a
date that names no year is not resolved (never guessed).

dateparser's own ``search_dates`` over a whole sentence was measured slower than
the whole budget of the check (docs/disagreements.md), hence the candidates first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_CANDIDATE = re.compile(
    rf"\b(?:{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\.?\s+\d{{4}}"
    rf"|(?<=\bin\s){_MONTH}\b|(?<=\bon\s){_WEEKDAY}\b|(?<=\blast\s){_WEEKDAY}\b"
    rf"|yesterday|(?:(?<=\bin\s)|(?<=\bsince\s))(?:1[89]|20)\d\d\b(?![-–/]\d)"
    rf"|(?:19|20)\d\d-[01]\d-[0-3]\d)(?!\w)")
_SIGNATURE = re.compile(r"\(@\w+\)\s*$|pic\.twitter\.com/\S+\s*$|^\W*(?:Updated|Published|Posted)\b", re.I)
_FUTURE = re.compile(r"\b(?:will|next|scheduled|set to|expected to|plans? to|upcoming|due to)\b", re.I)
_MONTH_WORD = re.compile(_MONTH, re.I)
_ORDER = {"year": 0, "month": 1, "day": 2}


@dataclass(frozen=True)
class When:
    """One resolved date mention: ``day`` (the first day of a month or year at coarser
    ``precision``), as written (``surface`` at ``start:end``)."""

    day: date
    precision: str  # "day", "month" or "year"
    surface: str
    start: int
    end: int

    @property
    def year_written(self) -> bool:
        """False when the year was inferred from the publication date ("Nov. 17")."""
        return _names_year(self.surface)

    @property
    def relative(self) -> bool:
        """True for a date read from the publication day alone ("Wednesday", "yesterday"):
        no month and no year written."""
        return not _names_year(self.surface) and not _MONTH_WORD.search(self.surface)

    def key(self, precision: str) -> str:
        """The date at ``precision``: "2023-10-03", "2023-10" or "2023"."""
        return self.day.isoformat()[: {"year": 4, "month": 7, "day": 10}[precision]]


def coarser(a: str, b: str) -> str:
    """The coarser of two precisions."""
    return a if _ORDER[a] <= _ORDER[b] else b


def published_day(published_at: str | None) -> date | None:
    """The publication day of an ISO timestamp, or None."""
    if not published_at:
        return None
    try:
        return datetime.fromisoformat(str(published_at).replace("Z", "+00:00")).date()
    except ValueError:
        return None


@lru_cache(maxsize=256)
def _parser(base: date | None, future: bool):
    from dateparser.date import DateDataParser

    settings = {"PREFER_DATES_FROM": "future" if future else "past", "PREFER_DAY_OF_MONTH": "first",
                "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = datetime(base.year, base.month, base.day, 12)
    return DateDataParser(languages=["en"], settings=settings)


def _nearest_year(day: date, base: date) -> date:
    """``day`` moved to the year that puts it nearest the publication day: "24 November"
    in an article of 6 November 2023 is 24 November 2023 (dateparser's "past" preference
    alone would say 2022)."""
    options = []
    for year in (base.year - 1, base.year, base.year + 1):
        try:
            options.append(day.replace(year=year))
        except ValueError:  # 29 February
            continue
    return min(options, key=lambda d: abs((d - base).days)) if options else day


def _names_year(surface: str) -> bool:
    return bool(re.search(r"\d{4}", surface))


def dates_in(sentence: str, published_at: str | None) -> list[When]:
    """The dates ``sentence`` states, resolved against ``published_at`` (see module doc)."""
    base = published_day(published_at)
    found = list(_CANDIDATE.finditer(sentence))
    if not found:
        return []
    parser = _parser(base, bool(_FUTURE.search(sentence)))
    out = []
    for m in found:
        surface = m.group(0)
        if _SIGNATURE.search(sentence[max(0, m.start() - 40):m.start()]):
            continue  # "— Optus Sport (@OptusSport) December 7, 2023": when a post was made
        if base is None and not _names_year(surface):
            continue  # "Tuesday" of an undated article: not resolvable, never guessed
        try:
            data = parser.get_date_data(surface.rstrip("."))
        except (ValueError, OverflowError, TypeError):
            continue
        if data is None or data.date_obj is None:
            continue
        precision = data.period if data.period in _ORDER else "day"
        day = data.date_obj.date()
        if base is not None and precision == "day" and not _names_year(surface) and _MONTH_WORD.search(surface):
            day = _nearest_year(day, base)
        if precision == "month":
            day = day.replace(day=1)
        elif precision == "year":
            day = day.replace(month=1, day=1)
        out.append(When(day, precision, surface, m.start(), m.end()))
    return out
