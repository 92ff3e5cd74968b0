"""Article loaders by file type: files and folders in, `rag.types.Article` out.

The field mapping of records and date normalisation live in `rag.ingest.records`,
the news clean-up in `rag.ingest.cleaning`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

import frontmatter
import yaml

from rag.errors import ArticleError
from rag.ingest.records import (
    TITLE_KEYS,
    Skip,
    article_fields,
    jsonable,
    lookup,
    type_name,
)
from rag.ingest.text_header import split_header
from rag.types import Article


def article_id_for(key: str) -> str:
    """A short stable id from a url or a path-based key."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

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


@dataclass
class LoadResult:
    """What a load produced: the articles, and one error per thing skipped."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[ArticleError] = field(default_factory=list)


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
    except Skip as exc:
        return [], [ArticleError(name, str(exc))]
    return [_Loaded(article, name, name, "")], []


def _read_text(path: Path, max_bytes: int) -> str:
    """The file as text, or Skip with a reason that says what to do."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise Skip("not a regular file (a named pipe, device or socket); "
                       "remove it or replace it with the article file")
        if info.st_size > max_bytes:
            raise Skip(f"file is {info.st_size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit; "
                       "split it into smaller files (one article per file, or several "
                       ".jsonl files) or raise max_bytes")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except PermissionError:
        raise Skip("cannot read the file (permission denied); make it readable, "
                   "e.g. chmod a+r") from None
    except OSError as exc:
        raise Skip(f"cannot read the file ({exc.strerror or exc}); "
                   "check that it exists and is readable") from None
    if len(data) > max_bytes:
        raise Skip(f"file is over the {max_bytes / 1e6:g} MB limit; split it into smaller files")
    if not data.strip():
        raise Skip("file is empty; put the article text in it or delete it")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Skip("UTF-16 text, which is read as binary here (it starts with a UTF-16 "
                   "byte-order mark); re-save the file as UTF-8")
    if b"\x00" in data:
        raise Skip("looks like a binary file (it contains NUL bytes), not text; remove it "
                   "or convert it to UTF-8 text (UTF-16 text must be re-saved as UTF-8)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Skip(f"not valid UTF-8; re-save the file as UTF-8 (first bad byte "
                   f"0x{data[exc.start]:02x} at offset {exc.start})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise Skip("file is empty; put the article text in it or delete it")
    return text


# -- one parser per format: each returns a record for _to_article -----------


def _parse_text(text: str) -> dict:
    """Plain text: an optional ``Source:``/``Date:`` header block (rag.ingest.text_header),
    then the first non-empty line is the title, the rest the body."""
    header, text = split_header(text)
    lines = text.split("\n")
    if not any(line.strip() for line in lines):
        raise Skip("nothing after the header block; the title line and the article text go below it")
    start = next(i for i, line in enumerate(lines) if line.strip())
    body = "\n".join(lines[start + 1:])
    if not body.strip():
        raise Skip("no body text after the title line; the first line is the title "
                   "and the article text goes below it")
    return {"title": lines[start].strip(), **header, "body": body}


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
        raise Skip(f"invalid YAML front matter ({reason}); fix the block between "
                   "the '---' lines") from None
    meta = jsonable(post.metadata)
    content = post.content
    _, title = lookup(meta, TITLE_KEYS)
    heading = _H1.search(content)
    if heading and title is None:
        meta["title"] = heading.group(1).strip()
        content = _drop_line(content, heading)
    elif heading and not content[:heading.start()].strip() \
            and heading.group(1).strip() == str(title).strip():
        content = _drop_line(content, heading)  # a first line that repeats the title
    if not content.strip():
        raise Skip("no body text below the front matter and title; add the article text")
    return {"body": content, **{k: v for k, v in meta.items() if k.lower() != "body"}}


def _drop_line(text: str, match: re.Match) -> str:
    return text[:match.start()] + text[match.end() + 1:]


_NOSCRIPT = re.compile(r"<noscript\b.*?</noscript\s*>", re.IGNORECASE | re.DOTALL)


def _parse_html(text: str) -> dict:
    """An HTML page: main text and metadata through trafilatura."""
    try:
        import trafilatura  # slow to import; only HTML needs it
    except ImportError as exc:
        # Typically lxml_html_clean missing under jusText: only HTML files need it,
        # so only they are skipped.
        raise Skip(f"HTML articles need trafilatura and its parsers, which cannot be imported "
                   f"({exc}); install them with `pip install trafilatura lxml_html_clean`, "
                   "or convert this page to .txt or .md") from None

    text = _NOSCRIPT.sub("", text)  # "please enable JavaScript" is never the story
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    lines = [line.strip() for line in (getattr(doc, "text", None) or "").split("\n")]
    lines = [line for line in lines if line]
    title = getattr(doc, "title", None)
    if lines and title and lines[0] == title.strip():
        lines = lines[1:]  # the <h1> headline repeats the title
    if not lines:
        raise Skip("no main article text found in the HTML; save the article page itself "
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
        raise Skip("JSON is nested too deeply to read; flatten it "
                   "(one object per article, or a list of them)") from None
    except json.JSONDecodeError as exc:
        hint = ("; if it holds one JSON object per line, name it .jsonl"
                if exc.msg == "Extra data" else "; fix the file (a JSON validator shows the spot)")
        raise Skip(f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}") from None
    if isinstance(data, dict):
        try:
            article = _to_article(data, path=name, key=key, title_fallback=Path(name).stem)
        except Skip as exc:
            return [], [ArticleError(name, str(exc))]
        return [_Loaded(article, name, name, "")], []
    if not isinstance(data, list):
        raise Skip(f"the top level is {type_name(data)}; it must be an article object "
                   "or a list of article objects")
    if not data:
        raise Skip("the list is empty: no articles in it; add article objects or delete the file")
    loaded, errors = [], []
    for index, item in enumerate(data):
        prefix = f"item {index}: "
        try:
            article = _item_to_article(item, path=name, key=f"{key}#{index}",
                                       title_fallback=f"{Path(name).stem} #{index}")
        except Skip as exc:
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
                raise Skip("JSON is nested too deeply to read; flatten this line") from None
            except json.JSONDecodeError as exc:
                raise Skip(f"malformed JSON at column {exc.colno}: {exc.msg}; fix or remove "
                           "this line (each line must be one complete JSON object)") from None
            article = _item_to_article(item, path=name, key=f"{key}#{index}",
                                       title_fallback=f"{Path(name).stem} #{index}")
        except Skip as exc:
            errors.append(ArticleError(where, str(exc)))
        else:
            loaded.append(_Loaded(article, where, where, ""))
        index += 1
    return loaded, errors


# -- from a record (dict of fields) to an Article ---------------------------


def _item_to_article(item: Any, *, path: str, key: str, title_fallback: str) -> Article:
    if not isinstance(item, dict):
        raise Skip(f"expected an article object, got {type_name(item)}")
    return _to_article(item, path=path, key=key, title_fallback=title_fallback)


def _to_article(record: dict, *, path: str, key: str, title_fallback: str) -> Article:
    """The Article for a record; its id comes from the url, else from ``key``."""
    fields = article_fields(record, path=path, title_fallback=title_fallback)
    return Article(id=article_id_for(fields["url"] or key), path=path, **fields)
