"""Building the index from settings: the glue the CLI and UI call to (re)index articles."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from rag.config import EmbeddingSettings, Settings
from rag.embed.base import Embedder
from rag.embed.registry import make_embedder
from rag.errors import IndexCorruptError, IndexMismatchError, RagError
from rag.index.passage_store import PassageSnapshot, PassageStore
from rag.index.scope import PathScope
from rag.index.stores import make_store
from rag.index.sync import Progress, SyncReport, sync
from rag.ingest.articles import LoadResult, load_paths
from rag.ingest.chunking import Chunker
from rag.types import Article

__all__ = ["NoArticlesError", "Progress", "SyncReport", "build_index", "embedding_for_index"]


class NoArticlesError(RagError):
    """A build found no article under the paths it was given; the index was not touched."""


def build_index(
    settings: Settings,
    paths: Sequence[Path | str] | None = None,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    exact: bool = False,
) -> SyncReport:
    """Sync the index with the articles under ``paths`` (default: the articles folder).

    New, changed and deleted files under ``paths`` are synced; articles
    indexed from other paths stay (``report.kept``) unless ``exact``, which
    makes the index hold only these paths. Files that cannot be loaded are
    listed in ``report.skipped`` and everything else is indexed. Finding no
    article at all raises :class:`NoArticlesError` naming the paths, and
    leaves the index as it was (a wrong path never empties an index).
    """
    paths = list(paths) if paths else [settings.articles_dir]
    scope = PathScope.of(paths, exact=exact)
    if progress:
        progress("loading", 0, 1)
    loaded = load_paths(scope.roots)  # absolute: stored article paths then compare with roots
    if progress:
        progress("loading", 1, 1)
    if not loaded.articles:
        raise NoArticlesError(_no_articles_message(paths, loaded))
    embedder = embedder or make_embedder(settings.embedding)
    chunker = Chunker(embedder, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
    store = make_store(settings, building=True)
    # A full build starts empty: it reads the kept articles and the revisions from the version it replaces.
    history = _published(store) if full else None
    try:
        kept = [] if history is None or exact else _articles_outside(history, scope, {a.id for a in loaded.articles})
        report = sync(store, [*loaded.articles, *kept], embedder, chunker, full=full, progress=progress,
                      batch_size=settings.embedding.build_batch_size, scope=scope,
                      # The UI opens the index with the embedder that built it (rag.ui.resources).
                      record={"embedding": settings.embedding.model_dump(mode="json")}, history=history)
    finally:
        if history is not None:
            history.close()
    if kept:  # a full build re-embeds the kept articles too; they are still "kept", not "added"
        report.kept, report.added = len(kept), max(0, report.added - len(kept))
    # Files that could not be loaded first, then articles that could not be chunked.
    report.skipped[:0] = [{"path": str(err.path), "error": err.reason} for err in loaded.skipped]
    return report


def _no_articles_message(paths: Sequence[Path | str], loaded: LoadResult) -> str:
    named = ", ".join(str(p) for p in paths)
    reasons = "; ".join(f"{e.path}: {e.reason}" for e in loaded.skipped[:3])
    more = f" (and {len(loaded.skipped) - 3} more)" if len(loaded.skipped) > 3 else ""
    return (f"no article found under {named}" + (f" ({reasons}{more})" if reasons else "")
            + "; the index was left unchanged. Check the path; to take articles out of the index, "
            "use `rag index remove PATH`.")


def _published(store: PassageStore) -> PassageSnapshot | None:
    """The published version, or None when there is none or it is damaged or of another format
    (a full build then repairs the index from the paths it was given, which is what the damage
    message asks for: it keeps no articles outside them and no revisions)."""
    if not store.exists():
        return None
    try:
        return store.open()
    except (IndexCorruptError, IndexMismatchError):
        return None


def _articles_outside(snapshot: PassageSnapshot, scope: PathScope, loaded_ids: set[str]) -> list[Article]:
    """The stored articles a full build of ``scope`` keeps, read back from the published version."""
    ids = [i for i, s in snapshot.stored_articles().items() if i not in loaded_ids and not scope.covers(s.path)]
    return [_article_from_record(snapshot.article(i)) for i in ids]


def _article_from_record(record: dict) -> Article:
    extra = record.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra) if extra else {}
    fields = {name: record.get(name) for name in ("source", "published_at", "url", "author", "path")}
    return Article(id=record["id"], title=record.get("title") or "", body=record.get("body") or "",
                   extra=extra, **fields)


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
