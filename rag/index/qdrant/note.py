"""The note a Qdrant build leaves in the index folder: where it published, and which alias.

With it, settings that ask for a store holding no index are told where the
index that was built lives (:func:`rag.index.stores.make_store`).
"""

from __future__ import annotations

import json
from pathlib import Path

QDRANT_NOTE = "qdrant-store.json"


def qdrant_note(folder: Path) -> dict | None:
    """Where a Qdrant build from this index folder last published, or None."""
    try:
        return json.loads((Path(folder) / QDRANT_NOTE).read_text())
    except (OSError, ValueError):
        return None


def write_qdrant_note(folder: Path, described: dict) -> None:
    """Record in the index folder where a Qdrant build published."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    tmp = Path(folder) / f".{QDRANT_NOTE}.tmp"
    tmp.write_text(json.dumps(described, indent=2) + "\n")
    tmp.replace(Path(folder) / QDRANT_NOTE)
