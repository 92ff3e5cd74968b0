"""Opening the published index for searching: its passage store, its embedder and a retriever."""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.embed.base import Embedder
from rag.embed.registry import make_embedder
from rag.index.building import embedding_for_index
from rag.index.passage_store import PassageSnapshot
from rag.index.stores import make_store
from rag.search.retrieval import Retriever


@dataclass
class OpenIndex:
    """An opened index with the embedder that built it and a retriever over it."""

    snapshot: PassageSnapshot
    embedder: Embedder
    retriever: Retriever

    def close(self) -> None:
        self.snapshot.close()

    def __enter__(self) -> "OpenIndex":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_index(settings: Settings, embedder: Embedder | None = None) -> OpenIndex:
    """Open the published index, refusing one built by another embedder."""
    store = make_store(settings)
    store.published_version()  # a clear "no index" error before loading any model
    embedder = embedder or make_embedder(embedding_for_index(settings.embedding, store))
    snapshot = store.open(embedder_id=embedder.model_id)
    return OpenIndex(snapshot, embedder, Retriever(snapshot, embedder, settings.retrieval))
