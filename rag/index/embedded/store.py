"""The embedded passage store: FAISS vectors, SQLite rows, BM25, and a manifest, in versioned folders.

Layout of an index folder::

    CURRENT            name of the published version folder (replaced atomically)
    .lock              held by the one build that may run at a time
    v-<time>-<rand>/   one complete, immutable version
        manifest.json  format, embedder, chunking, counts, build time, and the
                       size and sha256 of every other file (rag.index.embedded.manifest)
        rows.sqlite    articles and passages (row n = vector n)
        vectors.faiss  dense vectors
        lexical/       BM25 over passages (bm25s)
        sentences/     BM25 over the passages' sentences

A build (rag.index.sync) writes through an :class:`rag.index.embedded.draft.IndexDraft`,
which publishes through the store's :class:`rag.index.embedded.versions.VersionFolders`:
a new version folder beside the published one, then ``CURRENT`` swapped with
``os.replace``, so readers see the old version or the new one, never half of one.
Opening checks every file against the manifest; a damaged version is an
``IndexCorruptError`` that says to rebuild with ``--full`` (docs/robustness.md).
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock, Timeout

from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, RagError
from rag.index.embedded.draft import IndexDraft
from rag.index.embedded.manifest import FORMAT_VERSION, MANIFEST, corrupt, read_manifest
from rag.index.embedded.snapshot import IndexSnapshot
from rag.index.embedded.versions import VersionFolders
from rag.index.passage_store import PassageStore

__all__ = ["FORMAT_VERSION", "MANIFEST", "IndexStore"]


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
        self.versions = VersionFolders(self.folder)

    # reading -----------------------------------------------------------------
    def exists(self) -> bool:
        return self.versions.exists()

    def current_folder(self) -> Path:
        return self.versions.current_folder()

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
        return IndexDraft(self.versions, previous, manifest, lock)
