"""Which passage store an index uses: the one place that maps settings to a
:class:`rag.index.passage_store.PassageStore` implementation.

``store.backend`` (``RAG_STORE__BACKEND``) picks the embedded store (``faiss``:
FAISS, SQLite and BM25 in the index folder, the default), Qdrant (``qdrant``:
a server or cluster at ``store.url``, or local mode in ``store.path``), or a
store that an installed package registers in the entry-point group
``article_rag.passage_stores`` (a function ``settings -> PassageStore``;
:mod:`rag.plugins`). A store's module is imported only when it is chosen.

Opening an index with another store's settings is a clear error: a Qdrant
build leaves a note in the index folder (:mod:`rag.index.qdrant.note`: where it
published, and which alias), so settings that ask for a store holding no index
are told where the index that was built lives.
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.errors import IndexMismatchError
from rag.index.passage_store import PassageStore
from rag.index.qdrant.note import qdrant_note
from rag.plugins import PASSAGE_STORES_GROUP, load_backend

# name -> "module:function" making the store from the settings
STORES = {"faiss": "rag.index.stores:embedded_store", "qdrant": "rag.index.stores:qdrant_store"}


def make_store(settings: Settings, building: bool = False) -> PassageStore:
    """The passage store of ``settings``.

    Unless ``building``, a store that holds no index while the index folder
    records one in the other store raises IndexMismatchError saying which
    settings open it.
    """
    factory = load_backend(STORES, settings.store.backend, "passage store", "RAG_STORE__BACKEND",
                           PASSAGE_STORES_GROUP)
    store: PassageStore = factory(settings)
    if not building:
        _check_built_here(settings, store)
    return store


def embedded_store(settings: Settings) -> PassageStore:
    """The embedded store (FAISS, SQLite, BM25) in ``settings.index_dir``."""
    from rag.index.embedded.store import IndexStore

    return IndexStore(settings.index_dir, lock_timeout=settings.lock_timeout)


def qdrant_store(settings: Settings) -> PassageStore:
    """Qdrant at ``store.url``, or local mode in ``store.path`` (docs/scale.md)."""
    from rag.index.qdrant.store import QdrantStore

    return QdrantStore.from_settings(settings)


def _check_built_here(settings: Settings, store: PassageStore) -> None:
    folder, backend = settings.index_dir, settings.store.backend
    if store.exists():
        return
    if backend == "qdrant" and (Path(folder) / "CURRENT").is_file():
        raise IndexMismatchError(
            f"the index in {folder} was built with the faiss store, but the settings ask for qdrant "
            f"({store.location}). Set RAG_STORE__BACKEND=faiss to use it, or build into Qdrant with "
            "`rag index build --full`")
    note = qdrant_note(folder)
    if note is None:
        return
    where = f"Qdrant at {note['url']}" if note.get("url") else f"Qdrant local mode in {note.get('path')}"
    if backend != "qdrant":
        raise IndexMismatchError(
            f"the index of {folder} was built in {where} (collection alias {note.get('collection')!r}), but the "
            "settings ask for the faiss store. Set RAG_STORE__BACKEND=qdrant (with RAG_STORE__URL or "
            "RAG_STORE__PATH as it was built), or build with `rag index build --full`")
    raise IndexMismatchError(
        f"the index of {folder} was built in {where} (collection alias {note.get('collection')!r}), but the "
        f"settings name {store.location} with alias {settings.store.collection_prefix!r}, where there is none. "
        "Set RAG_STORE__URL / RAG_STORE__PATH / RAG_STORE__COLLECTION_PREFIX as it was built, or build with "
        "`rag index build --full`")


def store_summary(manifest: dict, index_dir: Path | str | None = None) -> str:
    """The store an opened index lives in, in words (for `rag index info` and the UI)."""
    described = manifest.get("store") or {"backend": "faiss"}
    if described.get("backend") == "qdrant":
        where = f"server {described['url']}" if described.get("url") else f"local mode in {described.get('path')}"
        return f"qdrant, {where}, collection alias {described.get('collection')!r}"
    return "faiss, in the index folder" + (f" {index_dir}" if index_dir else "")
