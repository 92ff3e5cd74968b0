"""Which earlier versions a build keeps: an article whose title or body changed keeps the
text it had as a :class:`rag.index.passage_store.Revision`.

:func:`rag.index.sync.sync` calls :func:`keep_revisions` with the published
version it replaces (the draft's own ``previous``, or for a fresh ``--full``
build the version :func:`rag.index.building.build_index` read before it), so
the revisions are written into the same draft as the new text and published
with it, atomically. Only the current version is searched; what changed
between versions is :mod:`rag.timeline.changes`' business.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from rag.index.passage_store import PassageDraft, PassageSnapshot, Revision
from rag.types import Article


def build_time() -> str:
    """The ``seen_at`` of the revisions a build keeps: now, ISO-8601 in UTC, to the second."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def earlier_versions(history: PassageSnapshot, articles: Sequence[Article], seen_at: str) -> list[Revision]:
    """The stored versions of ``articles`` whose title or body differ from the new ones.

    Only an article whose content hash changed is read back; a change of its
    date, outlet, link or author alone is not a new version of its text.
    """
    stored = history.stored_articles()
    out = []
    for article in articles:
        before = stored.get(article.id)
        if before is None or before.content_hash == article.content_hash:
            continue
        record = history.article(article.id) or {}
        title, body = record.get("title") or "", record.get("body") or ""
        if (title, body) != (article.title, article.body):
            out.append(Revision(article.id, seen_at, title, body, record.get("published_at")))
    return out


def keep_revisions(draft: PassageDraft, history: PassageSnapshot | None, articles: Sequence[Article],
                   changed: Sequence[Article], seen_at: str) -> int:
    """Write into ``draft`` the revisions the build keeps, of the articles among ``changed``
    (new or edited ones) whose text changed; how many.

    A draft that started empty (``--full``) gets ``history``'s revisions of the
    articles it holds (``articles``) first, so a full rebuild forgets none.
    """
    if history is None:
        return 0
    if draft.previous is None:
        present = {a.id for a in articles}
        for article_id in (i for i in history.revised_articles() if i in present):
            draft.write_revisions(history.revisions(article_id))
    new = earlier_versions(history, changed, seen_at)
    draft.write_revisions(new)
    return len(new)
