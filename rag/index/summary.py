"""What an index holds, in one JSON-ready object: ``rag index info --json`` and
``GET /v1/index`` (one code path)."""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.index.stores import make_store, store_summary


def index_summary(settings: Settings) -> dict:
    """Counts, embedder, chunking, build time, size and format version of the published
    index (raises IndexMissingError when none is built)."""
    info = make_store(settings).info()
    folder = Path(settings.index_dir).resolve()  # "in the index folder /home/me/index", not "... index"
    return {
        "index": str(folder),
        "store": store_summary(info, folder),
        "articles": info["counts"]["articles"],
        "passages": info["counts"]["passages"],
        "embedder": info["embedder"]["id"],
        "dim": info["embedder"]["dim"],
        "chunking": info["chunking"],
        "built_at": info["built_at"],
        "size_bytes": info["size_bytes"],
        "version": info["version"],
        "roots": info.get("roots") or [],  # the paths articles were indexed from
    }
