"""The version folders of an embedded index and the ``CURRENT`` file that names the published one.

An :class:`rag.index.embedded.store.IndexStore` owns one :class:`VersionFolders`
and hands it to each :class:`rag.index.embedded.draft.IndexDraft`, which
publishes through it. Publishing writes a new version folder beside the
published one and then swaps ``CURRENT`` with ``os.replace``: readers see the
old version or the new one, never half of one, and a build killed at any point
leaves ``CURRENT`` pointing at a complete version. The previous version is
kept so that a reader that read ``CURRENT`` just before a swap can still open it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import IndexCorruptError, IndexMissingError, RagError
from rag.index.embedded.manifest import corrupt, fsync_dir, fsync_tree, replace_atomically, write_manifest
from rag.index.embedded.rows import stream_texts, write_rows
from rag.index.embedded.snapshot import LEXICAL, ROWS, SENTENCES, VECTORS
from rag.index.embedded.vectors import FaissVectorIndex
from rag.index.lexical import LexicalIndex, SentenceLexicalIndex
from rag.index.passage_store import Revision
from rag.types import Article, Passage

CURRENT = "CURRENT"


class VersionFolders:
    """The ``v-*`` folders of one index folder and which of them ``CURRENT`` publishes."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def exists(self) -> bool:
        """Whether a version has been published."""
        return (self.folder / CURRENT).is_file()

    def current_folder(self) -> Path:
        """The published version's folder; IndexMissingError or IndexCorruptError otherwise."""
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

    def publish(self, articles: Sequence[Article], plan: list[Passage | int], old_db: Path | None,
                vectors: FaissVectorIndex, manifest: dict, copied_articles: Sequence[str] = (),
                revisions: Sequence[Revision] = ()) -> None:
        """Write a version folder (``plan[row]``: a new Passage or a row of ``old_db``; the revisions
        of ``old_db``, then ``revisions``) and publish it."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f"v-{stamp}-{secrets.token_hex(3)}"
        work = self.folder / f".tmp-{name}"
        try:
            work.mkdir()
            write_rows(work / ROWS, articles, plan, old_db, copied_articles, revisions)
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
        previous = self.published_name()
        replace_atomically(self.folder / CURRENT, name + "\n")  # the moment the new version is published
        self.clean(keep={name, previous})

    def published_name(self) -> str | None:
        """The version CURRENT names, or None when there is none or it is damaged."""
        try:
            return self.current_folder().name if self.exists() else None
        except IndexCorruptError:
            return None

    def clean(self, keep: set[str | None], versions: bool = True) -> None:
        """Remove failed builds and (``versions``) versions other than those in ``keep``."""
        for child in self.folder.iterdir():
            prefixes = (".tmp-v-", "v-") if versions else (".tmp-v-",)
            if child.name.startswith(prefixes) and child.name not in keep and child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
