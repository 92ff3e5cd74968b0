"""Taking articles out of the index on request (``rag index remove PATH|ARTICLE_ID``).

A build never removes articles from paths it was not given
(:mod:`rag.index.scope`); this is the explicit way. Nothing is re-embedded:
the next version is the published one without the removed articles and their
passages, published atomically like a build.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from rag.errors import RagError
from rag.index.passage_store import PassageStore
from rag.index.scope import PathScope, absolute, indexed_roots


@dataclass
class RemovalReport:
    """What a removal did; the ``--json`` output of ``rag index remove``."""

    removed: int = 0
    articles: int = 0  # left in the index
    passages: int = 0
    removed_ids: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def remove_articles(store: PassageStore, targets: Sequence[str]) -> RemovalReport:
    """Remove the articles that ``targets`` name: an article id, or a file or folder
    path (every article indexed from under it, whether or not the files still exist).

    Raises RagError naming a target that matches nothing (nothing is removed
    then), and when the index would be left with no article at all.
    """
    started = time.perf_counter()
    if not store.exists():
        raise RagError(f"there is no index in {store.location} to remove articles from")
    info = store.info()
    manifest = {k: info[k] for k in ("embedding", "embedder", "chunking", "newest_published_at") if k in info}
    with store.begin(manifest) as draft:  # holds the build lock: no build changes the index meanwhile
        stored = draft.previous.stored_articles()
        chosen: dict[str, None] = {}
        for target in targets:
            matched = [target] if target in stored else [
                i for i, s in stored.items() if PathScope.of([target]).covers(s.path)]
            if not matched:
                raise RagError(f"{target} is neither an indexed article id nor a path articles were "
                               "indexed from (see `rag index info`); nothing was removed")
            chosen.update(dict.fromkeys(matched))
        if len(chosen) == len(stored):
            raise RagError(f"removing {', '.join(targets)} would leave the index in {store.location} with "
                           "no article; to start afresh, delete that folder and build again. Nothing was removed.")
        left = [s.path for i, s in stored.items() if i not in chosen]
        gone = [absolute(t) for t in targets if t not in stored]
        roots = indexed_roots([r for r in info.get("roots") or [] if r not in gone], left)
        draft.manifest["roots"] = roots
        draft.delete_articles(list(chosen))
        count = draft.count()
        draft.publish()
    return RemovalReport(removed=len(chosen), articles=len(left), passages=count, removed_ids=list(chosen),
                         roots=roots, seconds=round(time.perf_counter() - started, 3))
