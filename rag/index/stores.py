"""Which passage store an index uses: the one place that maps settings to a
:class:`rag.index.passage_store.PassageStore` implementation.

Today there is one, the embedded store (FAISS, SQLite and BM25 in the index
folder). Another store goes here as one more branch, keyed by a setting, with
its module imported only when it is chosen.
"""

from __future__ import annotations

from rag.config import Settings
from rag.index.passage_store import PassageStore


def make_store(settings: Settings) -> PassageStore:
    """The passage store of ``settings.index_dir``."""
    from rag.index.store import IndexStore

    return IndexStore(settings.index_dir, lock_timeout=settings.lock_timeout)
