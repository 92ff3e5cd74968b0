"""Records: map a dict of fields (JSON, front matter, parsed page) onto Article fields.

Field names found in the wild are matched ignoring case, in order of
preference; dates in any common shape are normalised to ISO-8601. A field of
the wrong type raises `Skip`, whose message says what to fix.
"""

from __future__ import annotations

import logging
import warnings
from datetime import date, datetime, timezone
from typing import Any

from dateutil import parser as dateparser

from rag.ingest.cleaning import clean_body

log = logging.getLogger(__name__)

# Field names found in the wild, in order of preference (matched ignoring case).
BODY_KEYS = ("body", "text", "content", "article", "maintext")
TITLE_KEYS = ("title", "headline")
SOURCE_KEYS = ("source", "publisher", "site_name", "sitename", "outlet")
DATE_KEYS = ("published_at", "date", "published", "publication_date", "pubDate", "datetime")
URL_KEYS = ("url", "link")
AUTHOR_KEYS = ("author", "authors", "byline")


class Skip(Exception):
    """This file or item is skipped; the message is the reason."""


def article_fields(record: dict, *, path: str, title_fallback: str) -> dict[str, Any]:
    """Map common field names onto Article fields; a field of the wrong type is a Skip.

    Returns ``title``, ``body``, ``source``, ``published_at``, ``url``,
    ``author`` and ``extra`` (the fields not used); the caller adds the id and
    the path.
    """
    used: set[str] = set()

    def pick(aliases: tuple[str, ...]) -> tuple[str, Any]:
        found_key, value = lookup(record, aliases)
        lowered = {a.lower() for a in aliases}
        used.update(k for k in record if k == found_key
                    or (str(k).lower() in lowered and record[k] in (None, "", [])))
        return found_key or aliases[0], value

    body_key, body = pick(BODY_KEYS)
    if isinstance(body, list) and all(isinstance(p, str) for p in body):
        body = "\n\n".join(body)
    if body is not None and not isinstance(body, str):
        raise Skip(f"field '{body_key}' must be text or a list of paragraphs (text), "
                   f"got {type_name(body)}; fix the value")
    body = clean_body(body or "")
    if not body.strip():
        raise Skip(f"no body text (looked for {', '.join(BODY_KEYS)}); add the article text")

    title = _text(*pick(TITLE_KEYS)) or title_fallback
    source = _text(*pick(SOURCE_KEYS), allow_name=True)
    url = _text(*pick(URL_KEYS))
    author = _authors(*pick(AUTHOR_KEYS))
    date_key, raw_date = pick(DATE_KEYS)
    published_at = normalise_date(raw_date)
    if raw_date not in (None, "") and published_at is None:
        log.warning("%s: dropped the unparseable date %r (field '%s')", path, raw_date, date_key)

    extra = {k: v for k, v in record.items() if k not in used}
    return {
        "title": title,
        "body": body,
        "source": source,
        "published_at": published_at,
        "url": url,
        "author": author,
        "extra": extra,
    }


def lookup(record: dict, aliases: tuple[str, ...]) -> tuple[str | None, Any]:
    """The first alias present (ignoring case) with a value that is not empty."""
    by_lower: dict[str, str] = {}
    for k in record:
        by_lower.setdefault(str(k).lower(), k)
    for alias in aliases:
        k = by_lower.get(alias.lower())
        if k is not None and record[k] not in (None, "", []):
            return k, record[k]
    return None, None


def _text(key: str, value: Any, *, allow_name: bool = False) -> str | None:
    """A text field, stripped; a dict {"name": ...} is allowed where asked."""
    if allow_name and isinstance(value, dict) and isinstance(value.get("name"), str):
        value = value["name"]
    if value is None:
        return None
    if not isinstance(value, str):
        raise Skip(f"field '{key}' must be text, got {type_name(value)}; fix the value")
    return value.strip() or None


def _authors(key: str, value: Any) -> str | None:
    """Author text from a string, a {"name": ...} or a list of either."""
    items = value if isinstance(value, list) else [value]
    names = [_text(key, item, allow_name=True) for item in items]
    return ", ".join(n for n in names if n) or None


MAX_META_VALUES = 10_000


def jsonable(metadata: dict, limit: int = MAX_META_VALUES) -> dict:
    """Front matter as JSON-friendly values (dates become ISO text); Skip if huge.

    YAML aliases let a few lines expand into billions of values (the "billion
    laughs" document); counting values as they are copied stops that early.
    """
    left = [limit]

    def copy(value: Any) -> Any:
        left[0] -= 1
        if left[0] < 0:
            raise Skip(f"front matter is too large (over {limit} values once YAML aliases are "
                       "expanded); keep only the article's metadata in it")
        if isinstance(value, (datetime, date)):
            return value.isoformat()
        if isinstance(value, dict):
            return {str(k): copy(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [copy(v) for v in value]
        return value

    return {str(k): copy(v) for k, v in metadata.items()}


def type_name(value: Any) -> str:
    """How an error message names the JSON type of a value."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(
        type(value), type(value).__name__)


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_H = 3600
_TZINFOS = {"UTC": 0, "GMT": 0, "Z": 0, "EST": -5 * _H, "EDT": -4 * _H, "CST": -6 * _H,
            "CDT": -5 * _H, "MST": -7 * _H, "MDT": -6 * _H, "PST": -8 * _H, "PDT": -7 * _H,
            "BST": 1 * _H, "CET": 1 * _H, "CEST": 2 * _H, "AEST": 10 * _H, "AEDT": 11 * _H}
_DEFAULT_A = datetime(2000, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2001, 2, 2, 1, 1, 1)


def normalise_date(value: Any) -> str | None:
    """ISO-8601 from a date in any common shape, or None if it cannot be read.

    ``YYYY-MM-DDTHH:MM:SS+00:00`` (converted to UTC; a time without a zone is
    taken as UTC) when the value has a time of day, else ``YYYY-MM-DD``. A
    value with no full date (``"2023"``, ``"March 2024"``) gives None rather
    than an invented day. Numbers are Unix timestamps (seconds, or
    milliseconds when very large).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return _iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return _iso_utc(datetime.fromtimestamp(seconds, tz=timezone.utc))
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # UnknownTimezoneWarning
            a = dateparser.parse(value, default=_DEFAULT_A, tzinfos=_TZINFOS)
            b = dateparser.parse(value, default=_DEFAULT_B, tzinfos=_TZINFOS)
    except (ValueError, OverflowError, TypeError):
        return None
    if (a.year, a.month, a.day) != (b.year, b.month, b.day):
        return None  # year, month or day missing
    if a.hour != b.hour:
        return a.date().isoformat()  # no time of day given
    return _iso_utc(a)


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()
