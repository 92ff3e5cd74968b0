"""Dates of a timeline: publication times from metadata, dates a sentence names.

A sentence's *stated* date is a date expression it contains ("on Tuesday",
"yesterday", "October 12", "Oct. 12, 2023", "12 October") resolved against the
article's publication time by ``dateparser`` (the expressions are found by a
small pattern; reading them is the library's job). A day and month without a
year take the year that puts them nearest the publication date; a bare
weekday is the latest such day on or before it (news reports mostly what has
happened), the next one when the words before it look ahead ("will meet on
Tuesday", "come Tuesday", "is set for Friday"), the day itself when it is the
publication's weekday. Expressions that name less than a day ("in October", "last week")
are not dates of a development and are ignored. Nothing here reads a file's
modification time: an article without a publication date has none.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
DATE_EXPRESSION = re.compile(
    rf"\b(?:(?P<md>{_MONTH}\s+{_DAY}(?:,?\s+(?P<y1>(?:19|20)\d\d))?)"
    rf"|(?P<dm>{_DAY}\s+{_MONTH}(?:,?\s+(?P<y2>(?:19|20)\d\d))?)"
    rf"|(?P<wd>(?:(?:last|next|this)\s+)?{_WEEKDAY})"
    rf"|(?P<rel>yesterday|today|tomorrow))\b")

# Words before a weekday that put it ahead of the publication ("will meet on Tuesday", "come Tuesday").
_FUTURE = re.compile(r"\b(?:will|come|set (?:for|to)|scheduled|expected|due|plans? to|is to|are to|begins?|starts?)\b"
                     r"[^.;]*$", re.I)


def published_datetime(published_at: str | None) -> datetime | None:
    """The publication time as an aware datetime (UTC when no zone is given), or None."""
    if not published_at:
        return None
    try:
        moment = datetime.fromisoformat(published_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stated_date(sentence: str, published: datetime | None) -> date | None:
    """The first date ``sentence`` names, resolved against ``published`` (see module doc).

    None when the sentence names no full date, or names one relative to a
    publication time that is unknown.
    """
    if published is None:
        return None
    import dateparser

    base = published.replace(tzinfo=None)
    for match in DATE_EXPRESSION.finditer(sentence):
        text = match.group(0)
        if match.group("md") or match.group("dm"):
            has_year = bool(match.group("y1") or match.group("y2"))
            found = _parse(dateparser, text, base, "current_period")
            if found is None:
                continue
            if not has_year:
                found = _nearest_year(found, base.date())
            return found
        if match.group("wd") and text.lower() == base.strftime("%A").lower():
            return base.date()  # "on Tuesday" in Tuesday's paper is that day
        ahead = text.lower().startswith("next") or (
            match.group("wd") and not text.lower().startswith("last")
            and _FUTURE.search(sentence[max(0, match.start() - 60):match.start()]))
        found = _parse(dateparser, text, base, "future" if ahead else "past")
        if found is not None:
            return found
    return None


def _parse(dateparser, text: str, base: datetime, prefer: str) -> date | None:
    settings = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": prefer, "RETURN_AS_TIMEZONE_AWARE": False,
                "REQUIRE_PARTS": ["day"] if text[0].isdigit() or text[:3].lower() in _MONTH_STARTS else []}
    parsed = dateparser.parse(text.replace(".", ""), languages=["en"], settings=settings)
    return parsed.date() if parsed else None


_MONTH_STARTS = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}


def _nearest_year(found: date, published: date) -> date:
    """``found``'s day and month in the year that puts it nearest ``published``, a date
    more than 90 days ahead only when no earlier one is nearer than a year."""
    options = []
    for year in (published.year - 1, published.year, published.year + 1):
        try:
            options.append(found.replace(year=year))
        except ValueError:  # February 29
            continue
    plausible = [d for d in options if (d - published).days <= 90] or options
    return min(plausible, key=lambda d: (abs((d - published).days), d))


def delay_text(seconds: float) -> str:
    """A follower's delay after the first report: "+0 h", "+14 h", "+3 days"."""
    hours = seconds / 3600
    if hours < 48:
        return f"+{round(hours)} h"
    days = round(hours / 24)
    return f"+{days} days"

