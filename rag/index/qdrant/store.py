"""Passages in Qdrant (a server, a cluster, or local mode in a folder): a :class:`PassageStore`.

The published version is whatever the alias ``<collection prefix>`` names:
the passages collection of one version, whose metadata holds the manifest
(embedder, chunking, counts, build time, the store) and the BM25 statistics.
Building creates a new version's collections (rag.index.qdrant.draft) and
publishing swaps the alias in one operation. The version before is kept for
readers that opened it; older ones and those of killed builds are deleted at
the next publish.

One build at a time: the build lock is a file in the index folder, as for the
embedded store, so builds must run from one node (the app node).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError, RagError
from rag.index.passage_store import PassageDraft, PassageStore
from rag.index.qdrant.connection import MEMORY, connect
from rag.index.qdrant.draft import QdrantDraft
from rag.index.qdrant.schema import ROLES, require_qdrant
from rag.index.qdrant.snapshot import QdrantSnapshot

LOCK = ".qdrant.lock"


class QdrantStore(PassageStore):
    """The versions of one collection prefix in one Qdrant, published through an alias."""

    def __init__(self, folder: Path | str, *, url: str | None = None, path: Path | str | None = None,
                 api_key_env: str | None = None, collection: str = "rag", timeout: float = 30.0,
                 lock_timeout: float = 0.0, avgdl_tolerance: float = 0.0, shards: int | None = None,
                 replicas: int | None = None):
        self.folder = Path(folder)
        self.url = url
        # Local mode: a folder, or ":memory:" (this process only; gone when it ends).
        self.in_memory = str(path) == MEMORY
        self.path = Path(path or self.folder / "qdrant")
        self.prefix = self.alias = collection
        self.lock_timeout = lock_timeout
        self.avgdl_tolerance = avgdl_tolerance  # see rag.index.qdrant.draft
        self.layout = {"shard_number": shards, "replication_factor": replicas} if url else {}
        self.client = connect(url, MEMORY if self.in_memory else self.path, api_key_env, timeout)
        self.location = (f"Qdrant at {url}" if url else "Qdrant local mode in memory" if self.in_memory
                         else f"Qdrant local mode in {self.path}")

    @classmethod
    def from_settings(cls, settings: Any) -> "QdrantStore":
        """The store ``settings.store`` names (rag.config.StoreSettings), for ``settings.index_dir``."""
        s = settings.store
        return cls(settings.index_dir, url=s.url, path=s.path, api_key_env=s.api_key_env,
                   collection=s.collection_prefix, timeout=s.timeout, lock_timeout=settings.lock_timeout,
                   avgdl_tolerance=s.avgdl_tolerance, shards=s.shards, replicas=s.replicas)

    def describe(self) -> dict:
        """What the manifest records about where this store lives."""
        path = None if self.url else MEMORY if self.in_memory else str(self.path.resolve())
        return {"backend": "qdrant", "url": self.url, "path": path,
                "collection": self.alias}

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Errors of the client (server down, refused, bad key) as one plain RagError."""
        try:
            yield
        except RagError:
            raise
        except Exception as exc:  # noqa: BLE001 - qdrant_client raises httpx, grpc and its own errors
            if not self.url:
                raise
            raise RagError(f"the Qdrant server at {self.url} could not be used ({type(exc).__name__}: "
                           f"{str(exc)[:300]}). Is it running and reachable? Check RAG_STORE__URL and the "
                           "API key in the variable RAG_STORE__API_KEY_ENV names") from exc

    # the alias -------------------------------------------------------------------
    def _target(self) -> str | None:
        with self._reaching():
            aliases = self.client.get_aliases().aliases
        return next((a.collection_name for a in aliases if a.alias_name == self.alias), None)

    def _version_of(self, collection: str) -> str | None:
        for role in ROLES:
            head, tail = f"{self.prefix}-", f"-{role}"
            if collection.startswith(head + "v-") and collection.endswith(tail):
                return collection[len(head):-len(tail)]
        return None

    def exists(self) -> bool:
        return self._target() is not None

    def published_version(self) -> str:
        target = self._target()
        if target is None:
            raise IndexMissingError(
                f"no index in {self.location} (collection alias {self.alias!r}): build one with "
                "`rag index build`, or check RAG_STORE__URL / RAG_STORE__PATH / RAG_STORE__COLLECTION")
        version = self._version_of(target)
        if version is None:
            raise IndexCorruptError(f"the alias {self.alias!r} in {self.location} names {target!r}, which is not "
                                    "a version of this store; rebuild with `rag index build --full`")
        return version

    def swap_alias(self, collection: str) -> str | None:
        """Point the alias at ``collection`` in one operation; the version it named before."""
        models = require_qdrant().models
        before = self._target()
        ops = [models.CreateAliasOperation(create_alias=models.CreateAlias(
            collection_name=collection, alias_name=self.alias))]
        if before is not None:
            ops.insert(0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=self.alias)))
        with self._reaching():
            self.client.update_collection_aliases(ops)
        return self._version_of(before) if before else None

    # reading ---------------------------------------------------------------------
    def open(self, embedder_id: str | None = None) -> QdrantSnapshot:
        for attempt in range(10):
            version = self.published_version()
            try:
                snapshot = self._open_version(version)
                break
            except IndexCorruptError:
                # A publish may have swapped the alias and deleted this version meanwhile.
                if attempt == 9 or self.published_version() == version:
                    raise
        if embedder_id is not None and snapshot.embedder_id != embedder_id:
            raise IndexMismatchError(
                f"the index in {self.location} was built with embedder {snapshot.embedder_id}, but the "
                f"settings ask for {embedder_id}. Rebuild it with `rag index build --full`, or set "
                "RAG_EMBEDDING__BACKEND / RAG_EMBEDDING__MODEL back to the embedder that built it")
        return snapshot

    def _open_version(self, version: str) -> QdrantSnapshot:
        name = f"{self.prefix}-{version}-passages"
        with self._reaching():
            try:
                metadata = self.client.get_collection(name).config.metadata or {}
            except (ValueError, KeyError) as exc:  # local mode: no such collection
                raise IndexCorruptError(f"the collection {name} in {self.location} is missing ({exc})") from None
            except Exception as exc:
                if getattr(exc, "status_code", None) == 404:
                    raise IndexCorruptError(f"the collection {name} in {self.location} is missing") from None
                raise
        if metadata.get("state") != "published" or "manifest" not in metadata:
            raise IndexCorruptError(f"the collection {name} in {self.location} has no manifest; "
                                    "rebuild with `rag index build --full`")
        return QdrantSnapshot(self.client, self.prefix, version, metadata)

    def info(self) -> dict:
        snapshot = self.open()
        size = None
        if not self.url and not self.in_memory:  # local mode: the files of every collection in the folder
            size = sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return {**snapshot.manifest, "path": f"{self.url or self.path}#{snapshot.passages_col}",
                "version": snapshot.version, "size_bytes": size}

    # building --------------------------------------------------------------------
    def begin(self, manifest: dict, fresh: bool = False) -> PassageDraft:
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.folder / LOCK))
        try:
            lock.acquire(timeout=self.lock_timeout)
        except Timeout:
            raise IndexLockedError(
                f"another build is running on {self.location}; wait for it to finish and try again") from None
        try:
            previous = None if fresh or not self.exists() else self.open()
            with self._reaching():
                return QdrantDraft(self, previous, manifest, lock)
        except BaseException:
            if lock.is_locked:
                lock.release()
            raise

    def clean(self, keep: set[str | None]) -> None:
        """Delete this prefix's collections of versions not in ``keep`` (old or killed builds)."""
        with self._reaching():
            for collection in self.client.get_collections().collections:
                version = self._version_of(collection.name)
                if version is not None and version not in keep:
                    self.client.delete_collection(collection.name)
