"""The SQLite rows of an index version: articles, and passages numbered like the vectors.

The one owner of the schema and of every query on it: the snapshot, the draft
and the tests' helpers call these functions, never SQL of their own.

A build writes the rows of new passages from Python objects and copies the
rows of unchanged articles' passages straight from the previous version's
database (``ATTACH``), so an incremental build never turns them into Python
objects. The lexical indexes then stream their texts back from the new
database, so no list of every passage text is ever held in memory.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import quote

from rag.index.passage_store import Revision, extra_json
from rag.types import Article, Passage

PassageRow = tuple[int, str, str, int, str | None, str | None]  # row, id, article id, ordinal, source, published_at

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, source TEXT,
    published_at TEXT, url TEXT, author TEXT, path TEXT, extra TEXT,
    content_hash TEXT NOT NULL
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, article_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL, text TEXT NOT NULL, header TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, token_count INTEGER NOT NULL,
    text_hash TEXT NOT NULL
);
CREATE INDEX passages_article ON passages(article_id);
CREATE TABLE revisions (
    n INTEGER PRIMARY KEY, article_id TEXT NOT NULL, seen_at TEXT NOT NULL, title TEXT NOT NULL,
    body TEXT NOT NULL, published_at TEXT
);
CREATE INDEX revisions_article ON revisions(article_id);
"""
_REVISION_COLUMNS = "article_id, seen_at, title, body, published_at"
_PASSAGE_COLUMNS = 'id, article_id, ordinal, text, header, start, "end", token_count, text_hash'
_BATCH = 10_000  # rows per query: far below SQLite's limit on query parameters


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an immutable database (no locks, no journal)."""
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def write_rows(path: Path, articles: Sequence[Article], plan: Sequence[Passage | int], old_db: Path | None,
               copied_articles: Sequence[str] = (), revisions: Sequence[Revision] = ()) -> None:
    """Write a new database: ``articles`` from Python objects and ``copied_articles`` (ids)
    from ``old_db``; ``plan[row]`` is a new Passage or the row of ``old_db`` to copy.

    The revisions of ``old_db`` whose article is in the new database are copied, in
    their order, and ``revisions`` follow them."""
    db = sqlite3.connect(path)
    try:
        # A new file in the work folder, flushed with the whole folder before it is published:
        # SQLite's own journal and syncs would only cost time.
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((a.id, a.title, a.body, a.source, a.published_at, a.url, a.author, a.path, extra_json(a),
              a.content_hash) for a in articles),
        )
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((row, p.id, p.article_id, p.ordinal, p.text, p.header, p.start, p.end, p.token_count, p.text_hash)
             for row, p in enumerate(plan) if not isinstance(p, int)),
        )
        copies = [(row, old) for row, old in enumerate(plan) if isinstance(old, int)]
        if old_db is not None:
            db.execute("ATTACH DATABASE ? AS old", (str(old_db),))
            db.executemany("INSERT INTO articles SELECT * FROM old.articles WHERE id = ?",
                           ((i,) for i in copied_articles))
            db.executemany(f"INSERT INTO passages SELECT ?, {_PASSAGE_COLUMNS} FROM old.passages WHERE row = ?",
                           copies)
            if _has_revisions(db, "old"):  # a version written before revisions were kept has none
                db.execute(f"INSERT INTO revisions ({_REVISION_COLUMNS}) SELECT {_REVISION_COLUMNS} FROM "
                           "old.revisions WHERE article_id IN (SELECT id FROM main.articles) ORDER BY n")
            db.commit()
            db.execute("DETACH DATABASE old")
        db.executemany(f"INSERT INTO revisions ({_REVISION_COLUMNS}) VALUES (?,?,?,?,?)",
                       ((r.article_id, r.seen_at, r.title, r.body, r.published_at) for r in revisions))
        db.commit()
        found = db.execute("SELECT count(*) FROM passages").fetchone()[0]
        if found != len(plan):
            raise RuntimeError(f"wrote {found} passage rows instead of {len(plan)}; the previous version lacks rows")
        found = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        if found != len(articles) + len(copied_articles):
            raise RuntimeError(f"wrote {found} articles instead of {len(articles) + len(copied_articles)}; "
                               "the previous version lacks articles")
    finally:
        db.close()


def stream_texts(path: Path, full: bool) -> Iterator[str]:
    """Every passage's text (with its header when ``full``) in row order, read lazily."""
    db = connect_read_only(path)
    try:
        query = "SELECT header, text FROM passages ORDER BY row"
        for header, text in db.execute(query):
            yield f"{header}\n{text}" if full else text
    finally:
        db.close()


def read_passages(db: sqlite3.Connection, rows: Sequence[int]) -> list[Passage]:
    """Passages (with their article's metadata) at ``rows``, in the given order."""
    found: dict[int, sqlite3.Row] = {}
    wanted = [int(x) for x in rows]
    for start in range(0, len(wanted), _BATCH):
        part = wanted[start:start + _BATCH]
        marks = ",".join("?" * len(part))
        found.update((r["row"], r) for r in db.execute(
            "SELECT p.*, a.title, a.source, a.published_at, a.url, a.author, a.extra, a.path FROM passages p "
            f"JOIN articles a ON a.id = p.article_id WHERE p.row IN ({marks})", part))
    return [passage_from_row(found[r]) for r in wanted]


def passage_from_row(row: sqlite3.Row) -> Passage:
    return Passage(
        id=row["id"], article_id=row["article_id"], ordinal=row["ordinal"], text=row["text"],
        header=row["header"], start=row["start"], end=row["end"], token_count=row["token_count"],
        title=row["title"], source=row["source"], published_at=row["published_at"], url=row["url"],
        author=row["author"], extra=json.loads(row["extra"] or "{}"),
        path=row["path"] if "path" in row.keys() else None,
    )


def passage_rows(db: sqlite3.Connection) -> list[PassageRow]:
    """Per passage in row order: row, id, article id, ordinal, and its article's source and date."""
    return db.execute(
        "SELECT p.row, p.id, p.article_id, p.ordinal, a.source, a.published_at FROM passages p "
        "JOIN articles a ON a.id = p.article_id ORDER BY p.row"
    ).fetchall()


def read_article(db: sqlite3.Connection, article_id: str) -> dict | None:
    """Every stored field of one article, body included, or None."""
    row = db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
    return dict(row) if row else None


def article_titles(db: sqlite3.Connection) -> list[str]:
    """Every article's title, in article id order."""
    return [r[0] for r in db.execute("SELECT title FROM articles ORDER BY id")]


def article_states(db: sqlite3.Connection) -> Iterator[tuple[str, str, str | None, str]]:
    """``(id, content hash, path, extra JSON)`` of every article, in stored order."""
    for row in db.execute("SELECT id, content_hash, path, extra FROM articles"):
        yield tuple(row)


def _has_revisions(db: sqlite3.Connection, schema: str = "main") -> bool:
    return db.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = 'revisions'"
                      ).fetchone() is not None


def read_revisions(db: sqlite3.Connection, article_id: str) -> list[Revision]:
    """The revisions of one article, oldest first."""
    if not _has_revisions(db):
        return []
    return [Revision(*row) for row in db.execute(
        f"SELECT {_REVISION_COLUMNS} FROM revisions WHERE article_id = ? ORDER BY n", (article_id,))]


def revision_counts(db: sqlite3.Connection) -> dict[str, int]:
    """Article id -> number of revisions, for the articles that have any."""
    if not _has_revisions(db):
        return {}
    return dict(db.execute("SELECT article_id, count(*) FROM revisions GROUP BY article_id").fetchall())


def passage_hashes(db: sqlite3.Connection) -> Iterator[tuple[str, str, str]]:
    """``(passage id, article id, text hash)`` of every passage, in row order."""
    for row in db.execute("SELECT id, article_id, text_hash FROM passages ORDER BY row"):
        yield tuple(row)
