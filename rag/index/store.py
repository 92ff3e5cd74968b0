"""The on-disk index: FAISS vectors, SQLite rows, BM25, and a manifest.

Layout of an index folder::

    CURRENT            name of the published version folder (replaced atomically)
    .lock              held by the one build that may run at a time
    v-<time>-<rand>/   one complete, immutable version
        manifest.json  format, embedder, chunking, counts, build time, and the
                       size and sha256 of every other file (rag.index.manifest)
        rows.sqlite    articles and passages (row n = vector n)
        vectors.faiss  dense vectors
        lexical/       BM25 over passages (bm25s)
        sentences/     BM25 over the passages' sentences

A build writes a new version folder beside the published one and then swaps
``CURRENT`` with ``os.replace``: readers see the old version or the new one,
never half of one, and a build killed at any point leaves ``CURRENT`` pointing
at a complete version. The previous version is kept so that a reader that read
``CURRENT`` just before a swap can still open it. Opening checks every file
against the manifest; a damaged version is an ``IndexCorruptError`` that says
to rebuild with ``--full`` (docs/robustness.md).
"""

from __future__ import annotations

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

from rag.embed.base import Embedder
from rag.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    RagError,
)
from rag.index.lexical import LexicalIndex, SentenceLexicalIndex
from rag.index.manifest import (
    FORMAT_VERSION,
    MANIFEST,
    corrupt,
    fsync_dir,
    fsync_tree,
    read_manifest,
    replace_atomically,
    write_manifest,
)
from rag.index.rows import extra_json, stream_texts, write_rows
from rag.index.snapshot import LEXICAL, ROWS, SENTENCES, VECTORS, IndexSnapshot
from rag.index.vectors import FaissVectorIndex, assemble
from rag.ingest.chunking import Chunker
from rag.types import Article, Passage

__all__ = ["FORMAT_VERSION", "MANIFEST", "IndexStore", "SyncReport"]
CURRENT = "CURRENT"

Progress = Callable[[str, int, int], None]


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
        try:
            name = path.read_bytes().decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise corrupt(path, f"it cannot be read as a version name ({exc})") from None
        if not name.startswith("v-") or not name.isprintable() or "/" in name or "\\" in name:
            raise corrupt(path, f"it names {name[:80]!r}, not a version folder")
        return self.folder / name

    def open(self, embedder_id: str | None = None, searchable: bool = True) -> IndexSnapshot:
        """The published version; refuses one built by another embedder.

        A build may publish a new version and remove an old one while this
        opens it: when the version being opened turns out missing or damaged
        and ``CURRENT`` meanwhile names another one, that one is opened.
        """
        for attempt in range(10):
            folder = self.current_folder()
            try:
                snapshot = IndexSnapshot(folder, searchable)
                break
            except IndexCorruptError:
                if attempt == 9 or self.current_folder() == folder:
                    raise
        if embedder_id is not None and snapshot.embedder_id != embedder_id:
            built = snapshot.embedder_id
            snapshot.close()
            raise IndexMismatchError(
                f"the index in {self.folder} was built with embedder {built}, but the settings "
                f"ask for {embedder_id}. Rebuild it with `rag index build --full`, or set "
                "RAG_EMBEDDING__BACKEND / RAG_EMBEDDING__MODEL / RAG_EMBEDDING__RUNTIME back to the embedder that built it"
            )
        return snapshot

    def info(self) -> dict:
        """Manifest plus on-disk size of the published version."""
        folder = self.current_folder()
        if not folder.is_dir():
            raise corrupt(folder, "the published version folder is missing")
        manifest = read_manifest(folder, verify_content=False)  # sizes only: info stays cheap
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
        lock = FileLock(str(self.folder / ".lock"))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock.acquire(timeout=self.lock_timeout)
        except Timeout:
            raise IndexLockedError(
                f"another build is running on {self.folder}; wait for it to finish and try again"
            ) from None
        except OSError as exc:
            raise RagError(f"cannot write to the index folder {self.folder} ({exc.strerror or exc}); "
                           "check that it is a writable folder, or choose another with --index") from None
        try:
            quiet = lambda stage, done, total: None  # noqa: E731
            report = self._sync_locked(articles, embedder, chunker, full, progress or quiet, batch_size)
        finally:
            lock.release()
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _sync_locked(self, articles, embedder, chunker, full, progress, batch_size) -> SyncReport:
        old = None if full or not self.exists() else self.open(searchable=False)
        try:
            return self._sync_with(old, articles, embedder, chunker, progress, batch_size)
        finally:
            if old is not None:
                old.close()

    def _sync_with(self, old, articles, embedder, chunker, progress, batch_size) -> SyncReport:
        chunking = {"max_tokens": chunker.max_tokens, "overlap_tokens": chunker.overlap_tokens}
        if old is not None and old.embedder_id != embedder.model_id:
            raise IndexMismatchError(
                f"the index in {self.folder} was built with embedder {old.embedder_id}, not {embedder.model_id}; "
                "rebuild it with `rag index build --full`"
            )
        stored = {} if old is None else {
            r[0]: r[1:] for r in old.db.execute("SELECT id, content_hash, path, extra FROM articles")}
        rechunk_all = old is not None and old.manifest.get("chunking") != chunking
        report = SyncReport(articles=len(articles))
        new_ids = {a.id for a in articles}
        report.removed = sum(1 for i in stored if i not in new_ids)

        kept: dict[str, list[int]] = {}  # unchanged article -> its rows in the old version
        to_chunk: list[Article] = []
        same_fields = True  # path and extra fields too, which the content hash leaves out
        for article in articles:
            previous = stored.get(article.id)
            if previous is None:
                report.added += 1
                to_chunk.append(article)
            elif previous[0] != article.content_hash:
                report.updated += 1
                to_chunk.append(article)
            else:
                report.unchanged += 1
                same_fields = same_fields and previous[1:] == (article.path, extra_json(article))
                if rechunk_all:
                    to_chunk.append(article)
                else:
                    kept[article.id] = []
        if old is not None and not (rechunk_all or report.added or report.updated or report.removed) and same_fields:
            # Nothing to change: the published version already matches the articles.
            report.passages = len(old)
            self._clean(keep=set(), versions=False)  # only what killed builds left behind
            return report

        # Old passages and vectors: unchanged articles are copied; passages of
        # changed articles are offered for reuse by identical text.
        reusable: dict[str, int] = {}
        if old is not None:
            for row, article_id, text_hash in old.db.execute(
                    "SELECT row, article_id, text_hash FROM passages ORDER BY row"):
                if article_id in kept:
                    kept[article_id].append(row)
                elif article_id in new_ids:
                    reusable.setdefault(text_hash, row)

        progress("chunking", 0, len(to_chunk))
        fresh: dict[str, list[Passage]] = {}
        for i, article in enumerate(to_chunk):
            fresh[article.id] = chunker.chunk(article)
            if i % 50 == 0:
                progress("chunking", i, len(to_chunk))
        progress("chunking", len(to_chunk), len(to_chunk))

        # Rows in article order: a new Passage, or the old row of an unchanged one.
        plan: list[Passage | int] = []
        old_pick: list[tuple[int, int]] = []  # (row, old row) whose vector is copied
        new_pick: list[tuple[int, int]] = []  # (row, index in to_embed)
        to_embed: list[Passage] = []
        for article in articles:
            for item in fresh[article.id] if article.id in fresh else kept[article.id]:
                reuse = item if isinstance(item, int) else reusable.get(item.text_hash)
                if reuse is not None:
                    old_pick.append((len(plan), reuse))
                else:
                    new_pick.append((len(plan), len(to_embed)))
                    to_embed.append(item)
                plan.append(item)
        del fresh
        new_vectors = self._embed(to_embed, embedder, progress, batch_size)
        report.embedded_passages = len(to_embed)
        report.passages = len(plan)
        del to_embed
        vectors = assemble(len(plan), embedder.dim, old and old.vectors, old_pick, new_vectors, new_pick)
        del new_vectors, old_pick, new_pick

        progress("publishing", 0, 1)
        manifest = {
            "format": FORMAT_VERSION,
            "embedder": {"id": embedder.model_id, "dim": embedder.dim, "max_tokens": embedder.max_tokens},
            "chunking": chunking,
            "counts": {"articles": len(articles), "passages": len(plan)},
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        self._publish(articles, plan, None if old is None else old.folder / ROWS, vectors, manifest)
        progress("publishing", 1, 1)
        return report

    def _embed(self, passages: list[Passage], embedder: Embedder, progress: Progress, batch_size: int) -> np.ndarray:
        out = np.zeros((len(passages), embedder.dim), dtype=np.float32)
        progress("embedding", 0, len(passages))
        # Similar lengths in a batch waste less padding: embed in length order.
        order = np.argsort([len(p.header) + len(p.text) for p in passages], kind="stable")
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = embedder.embed([passages[i].full_text for i in rows])
            progress("embedding", start + len(rows), len(passages))
        return out

    def _publish(self, articles: Sequence[Article], plan: list, old_db: Path | None,
                 vectors: FaissVectorIndex, manifest: dict) -> None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"v-{stamp}-{secrets.token_hex(3)}"
        work = self.folder / f".tmp-{name}"
        try:
            work.mkdir()
            write_rows(work / ROWS, articles, plan, old_db)
            plan.clear()  # the rows are on disk now; the lexical indexes read them back
            vectors.save(work / VECTORS)
            (work / LEXICAL).mkdir()
            LexicalIndex.build(stream_texts(work / ROWS, full=True)).save(work / LEXICAL)
            SentenceLexicalIndex.build(stream_texts(work / ROWS, full=False)).save(work / SENTENCES)
            write_manifest(work, manifest)  # sizes and sha256 of every file, then the manifest
            fsync_tree(work)
        except BaseException as exc:
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(exc, (OSError, sqlite3.Error)):  # a full disk, a lost mount...
                raise RagError(f"could not write the new index version in {self.folder} ({exc}); the "
                               "published index is unchanged. Free disk space and build again") from exc
            raise
        final = self.folder / name
        os.rename(work, final)
        fsync_dir(self.folder)
        previous = self._published_name()
        replace_atomically(self.folder / CURRENT, name + "\n")  # the moment the new version is published
        self._clean(keep={name, previous})

    def _published_name(self) -> str | None:
        """The version CURRENT names, or None when there is none or it is damaged."""
        try:
            return self.current_folder().name if self.exists() else None
        except IndexCorruptError:
            return None

    def _clean(self, keep: set[str | None], versions: bool = True) -> None:
        """Remove failed builds and (``versions``) versions other than the current and previous."""
        for child in self.folder.iterdir():
            prefixes = (".tmp-v-", "v-") if versions else (".tmp-v-",)
            if child.name.startswith(prefixes) and child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
