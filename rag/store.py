"""The on-disk index: FAISS vectors, SQLite rows, BM25, and a manifest.

Layout of an index folder::

    CURRENT            name of the published version folder (replaced atomically)
    .lock              held by the one build that may run at a time
    v-<time>-<rand>/   one complete, immutable version
        manifest.json  format, embedder id and dim, chunking, counts, build time
        rows.sqlite    articles and passages (row n = vector n)
        vectors.faiss  dense vectors
        lexical/       BM25 over passages (bm25s)
        sentences/     BM25 over the passages' sentences

A build writes a new version folder beside the published one and then swaps
``CURRENT`` with ``os.replace``: readers see the old version or the new one,
never half of one, and a build killed at any point leaves ``CURRENT`` pointing
at a complete version. The previous version is kept so that a reader that read
``CURRENT`` just before a swap can still open it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from rag.articles import Article
from rag.chunking import Chunker, Passage
from rag.embedders import Embedder
from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from rag.lexical import LexicalIndex, SentenceLexicalIndex
from rag.vectors import FaissVectorIndex

FORMAT_VERSION = 2
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
ROWS = "rows.sqlite"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
SENTENCES = "sentences"

Progress = Callable[[str, int, int], None]

_SCHEMA = """
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
"""


@dataclass
class SyncReport:
    """What a build did; the ``--json`` output of ``rag index build``."""

    articles: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_passages: int = 0
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


class IndexSnapshot:
    """One published version of the index, opened read-only."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = _read_manifest(folder)
        db_path = folder / ROWS
        if not db_path.is_file():
            raise _corrupt(db_path, "the file is missing")
        try:
            self.db = sqlite3.connect(f"file:{db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            meta = self.db.execute(
                "SELECT p.row, p.article_id, a.source, a.published_at FROM passages p "
                "JOIN articles a ON a.id = p.article_id ORDER BY p.row"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _corrupt(db_path, str(exc)) from exc
        self.vectors = FaissVectorIndex.load(folder / VECTORS)
        self.lexical = LexicalIndex.load(folder / LEXICAL)
        self.sentences = SentenceLexicalIndex.load(folder / SENTENCES)
        n = self.manifest["counts"]["passages"]
        if not (len(meta) == n == len(self.vectors) == self.lexical.size == self.sentences.passages):
            raise _corrupt(folder, f"its parts disagree on the passage count ({len(meta)}, {len(self.vectors)}, {self.lexical.size}, manifest {n})")
        if [r[0] for r in meta] != list(range(n)):
            raise _corrupt(db_path, "passage rows are not numbered 0..n-1")
        self.article_ids = np.array([r[1] for r in meta], dtype=object)
        self.sources = np.array([r[2] or "" for r in meta], dtype=object)
        self.dates = np.array([(r[3] or "")[:10] for r in meta], dtype=object)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def embedder_id(self) -> str:
        return self.manifest["embedder"]["id"]

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """Passages (with article metadata) at ``rows``, in the given order."""
        if not len(rows):
            return []
        marks = ",".join("?" * len(rows))
        found = {
            r["row"]: r for r in self.db.execute(
                "SELECT p.*, a.title, a.source, a.published_at, a.url, a.author, a.extra FROM passages p "
                f"JOIN articles a ON a.id = p.article_id WHERE p.row IN ({marks})", [int(x) for x in rows],
            )
        }
        return [_passage_from_row(found[int(r)]) for r in rows]

    def article(self, article_id: str) -> dict | None:
        """The stored article (all fields and body) or None."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def list_sources(self) -> list[str]:
        """Distinct publishers in the index, sorted."""
        return sorted({s for s in self.sources if s})

    def sample_titles(self, n: int, seed: int = 0) -> list[str]:
        """Up to ``n`` article titles, deterministic for a seed."""
        titles = [r[0] for r in self.db.execute("SELECT title FROM articles ORDER BY id")]
        rng = np.random.default_rng(seed)
        picks = rng.permutation(len(titles))[:n]
        return [titles[i] for i in picks]

    def close(self) -> None:
        self.db.close()


class IndexStore:
    """An index folder: opens its published version and builds new ones."""

    def __init__(self, folder: Path | str, lock_timeout: float = 0.0):
        self.folder = Path(folder)
        self.lock_timeout = lock_timeout

    # reading -----------------------------------------------------------------
    def exists(self) -> bool:
        return (self.folder / CURRENT).is_file()

    def current_folder(self) -> Path:
        path = self.folder / CURRENT
        if not path.is_file():
            raise IndexMissingError(
                f"no index in {self.folder}: build one with `rag index build` "
                "(or point RAG_INDEX_DIR / --index at an existing index)"
            )
        name = path.read_text().strip()
        if not name.startswith("v-") or "/" in name:
            raise _corrupt(path, f"it names {name!r}, not a version folder")
        return self.folder / name

    def open(self, embedder_id: str | None = None) -> IndexSnapshot:
        """The published version; refuses one built by another embedder."""
        for attempt in range(3):
            folder = self.current_folder()
            if folder.is_dir() or attempt == 2:
                break
            time.sleep(0.05)  # a build swapped CURRENT and cleaned up meanwhile
        if not folder.is_dir():
            raise _corrupt(folder, "the published version folder is missing")
        snapshot = IndexSnapshot(folder)
        if embedder_id is not None and snapshot.embedder_id != embedder_id:
            built = snapshot.embedder_id
            snapshot.close()
            raise IndexMismatchError(
                f"the index in {self.folder} was built with embedder {built}, but the settings "
                f"ask for {embedder_id}. Rebuild it with `rag index build --full`, or set "
                "RAG_EMBEDDING__BACKEND / RAG_EMBEDDING__MODEL back to the embedder that built it"
            )
        return snapshot

    def info(self) -> dict:
        """Manifest plus on-disk size of the published version."""
        folder = self.current_folder()
        manifest = _read_manifest(folder)
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        return {**manifest, "path": str(folder), "size_bytes": size}

    # building ----------------------------------------------------------------
    def sync(
        self,
        articles: Sequence[Article],
        embedder: Embedder,
        chunker: Chunker,
        full: bool = False,
        progress: Progress | None = None,
        batch_size: int = 256,
    ) -> SyncReport:
        """Make the index match exactly ``articles`` and publish it atomically.

        New and changed articles are chunked and embedded (a passage whose text
        is unchanged keeps its vector), removed ones disappear, unchanged ones
        are copied. Raises IndexLockedError when another build runs.
        """
        started = time.perf_counter()
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / ".lock"))
        try:
            lock.acquire(timeout=self.lock_timeout)
        except Timeout:
            raise IndexLockedError(
                f"another build is running on {self.folder}; wait for it to finish and try again"
            ) from None
        try:
            report = self._sync_locked(articles, embedder, chunker, full, progress or _no_progress, batch_size)
        finally:
            lock.release()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _sync_locked(self, articles, embedder, chunker, full, progress, batch_size) -> SyncReport:
        old = None if full or not self.exists() else self.open()
        chunking = {"max_tokens": chunker.max_tokens, "overlap_tokens": chunker.overlap_tokens}
        if old is not None and old.embedder_id != embedder.model_id:
            built = old.embedder_id
            old.close()
            raise IndexMismatchError(
                f"the index in {self.folder} was built with embedder {built}, not {embedder.model_id}; "
                "rebuild it with `rag index build --full`"
            )
        old_hashes = {} if old is None else dict(old.db.execute("SELECT id, content_hash FROM articles"))
        rechunk_all = old is not None and old.manifest.get("chunking") != chunking
        report = SyncReport(articles=len(articles))
        new_ids = {a.id for a in articles}
        report.removed = sum(1 for i in old_hashes if i not in new_ids)

        kept: dict[str, list[Passage]] = {}
        to_chunk: list[Article] = []
        for article in articles:
            previous = old_hashes.get(article.id)
            if previous is None:
                report.added += 1
                to_chunk.append(article)
            elif previous != article.content_hash:
                report.updated += 1
                to_chunk.append(article)
            else:
                report.unchanged += 1
                if rechunk_all:
                    to_chunk.append(article)
                else:
                    kept[article.id] = []

        # Old passages and vectors: unchanged articles are copied; passages of
        # changed articles are offered for reuse by identical text.
        old_rows: dict[str, int] = {}
        reusable: dict[str, int] = {}
        if old is not None:
            for row in old.db.execute("SELECT row, id, article_id, text_hash FROM passages ORDER BY row"):
                if row["article_id"] in kept:
                    old_rows[row["id"]] = row["row"]
                    kept[row["article_id"]].append(row["row"])
                elif row["article_id"] in new_ids:
                    reusable.setdefault(row["text_hash"], row["row"])

        progress("chunking", 0, len(to_chunk))
        fresh: dict[str, list[Passage]] = {}
        for i, article in enumerate(to_chunk):
            fresh[article.id] = chunker.chunk(article)
            if i % 50 == 0:
                progress("chunking", i, len(to_chunk))
        progress("chunking", len(to_chunk), len(to_chunk))

        # Assemble rows in article order.
        all_passages: list[Passage] = []
        sources: list[tuple[str, int]] = []  # ("old", row) | ("reuse", row) | ("new", index)
        to_embed: list[Passage] = []
        kept_rows = [r for rows in kept.values() for r in rows]
        kept_passages = dict(zip(kept_rows, old.passages(kept_rows))) if kept_rows else {}
        for article in articles:
            if article.id in fresh:
                for passage in fresh[article.id]:
                    reuse_row = reusable.get(passage.text_hash)
                    if reuse_row is not None:
                        sources.append(("old", reuse_row))
                    else:
                        sources.append(("new", len(to_embed)))
                        to_embed.append(passage)
                    all_passages.append(passage)
            else:
                for row in kept[article.id]:
                    sources.append(("old", row))
                    all_passages.append(kept_passages[row])

        new_vectors = self._embed(to_embed, embedder, progress, batch_size)
        report.embedded_passages = len(to_embed)
        report.passages = len(all_passages)

        vectors = np.zeros((len(all_passages), embedder.dim), dtype=np.float32)
        old_pick = [(i, r) for i, (kind, r) in enumerate(sources) if kind == "old"]
        if old_pick:
            targets, rows = zip(*old_pick)
            vectors[list(targets)] = old.vectors.vectors(np.array(rows))
        new_pick = [(i, r) for i, (kind, r) in enumerate(sources) if kind == "new"]
        if new_pick:
            targets, rows = zip(*new_pick)
            vectors[list(targets)] = new_vectors[list(rows)]
        if old is not None:
            old.close()

        progress("publishing", 0, 1)
        manifest = {
            "format": FORMAT_VERSION,
            "embedder": {"id": embedder.model_id, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
            "chunking": chunking,
            "counts": {"articles": len(articles), "passages": len(all_passages)},
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self._publish(articles, all_passages, vectors, manifest)
        progress("publishing", 1, 1)
        return report

    def _embed(self, passages: list[Passage], embedder: Embedder, progress: Progress, batch_size: int) -> np.ndarray:
        out = np.zeros((len(passages), embedder.dim), dtype=np.float32)
        progress("embedding", 0, len(passages))
        # Similar lengths in a batch waste less padding: embed in length order.
        texts = [p.full_text for p in passages]
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = embedder.embed([texts[i] for i in rows])
            progress("embedding", start + len(rows), len(passages))
        return out

    def _publish(self, articles: Sequence[Article], passages: list[Passage], vectors: np.ndarray, manifest: dict) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"v-{stamp}-{secrets.token_hex(3)}"
        work = self.folder / f".tmp-{name}"
        work.mkdir()
        _write_rows(work / ROWS, articles, passages)
        FaissVectorIndex.build(vectors, manifest["embedder"]["dim"]).save(work / VECTORS)
        (work / LEXICAL).mkdir()
        LexicalIndex.build([p.full_text for p in passages]).save(work / LEXICAL)
        SentenceLexicalIndex.build([p.text for p in passages]).save(work / SENTENCES)
        manifest["files"] = {
            p.relative_to(work).as_posix(): p.stat().st_size for p in sorted(work.rglob("*")) if p.is_file()
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        _fsync_tree(work)
        final = self.folder / name
        os.rename(work, final)
        _fsync_dir(self.folder)
        pointer = self.folder / f".{CURRENT}.tmp"
        with open(pointer, "w") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        previous = (self.folder / CURRENT).read_text().strip() if self.exists() else None
        os.replace(pointer, self.folder / CURRENT)
        _fsync_dir(self.folder)
        self._clean(keep={name, previous})

    def _clean(self, keep: set[str | None]) -> None:
        """Remove versions other than the current and previous, and failed builds."""
        for child in self.folder.iterdir():
            if child.name.startswith((".tmp-v-", "v-")) and child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def _corrupt(path: Path, reason: str) -> IndexCorruptError:
    return IndexCorruptError(
        f"the index file {path} is damaged: {reason}. Rebuild the index from the articles "
        "with `rag index build --full`"
    )


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        manifest["embedder"]["id"], manifest["counts"]["passages"]  # noqa: B018 - shape check
    except FileNotFoundError:
        raise _corrupt(path, "the file is missing") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise _corrupt(path, f"it is not a valid manifest ({exc})") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"the index in {folder} has format {manifest.get('format')}, this version reads "
            f"{FORMAT_VERSION}; rebuild it with `rag index build --full`"
        )
    for name, size in manifest.get("files", {}).items():
        part = folder / name
        if not part.is_file() or part.stat().st_size != size:
            raise _corrupt(part, f"expected {size} bytes, found "
                           f"{part.stat().st_size if part.is_file() else 'no file'}")
    return manifest


def _write_rows(path: Path, articles: Sequence[Article], passages: list[Passage]) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(a.id, a.title, a.body, a.source, a.published_at, a.url, a.author, a.path,
              json.dumps(a.extra, default=str), a.content_hash) for a in articles],
        )
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(row, p.id, p.article_id, p.ordinal, p.text, p.header, p.start, p.end, p.token_count, p.text_hash)
             for row, p in enumerate(passages)],
        )
        db.commit()
    finally:
        db.close()


def _passage_from_row(row: sqlite3.Row) -> Passage:
    return Passage(
        id=row["id"], article_id=row["article_id"], ordinal=row["ordinal"], text=row["text"],
        header=row["header"], start=row["start"], end=row["end"], token_count=row["token_count"],
        title=row["title"], source=row["source"], published_at=row["published_at"], url=row["url"],
        author=row["author"], extra=json.loads(row["extra"] or "{}"),
    )


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    for path in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        _fsync_dir(path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
