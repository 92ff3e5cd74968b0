"""Relative dates in questions, resolved against the articles' own dates.

"The latest report", "last week", "before October", "after November 5, 2023",
"since September": a news question often places what it asks in time. The
reference "now" is the newest article's date (a collection of news is read as
of its last article), or today when the question says "today" or "this
week" and no article is that recent. :func:`date_range` returns the range of
publication dates the question asks about, or None; ``latest`` marks a
question that wants the most recent reports. The pipeline searches within the
range once more (rag.answer.evidence) and orders the sources of a "latest"
question newest first.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.search.query_hints import MONTHS

_MONTH_RE = r"(" + "|".join(MONTHS) + r")"
_LATEST = re.compile(r"\b(?:latest|most recent|newest|most recently|last (?:report|article|story))\b", re.I)
_LAST_SPAN = re.compile(r"\b(?:last|past|previous)\s+(week|month|(\d{1,2})\s+days)\b", re.I)
_THIS_SPAN = re.compile(r"\bthis\s+(week|month)\b", re.I)
_BOUND = re.compile(rf"\b(before|after|since|until|prior to)\s+(?:the\s+(?:start|end)\s+of\s+)?{_MONTH_RE}"
                    rf"(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?)?(?:,?\s+(\d{{4}}))?", re.I)


@dataclass
class DateRange:
    """Publication dates a question asks about (either end may be open)."""

    since: date | None = None
    until: date | None = None
    latest: bool = False


def date_range(question: str, newest: date | None, today: date | None = None) -> DateRange | None:
    """The dates ``question`` places itself in, relative to ``newest`` (see module doc)."""
    today = today or date.today()
    now = newest or today
    out = DateRange(latest=bool(_LATEST.search(question)))
    span = _LAST_SPAN.search(question) or _THIS_SPAN.search(question)
    if span:
        unit = span.group(1).lower()
        days = 7 if unit == "week" else 31 if unit == "month" else int(span.group(2))
        out.since, out.until = now - timedelta(days=days), now
    for match in _BOUND.finditer(question):
        word, month = match.group(1).lower(), MONTHS[match.group(2).lower()]
        year = int(match.group(4)) if match.group(4) else _year_for(month, now)
        day = int(match.group(3)) if match.group(3) else None
        try:
            first = date(year, month, day or 1)
            last = date(year, month, day or calendar.monthrange(year, month)[1])
        except ValueError:
            continue
        if word in ("before", "prior to"):
            out.until = first - timedelta(days=1)
        elif word == "until":
            out.until = last
        elif word == "after":
            out.since = last + timedelta(days=1)
        else:  # since
            out.since = first
    if out.since is None and out.until is None and not out.latest:
        return None
    return out


def _year_for(month: int, now: date) -> int:
    """The year of a month named without one: the latest such month not after ``now``."""
    return now.year if month <= now.month else now.year - 1
