"""Building the index from settings: the glue the CLI and UI call to (re)index articles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.config import EmbeddingSettings, Settings
from rag.embed.base import Embedder
from rag.embed.registry import make_embedder
from rag.index.passage_store import PassageStore
from rag.index.stores import make_store
from rag.index.sync import Progress, SyncReport, sync
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker

__all__ = ["Progress", "SyncReport", "build_index", "embedding_for_index"]


def build_index(
    settings: Settings,
    paths: Sequence[Path | str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> SyncReport:
    """Make the index match the articles under ``paths`` (default: the articles folder).

    Files that cannot be loaded are listed in ``report.skipped`` and everything
    else is indexed.
    """
    paths = list(paths) if paths else [settings.articles_dir]
    if progress:
        progress("loading", 0, 1)
    loaded = load_paths(paths)
    if progress:
        progress("loading", 1, 1)
    embedder = embedder or make_embedder(settings.embedding)
    chunker = Chunker(embedder, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
    report = sync(make_store(settings, building=True), loaded.articles, embedder, chunker, full=full, progress=progress,
                  batch_size=settings.embedding.build_batch_size)
    # Files that could not be loaded first, then articles that could not be chunked.
    report.skipped[:0] = [{"path": str(err.path), "error": err.reason} for err in loaded.skipped]
    return report


def embedding_for_index(embedding: EmbeddingSettings, store: PassageStore) -> EmbeddingSettings:
    """``embedding``, with the index's dimension filled in for an openai embedder that names none.

    Without it the embedder would ask the server for its dimension, and a
    server that now answers with another one would read as a settings mismatch
    instead of what it is: the server returning the wrong dimension.
    """
    if embedding.backend != "openai" or embedding.dim is not None:
        return embedding
    built = store.info()["embedder"]
    if not str(built["id"]).startswith(f"openai/{embedding.model}@") or not built.get("dim"):
        return embedding
    return embedding.model_copy(update={"dim": int(built["dim"])})
