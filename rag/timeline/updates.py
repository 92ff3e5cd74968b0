"""The updates of articles: what each kept revision changed, for ``rag changes`` and the UI.

A stored :class:`rag.index.passage_store.Revision` is an earlier version, kept
by the build that saw the text change (rag.index.revisions). An article with
revisions ``r1 .. rn`` and current text ``c`` has n updates: ``r1 -> r2``, ...,
``rn -> c``. Each update is reported as the newer version: ``seen_at`` (when
the build saw it), ``published_at`` (the publication time it carries) and what
changed from the version before (:func:`rag.timeline.changes.compare`).
"""

from __future__ import annotations

from datetime import date

from rag.errors import RagError
from rag.index.passage_store import PassageSnapshot, Revision
from rag.ingest.articles import article_id_for
from rag.timeline.changes import compare

__all__ = ["UnknownArticleError", "article_updates", "citation_updates", "mark_updated", "updated_articles"]


class UnknownArticleError(RagError):
    """No article with this id is stored."""


def article_updates(snapshot: PassageSnapshot, article_id: str, since: date | None = None,
                    kept: list[Revision] | None = None) -> dict:
    """``{"article_id", "title", "source", "url", "revisions": [...]}`` for one article (its id,
    or the link it was loaded with), oldest update first (none when its text never changed);
    only the updates seen on or after ``since`` when given; ``kept``: the article's revisions,
    when the caller has read them already. Raises UnknownArticleError, with a message for a
    person."""
    record = snapshot.article(article_id)
    if record is None and "://" in article_id:  # an article's link names it too (its id comes from it)
        article_id = article_id_for(article_id)
        record = snapshot.article(article_id)
    if record is None:
        raise UnknownArticleError(f"no article with id {article_id!r} in the index; `rag changes` without an id "
                                  "lists the updated articles and their ids")
    kept = snapshot.revisions(article_id) if kept is None else kept
    newer = [*((r.title, r.body, r.published_at) for r in kept[1:]),
             (record.get("title") or "", record.get("body") or "", record.get("published_at"))]
    updates = []
    for before, (title, body, published_at) in zip(kept, newer):
        if since is not None and before.seen_at[:10] < since.isoformat():
            continue
        changes = compare(before.title, before.body, title, body).to_dict()
        updates.append({"seen_at": before.seen_at, "published_at": published_at, **changes})
    return {"article_id": article_id, "title": record.get("title") or "", "source": record.get("source"),
            "url": record.get("url"), "revisions": updates}


def updated_articles(snapshot: PassageSnapshot, since: date | None = None) -> list[dict]:
    """:func:`article_updates` of every article with revisions (seen on or after ``since``),
    the most recently updated first."""
    out = []
    for article_id in snapshot.revised_articles():
        entry = article_updates(snapshot, article_id, since)
        if entry["revisions"]:
            out.append(entry)
    return sorted(out, key=lambda e: (e["revisions"][-1]["seen_at"], e["article_id"]), reverse=True)


def citation_updates(snapshot: PassageSnapshot, article_ids: list[str]) -> dict[str, dict]:
    """For each updated article among ``article_ids``: ``{"count", "last_seen_at", "revisions"}``
    (the revisions of :func:`article_updates`), what a source card shows."""
    out = {}
    for article_id in dict.fromkeys(article_ids):
        kept = snapshot.revisions(article_id)
        if kept:
            updates = article_updates(snapshot, article_id, kept=kept)["revisions"]
            out[article_id] = {"count": len(updates), "last_seen_at": updates[-1]["seen_at"], "revisions": updates}
    return out


def mark_updated(citations: list, snapshot: PassageSnapshot) -> list:
    """``citations`` (rag.answer.citations.Citation), each of an updated article given its
    :func:`citation_updates` entry as ``updates``: what every front end shows beside it."""
    updates = citation_updates(snapshot, [c.article_id for c in citations if c.article_id])
    for c in citations:
        c.updates = updates.get(c.article_id)
    return citations
