"""The next version of the embedded index, written by one build (a :class:`PassageDraft`).

A draft starts as the published version (or empty) and collects writes and
deletes by passage id in memory; nothing touches the disk until
:meth:`IndexDraft.publish`. Publishing lays the passages out in rows, articles
in the order they were last written (untouched articles first, in their
previous order) and each article's passages by ordinal, so an incremental build
gives the same rows as a full one. Rows kept from the previous version are
copied by row (SQLite ``ATTACH``, FAISS block by block), never turned into
Python objects; :meth:`rag.index.embedded.versions.VersionFolders.publish` then writes the
version folder and swaps ``CURRENT``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from rag.index.embedded.manifest import FORMAT_VERSION
from rag.index.embedded.snapshot import ROWS, IndexSnapshot
from rag.index.embedded.vectors import assemble
from rag.index.embedded.versions import VersionFolders
from rag.index.passage_store import PassageDraft, Revision
from rag.types import Article, Passage

if TYPE_CHECKING:
    from filelock import BaseFileLock


class IndexDraft(PassageDraft):
    """Writes and deletes for the next version of an index folder; holds its build lock.

    ``versions`` is the folder's :class:`VersionFolders`, handed over by the
    :class:`rag.index.embedded.store.IndexStore` that owns it.
    """

    def __init__(self, versions: VersionFolders, previous: IndexSnapshot | None, manifest: dict,
                 lock: BaseFileLock):
        self.versions = versions
        self.previous = previous
        self.manifest = dict(manifest)
        self.dim = int(manifest["embedder"]["dim"])
        self._lock = lock
        self._open = True
        self._articles: dict[str, Article] = {}  # written here, in the order last written
        self._dropped_articles: set[str] = set()  # previous articles deleted
        self._dropped: set[str] = set()  # previous passage ids deleted
        self._new: dict[str, tuple[Passage, int]] = {}  # id -> (passage, index into the written vectors)
        self._blocks: list[np.ndarray] = []
        self._written = 0
        self._previous_articles: list[str] | None = None
        self._revisions: list[Revision] = []  # kept after the previous version's own

    # writing -------------------------------------------------------------------
    def write_articles(self, articles: Sequence[Article]) -> None:
        for article in articles:
            self._articles.pop(article.id, None)  # a rewritten article moves last
            self._articles[article.id] = article

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        gone = set(article_ids)
        for article_id in gone:
            self._articles.pop(article_id, None)
        self._dropped_articles |= gone & set(self._old_articles())
        self._new = {pid: item for pid, item in self._new.items() if item[0].article_id not in gone}
        self._revisions = [r for r in self._revisions if r.article_id not in gone]

    def write_revisions(self, revisions: Sequence[Revision]) -> None:
        known = self._articles.keys() | (set(self._old_articles()) - self._dropped_articles)
        for revision in revisions:
            if revision.article_id not in known:
                raise ValueError(f"revision of {revision.article_id}: the article is not stored; write it first")
        self._revisions.extend(revisions)

    def write(self, passages: Sequence[Passage], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(passages), self.dim):
            raise ValueError(f"{len(passages)} passages need vectors of shape ({len(passages)}, {self.dim}), "
                             f"got {vectors.shape}")
        known = self._articles.keys() | (set(self._old_articles()) - self._dropped_articles)
        for passage in passages:
            if passage.article_id not in known:
                raise ValueError(f"passage {passage.id}: its article {passage.article_id} is not stored; "
                                 "write the article first")
        self._blocks.append(vectors)
        for offset, passage in enumerate(passages):
            self._new[passage.id] = (passage, self._written + offset)
        self._written += len(passages)

    def delete(self, ids: Sequence[str]) -> None:
        for pid in ids:
            self._new.pop(pid, None)
            self._dropped.add(pid)

    def count(self) -> int:
        return len(self._kept_rows()) + len(self._new)

    # publishing ----------------------------------------------------------------
    def publish(self) -> None:
        if not self._open:
            raise RuntimeError("this draft was already published or aborted")
        previous = self.previous
        rewritten = self._articles.keys()
        copied = [a for a in self._old_articles() if a not in rewritten and a not in self._dropped_articles]
        plan = self._plan(copied + list(self._articles))
        new_at = {row: self._new[item.id][1] for row, item in enumerate(plan) if not isinstance(item, int)}
        old_pick = [(row, item) for row, item in enumerate(plan) if isinstance(item, int)]
        written = np.concatenate(self._blocks) if self._blocks else np.zeros((0, self.dim), np.float32)
        self._blocks.clear()
        new_pick = list(new_at.items())
        vectors = assemble(len(plan), self.dim, None if previous is None else previous.vectors, old_pick, written,
                           new_pick)
        del written, old_pick, new_pick, new_at
        manifest = {
            "format": FORMAT_VERSION,
            **self.manifest,
            "counts": {"articles": len(copied) + len(self._articles), "passages": len(plan)},
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        try:
            self.versions.publish(list(self._articles.values()), plan, None if previous is None else
                                previous.folder / ROWS, vectors, manifest, copied_articles=copied,
                                revisions=self._revisions)
        finally:
            self._close(clean=False)

    def _plan(self, article_order: list[str]) -> list[Passage | int]:
        """Rows of the new version: a new Passage, or the previous row to copy."""
        items: dict[str, list[tuple[int, Passage | int]]] = defaultdict(list)
        for row in self._kept_rows():
            items[self.previous.article_ids[row]].append((int(self.previous.ordinals[row]), row))
        for passage, _ in self._new.values():
            items[passage.article_id].append((passage.ordinal, passage))
        plan: list[Passage | int] = []
        for article_id in article_order:
            plan.extend(item for _, item in sorted(items.pop(article_id, []), key=lambda pair: pair[0]))
        if items:  # unreachable through this class's methods; a guard for the rows' consistency
            raise RuntimeError(f"passages of articles that are not stored: {sorted(items)[:3]}")
        return plan

    def _kept_rows(self) -> list[int]:
        """Rows of the previous version that the draft keeps as they are."""
        if self.previous is None:
            return []
        old = self.previous
        drop_articles, dropped, new = self._dropped_articles, self._dropped, self._new
        return [row for row, pid in enumerate(old.ids)
                if pid not in dropped and pid not in new and old.article_ids[row] not in drop_articles]

    def _old_articles(self) -> list[str]:
        if self._previous_articles is None:
            self._previous_articles = [] if self.previous is None else list(self.previous.stored_articles())
        return self._previous_articles

    # closing -------------------------------------------------------------------
    def abort(self) -> None:
        if self._open:
            self._close(clean=True)

    def _close(self, clean: bool) -> None:
        self._open = False
        self._new.clear()
        self._blocks.clear()
        self._revisions = []
        try:
            if self.previous is not None:
                self.previous.close()
            if clean:
                self.versions.clean(keep=set(), versions=False)  # only what killed builds left behind
        finally:
            self._lock.release()
