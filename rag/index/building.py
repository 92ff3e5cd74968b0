"""Building the index from settings: the glue the CLI and UI call to (re)index articles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.config import EmbeddingSettings, Settings
from rag.embed.base import Embedder
from rag.embed.registry import make_embedder
from rag.index.manifest import read_manifest
from rag.index.store import IndexStore, Progress, SyncReport
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker


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
    store = IndexStore(settings.index_dir, lock_timeout=settings.lock_timeout)
    report = store.sync(loaded.articles, embedder, chunker, full=full, progress=progress)
    report.skipped = [{"path": str(err.path), "error": err.reason} for err in loaded.skipped]
    return report


def embedding_for_index(embedding: EmbeddingSettings, folder: Path) -> EmbeddingSettings:
    """``embedding``, with the index's dimension filled in for an openai embedder that names none.

    Without it the embedder would ask the server for its dimension, and a
    server that now answers with another one would read as a settings mismatch
    instead of what it is: the server returning the wrong dimension.
    """
    if embedding.backend != "openai" or embedding.dim is not None:
        return embedding
    built = read_manifest(folder, verify_content=False)["embedder"]
    if not str(built["id"]).startswith(f"openai/{embedding.model}@") or not built.get("dim"):
        return embedding
    return embedding.model_copy(update={"dim": int(built["dim"])})
