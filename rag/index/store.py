"""The embedded passage store: FAISS vectors, SQLite rows, BM25, and a manifest, in versioned folders.

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

A build (rag.index.sync) writes through an :class:`rag.index.draft.IndexDraft`,
which publishes by writing a new version folder beside the published one and
then swapping ``CURRENT`` with ``os.replace``: readers see the old version or
the new one, never half of one, and a build killed at any point leaves
``CURRENT`` pointing at a complete version. The previous version is kept so
that a reader that read ``CURRENT`` just before a swap can still open it.
Opening checks every file against the manifest; a damaged version is an
``IndexCorruptError`` that says to rebuild with ``--full`` (docs/robustness.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from rag.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    RagError,
)
from rag.index.draft import IndexDraft
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
from rag.index.passage_store import PassageStore
from rag.index.rows import stream_texts, write_rows
from rag.index.snapshot import LEXICAL, ROWS, SENTENCES, VECTORS, IndexSnapshot
from rag.index.vectors import FaissVectorIndex
from rag.types import Article, Passage

__all__ = ["FORMAT_VERSION", "MANIFEST", "IndexStore"]
CURRENT = "CURRENT"


def mismatch(location: str, built: str, wanted: str) -> IndexMismatchError:
    """The error for an index built by another embedder than the settings name."""
    return IndexMismatchError(
        f"the index in {location} was built with embedder {built}, but the settings "
        f"ask for {wanted}. Rebuild it with `rag index build --full`, or set "
        "RAG_EMBEDDING__BACKEND / RAG_EMBEDDING__MODEL / RAG_EMBEDDING__RUNTIME back to the embedder that built it"
    )


class IndexStore(PassageStore):
    """An index folder: opens its published version and begins drafts of the next one."""

    def __init__(self, folder: Path | str, lock_timeout: float = 0.0):
        self.folder = Path(folder)
        self.location = str(self.folder)
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

    def published_version(self) -> str:
        return self.current_folder().name

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
            raise mismatch(self.location, built, embedder_id)
        return snapshot

    def info(self) -> dict:
        """Manifest plus on-disk size of the published version."""
        folder = self.current_folder()
        if not folder.is_dir():
            raise corrupt(folder, "the published version folder is missing")
        manifest = read_manifest(folder, verify_content=False)  # sizes only: info stays cheap
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        return {**manifest, "path": str(folder), "version": folder.name, "size_bytes": size}

    # building ----------------------------------------------------------------
    def begin(self, manifest: dict, fresh: bool = False) -> IndexDraft:
        """A draft of the next version, holding the build lock until it is published or aborted.

        The previous version is opened without its BM25 indexes (a build never
        searches it). Raises IndexLockedError when another build runs.
        """
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
            previous = None if fresh or not self.exists() else self.open(searchable=False)
        except BaseException:
            lock.release()
            raise
        return IndexDraft(self, previous, manifest, lock)

    def _publish(self, articles: Sequence[Article], plan: list[Passage | int], old_db: Path | None,
                 vectors: FaissVectorIndex, manifest: dict, copied_articles: Sequence[str] = ()) -> None:
        """Write a version folder (``plan[row]``: a new Passage or a row of ``old_db``) and publish it."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"v-{stamp}-{secrets.token_hex(3)}"
        work = self.folder / f".tmp-{name}"
        try:
            work.mkdir()
            write_rows(work / ROWS, articles, plan, old_db, copied_articles)
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
