"""Articles: the `Article` record, loaders by file type and news clean-up."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

import frontmatter
import yaml
from dateutil import parser as dateparser

from rag.errors import ArticleError


@dataclass(frozen=True)
class Article:
    """One news article as loaded from disk.

    ``id`` is stable across edits (it comes from the url, or from the file path
    and position when there is no url), so an edited article is *updated* in the
    index rather than removed and added. ``content_hash`` changes with any edit.
    """

    id: str
    title: str
    body: str
    source: str | None = None
    published_at: str | None = None  # ISO-8601, as found or normalised
    url: str | None = None
    author: str | None = None
    path: str | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def content_hash(self) -> str:
        """sha256 over every field that ends up in a passage."""
        h = hashlib.sha256()
        for part in (self.title, self.body, self.source, self.published_at, self.url, self.author):
            h.update((part or "").encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()


def article_id_for(key: str) -> str:
    """A short stable id from a url or a path-based key."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

log = logging.getLogger(__name__)

#: File suffixes that are loaded, and the parser each one goes through.
SUPPORTED_SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
}
DEFAULT_MAX_BYTES = 20_000_000  # 20 MB
_SNIFF_BYTES = 8192

# Field names found in the wild, in order of preference (matched ignoring case).
BODY_KEYS = ("body", "text", "content", "article", "maintext")
TITLE_KEYS = ("title", "headline")
SOURCE_KEYS = ("source", "publisher", "site_name", "sitename", "outlet")
DATE_KEYS = ("published_at", "date", "published", "publication_date", "pubDate", "datetime")
URL_KEYS = ("url", "link")
AUTHOR_KEYS = ("author", "authors", "byline")


@dataclass
class LoadResult:
    """What a load produced: the articles, and one error per thing skipped."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[ArticleError] = field(default_factory=list)


class _Skip(Exception):
    """Internal: this file or item is skipped; the message is the reason."""


class _Loaded(NamedTuple):
    article: Article
    where: str  # how a "duplicate of ..." message names it
    error_path: str  # the path an error about it carries
    error_prefix: str  # e.g. "item 3: "


def load_path(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load one article file, or every supported file under a folder."""
    return load_paths([path], max_bytes=max_bytes)


def load_paths(
    paths: Iterable[str | os.PathLike], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> LoadResult:
    """Load articles from files and folders; bad files are reported, not fatal.

    Folders are walked recursively in sorted order without following symlinked
    folders; hidden files and folders and unsupported suffixes are ignored.
    Ids come from the url, else from the path relative to the folder given
    (plus ``#index`` for items of a JSON list or JSONL file), so moving the
    whole folder keeps them. When two articles share an id the first is kept
    and the later one is reported as a duplicate.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    result = LoadResult()
    first_seen: dict[str, str] = {}
    for given in paths:
        for entry in _files_under(Path(given)):
            if isinstance(entry, ArticleError):
                result.skipped.append(entry)
                continue
            file, key = entry
            loaded, errors = _load_file(file, key, max_bytes)
            result.skipped.extend(errors)
            for item in loaded:
                first = first_seen.get(item.article.id)
                if first is not None:
                    result.skipped.append(ArticleError(
                        item.error_path,
                        f"{item.error_prefix}duplicate of {first} (same id "
                        f"{item.article.id}: same url or same file); remove one copy",
                    ))
                    continue
                first_seen[item.article.id] = item.where
                result.articles.append(item.article)
    return result


def _files_under(given: Path) -> Iterator[tuple[Path, str] | ArticleError]:
    """Yield (file, key relative to the load root) pairs, or errors."""
    if given.is_file():
        if given.suffix.lower() not in SUPPORTED_SUFFIXES:
            yield ArticleError(str(given), f"unsupported file type {given.suffix or '(none)'}; "
                               f"use one of {', '.join(SUPPORTED_SUFFIXES)}")
        else:
            yield given, given.name
        return
    if not given.is_dir():
        yield ArticleError(str(given), "no such file or folder; check the path")
        return
    walk_errors: list[OSError] = []
    for dirpath, dirnames, filenames in os.walk(given, followlinks=False, onerror=walk_errors.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            file = Path(dirpath) / name
            yield file, file.relative_to(given).as_posix()
    for err in walk_errors:
        yield ArticleError(str(err.filename or given),
                           f"cannot list this folder ({err.strerror}); check its permissions")


def _load_file(path: Path, key: str, max_bytes: int) -> tuple[list[_Loaded], list[ArticleError]]:
    """Parse one file into articles; every problem becomes an ArticleError."""
    name = str(path)
    kind = SUPPORTED_SUFFIXES[path.suffix.lower()]
    try:
        text = _read_text(path, max_bytes)
        if kind == "jsonl":
            return _load_jsonl(text, name, key)
        if kind == "json":
            return _load_json(text, name, key)
        parse = {"text": _parse_text, "markdown": _parse_markdown, "html": _parse_html}[kind]
        article = _to_article(parse(text), path=name, key=key, title_fallback=path.stem)
    except _Skip as exc:
        return [], [ArticleError(name, str(exc))]
    return [_Loaded(article, name, name, "")], []


def _read_text(path: Path, max_bytes: int) -> str:
    """The file as text, or _Skip with a reason that says what to do."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _Skip(f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit; "
                        "split it into smaller files (one article per file, or several "
                        ".jsonl files) or raise max_bytes")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise _Skip("cannot read the file (permission denied); make it readable, "
                    "e.g. chmod a+r") from None
    except OSError as exc:
        raise _Skip(f"cannot read the file ({exc.strerror or exc}); "
                    "check that it exists and is readable") from None
    if len(data) > max_bytes:
        raise _Skip(f"file is over the {max_bytes / 1e6:g} MB limit; split it into smaller files")
    if not data.strip():
        raise _Skip("file is empty; put the article text in it or delete it")
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise _Skip("looks like a binary file (it contains NUL bytes), not text; remove it "
                    "or convert it to UTF-8 text (UTF-16 text must be re-saved as UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Skip(f"not valid UTF-8; re-save the file as UTF-8 (first bad byte "
                    f"0x{data[exc.start]:02x} at offset {exc.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise _Skip("file is empty; put the article text in it or delete it")
    return text


# -- one parser per format: each returns a record for _to_article -----------


def _parse_text(text: str) -> dict:
    """Plain text: the first non-empty line is the title, the rest the body."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip())
    body = "\n".join(lines[start + 1:])
    if not body.strip():
        raise _Skip("no body text after the title line; the first line is the title "
                    "and the article text goes below it")
    return {"title": lines[start].strip(), "body": body}


_H1 = re.compile(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.MULTILINE)


def _parse_markdown(text: str) -> dict:
    """Markdown with optional YAML front matter for the metadata.

    The title comes from the front matter, else from the first ``# heading``
    (which then leaves the body), else the caller uses the file stem.
    """
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise _Skip(f"invalid YAML front matter ({reason}); fix the block between "
                    "the '---' lines") from None
    meta = {str(k): _jsonable(v) for k, v in post.metadata.items()}
    content = post.content
    _, title = _lookup(meta, TITLE_KEYS)
    heading = _H1.search(content)
    if heading and title is None:
        meta["title"] = heading.group(1).strip()
        content = _drop_line(content, heading)
    elif heading and not content[:heading.start()].strip() \
            and heading.group(1).strip() == str(title).strip():
        content = _drop_line(content, heading)  # a first line that repeats the title
    if not content.strip():
        raise _Skip("no body text below the front matter and title; add the article text")
    return {"body": content, **{k: v for k, v in meta.items() if k.lower() != "body"}}


def _drop_line(text: str, match: re.Match) -> str:
    return text[:match.start()] + text[match.end() + 1:]


def _parse_html(text: str) -> dict:
    """An HTML page: main text and metadata through trafilatura."""
    import trafilatura  # slow to import; only HTML needs it

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    lines = [line.strip() for line in (getattr(doc, "text", None) or "").split("\n")]
    lines = [line for line in lines if line]
    title = getattr(doc, "title", None)
    if lines and title and lines[0] == title.strip():
        lines = lines[1:]  # the <h1> headline repeats the title
    if not lines:
        raise _Skip("no main article text found in the HTML; save the article page itself "
                    "(not an index, login or script-only page) or convert it to .txt or .md")
    record = {
        "title": title,
        "author": getattr(doc, "author", None),
        "source": getattr(doc, "sitename", None),
        "published_at": _html_published_time(text) or getattr(doc, "date", None),
        "url": getattr(doc, "url", None),
        "body": "\n\n".join(lines),
    }
    if getattr(doc, "description", None):
        record["description"] = doc.description
    return {k: v for k, v in record.items() if v}


def _html_published_time(text: str) -> str | None:
    """The publication time from the page's meta tags, with its time of day.

    trafilatura's date has no time of day; the meta tag usually has one.
    """
    import lxml.html

    try:
        tree = lxml.html.fromstring(text.encode("utf-8"))
    except (ValueError, lxml.etree.LxmlError):
        return None
    for xpath in ('//meta[@property="article:published_time"]/@content',
                  '//meta[@property="og:published_time"]/@content',
                  '//meta[@itemprop="datePublished"]/@content',
                  '//meta[@name="pubdate" or @name="publish-date" or @name="date"]/@content'):
        values = tree.xpath(xpath)
        if values and values[0].strip():
            return values[0].strip()
    return None


def _load_json(text: str, name: str, key: str) -> tuple[list[_Loaded], list[ArticleError]]:
    """A JSON file: one article object, or a list of them."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise _Skip("JSON is nested too deeply to read; flatten it "
                    "(one object per article, or a list of them)") from None
    except json.JSONDecodeError as exc:
        hint = ("; if it holds one JSON object per line, name it .jsonl"
                if exc.msg == "Extra data" else "; fix the file (a JSON validator shows the spot)")
        raise _Skip(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None
    if isinstance(data, dict):
        try:
            article = _to_article(data, path=name, key=key, title_fallback=Path(name).stem)
        except _Skip as exc:
            return [], [ArticleError(name, str(exc))]
        return [_Loaded(article, name, name, "")], []
    if not isinstance(data, list):
        raise _Skip(f"the top level is {_type_name(data)}; it must be an article object "
                    "or a list of article objects")
    loaded, errors = [], []
    for index, item in enumerate(data):
        prefix = f"item {index}: "
        try:
            article = _item_to_article(item, path=name, key=f"{key}#{index}",
                                       title_fallback=f"{Path(name).stem} #{index}")
        except _Skip as exc:
            errors.append(ArticleError(name, f"{prefix}{exc}"))
            continue
        loaded.append(_Loaded(article, f"{name} (item {index})", name, prefix))
    return loaded, errors


def _load_jsonl(text: str, name: str, key: str) -> tuple[list[_Loaded], list[ArticleError]]:
    """A JSONL file: one article object per line; a bad line skips only itself."""
    loaded, errors = [], []
    index = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            try:
                item = json.loads(line)
            except RecursionError:
                raise _Skip("JSON is nested too deeply to read; flatten this line") from None
            except json.JSONDecodeError as exc:
                raise _Skip(f"malformed JSON at column {exc.colno}: {exc.msg}; fix or remove "
                            "this line (each line must be one complete JSON object)") from None
            article = _item_to_article(item, path=name, key=f"{key}#{index}",
                                       title_fallback=f"{Path(name).stem} #{index}")
        except _Skip as exc:
            errors.append(ArticleError(where, str(exc)))
        else:
            loaded.append(_Loaded(article, where, where, ""))
        index += 1
    return loaded, errors


# -- from a record (dict of fields) to an Article ---------------------------


def _item_to_article(item: Any, *, path: str, key: str, title_fallback: str) -> Article:
    if not isinstance(item, dict):
        raise _Skip(f"expected an article object, got {_type_name(item)}")
    return _to_article(item, path=path, key=key, title_fallback=title_fallback)


def _to_article(record: dict, *, path: str, key: str, title_fallback: str) -> Article:
    """Map common field names onto an Article; a field of the wrong type is a _Skip."""
    used: set[str] = set()

    def pick(aliases: tuple[str, ...]) -> tuple[str, Any]:
        found_key, value = _lookup(record, aliases)
        lowered = {a.lower() for a in aliases}
        used.update(k for k in record if k == found_key
                    or (str(k).lower() in lowered and record[k] in (None, "", [])))
        return found_key or aliases[0], value

    body_key, body = pick(BODY_KEYS)
    if isinstance(body, list) and all(isinstance(p, str) for p in body):
        body = "\n\n".join(body)
    if body is not None and not isinstance(body, str):
        raise _Skip(f"field '{body_key}' must be text or a list of paragraphs (text), "
                    f"got {_type_name(body)}; fix the value")
    body = clean_body(body or "")
    if not body.strip():
        raise _Skip(f"no body text (looked for {', '.join(BODY_KEYS)}); add the article text")

    title = _text(*pick(TITLE_KEYS)) or title_fallback
    source = _text(*pick(SOURCE_KEYS), allow_name=True)
    url = _text(*pick(URL_KEYS))
    author = _authors(*pick(AUTHOR_KEYS))
    date_key, raw_date = pick(DATE_KEYS)
    published_at = normalise_date(raw_date)
    if raw_date not in (None, "") and published_at is None:
        log.warning("%s: dropped the unparseable date %r (field '%s')", path, raw_date, date_key)

    extra = {k: v for k, v in record.items() if k not in used}
    return Article(
        id=article_id_for(url or key),
        title=title,
        body=body,
        source=source,
        published_at=published_at,
        url=url,
        author=author,
        path=path,
        extra=extra,
    )


def _lookup(record: dict, aliases: tuple[str, ...]) -> tuple[str | None, Any]:
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
        raise _Skip(f"field '{key}' must be text, got {_type_name(value)}; fix the value")
    return value.strip() or None


def _authors(key: str, value: Any) -> str | None:
    """Author text from a string, a {"name": ...} or a list of either."""
    items = value if isinstance(value, list) else [value]
    names = [_text(key, item, allow_name=True) for item in items]
    return ", ".join(n for n in names if n) or None


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "text", type(None): "null"}.get(
        type(value), type(value).__name__)


def _jsonable(value: Any) -> Any:
    """YAML values (dates...) as JSON-friendly values, for ``extra``."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


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


# ---------------------------------------------------------------------------
# News clean-up
# ---------------------------------------------------------------------------

# A line alone that opens a "Read more" promo block (caption + related headline).
_READ_MORE_ALONE = re.compile(r"read more", re.IGNORECASE)

_SHARE_BUTTON = (r"(?:facebook|twitter|x|whatsapp|reddit|e-?mail|linkedin|pinterest|flipboard"
                 r"|messenger|telegram|share|copy link|print)")
# Whole lines (stripped) that are promos, not story; matched ignoring case.
_PROMO_LINES_ANY_CASE = [
    r"read more\s*:.*",                                   # READ MORE: headline / Read more:
    r"read more (?:on|about|from) [^.!?]{1,80}:",          # Read more on ski holidays:
    r"related(?: stories| articles| content| coverage| reading| links| pages)?\s*:.*",
    r"see (?:more|also)\s*:.*",
    r"advertisement(?:\s*[-–—:|]?\s*(?:article|story|content) continues below(?: this)?"
    r"(?: ad(?:vertisement)?)?)?",
    r"(?:article|story|content) continues below(?: this)? ad(?:vertisement)?",
    r"(?:sign up|subscribe) (?:to|for|now|here)\b.{0,150}\b(?:newsletters?|inbox|e-?mails?|alerts?)\b.*",
    r"skip past newsletter promotion.*",
    r"click here\b.*",
    r"app users:? click here",
    r"like what you(?:'|’)re reading\?.*",
    r"follow us (?:on|at)\b.*",
    r"share (?:this|the) (?:article|story|post|page)\b.*",
    rf"{_SHARE_BUTTON}(?:\s+{_SHARE_BUTTON})+",          # a row of share buttons
    r"(?:image|photo|photograph|picture|pic|(?:image|photo) credit|photo illustration)s?\s*:.*",
    r"\(\s*(?:top |main |lead |header )?(?:photo|image|picture)s?\b.*\)",   # (Photo by ...)
    r"(?:photo|image|picture)s?\s+(?:by|courtesy of|credit)\b.{0,100}(?<![.!?])",
    r"embed from getty images",
]
_NAME = r"[A-Z][\w.'’&-]*"
_PROMO_LINES_EXACT_CASE = [
    # a credit alone: "Getty Images", "(AFP via Getty Images)", "Jane Doe / Reuters"
    rf"\(?(?:(?:{_NAME}\s+)*{_NAME}\s*(?:/|\||\bvia\b)\s*)*(?:Getty Images|Getty|Shutterstock"
    rf"|Alamy|AP Photo|AFP|AP|Reuters|EPA)(?:\s+file)?\)?",
    r"GO DEEPER\b.*",                                      # The Athletic's related link
]
_PROMO_ANY_CASE = re.compile("|".join(f"(?:{p})" for p in _PROMO_LINES_ANY_CASE), re.IGNORECASE)
_PROMO_EXACT_CASE = re.compile("|".join(f"(?:{p})" for p in _PROMO_LINES_EXACT_CASE))
# A caption whose last words are the photo credit.
_CAPTION_CREDIT_END = re.compile(
    r"(?:\bPhotograph:\s*[^.!?]{1,80}|\bCredit:\s*[^.!?]{1,40}|\((?:[^()]*\s)?Getty(?: Images)?\)"
    r"|\bvia Getty Images(?: file)?)$")
# "By Jane Doe", "By Chad Jennings, C. Trent Rosecrans and Stephen J. Nesbitt"
_BYLINE = re.compile(
    rf"(?:By|BY):?\s+{_NAME}(?:\s+{_NAME})*(?:(?:\s*,|\s+(?:and|&|\||[–—-]))\s+{_NAME}(?:\s+{_NAME})*)*")
_MAX_PROMO_LINE = 500  # longer lines are paragraphs, never promos
_MAX_BLOCK_LINE = 300  # "Read more" block: caption and headline are short


def clean_body(text: str) -> str:
    """Drop the lines of a news body that are not part of the story.

    Only whole lines go: promo lines ("READ MORE: ...", "Advertisement",
    "Sign up for our newsletter ...", share rows), photo captions and credits,
    a "By Jane Doe" byline at the very top, and the "Read more" block (the
    line "Read more", then up to 3 short lines until the next blank line: a
    photo caption and the related headline). Every kept line is unchanged;
    runs of blank lines become one blank line. A sentence that merely
    contains "read more" stays: patterns match whole lines from their start.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    seen_content = False
    i = 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        i += 1
        if not stripped:
            kept.append("")
            continue
        if _READ_MORE_ALONE.fullmatch(stripped):
            i = _end_of_read_more_block(lines, i)
            continue
        at_top, seen_content = not seen_content, True
        if (at_top and len(stripped) <= 120 and _BYLINE.fullmatch(stripped)) or _is_promo(stripped):
            continue
        kept.append(line)
    return _collapse_blank_lines(kept)


def _is_promo(stripped: str) -> bool:
    if len(stripped) > _MAX_PROMO_LINE:
        return False
    return bool(_PROMO_ANY_CASE.fullmatch(stripped) or _PROMO_EXACT_CASE.fullmatch(stripped)
                or (len(stripped) < _MAX_BLOCK_LINE and _CAPTION_CREDIT_END.search(stripped)))


def _end_of_read_more_block(lines: list[str], start: int) -> int:
    """Where the lines after "Read more" end: past the block, or ``start``.

    The block is the lines up to the next blank line (after skipping blank
    lines right after "Read more"); it goes only when it is 1 to 3 lines,
    each shorter than 300 characters. Otherwise only "Read more" goes.
    """
    j = start
    while j < len(lines) and not lines[j].strip():
        j += 1
    block_start = j
    while j < len(lines) and lines[j].strip():
        j += 1
    block = lines[block_start:j]
    if 1 <= len(block) <= 3 and all(len(line) < _MAX_BLOCK_LINE for line in block):
        return j
    return start


def _collapse_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
