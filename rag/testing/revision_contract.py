"""The revision checks of the passage-store contract: earlier versions of articles, kept
beside the passages (``PassageDraft.write_revisions``, ``PassageSnapshot.revisions``).

Mixed into :class:`rag.testing.passage_store.PassageStoreContract`, whose ``store``
and ``published`` fixtures they use (five articles ``a`` .. ``e`` published).
"""

from __future__ import annotations

import pytest

from rag.config import EmbeddingSettings
from rag.embed.hashing import HashingEmbedder
from rag.index.passage_store import PassageStore, Revision
from rag.index.sync import sync
from rag.ingest.chunking import Chunker
from rag.types import Article, Passage

EMBEDDER = HashingEmbedder(EmbeddingSettings(dim=64))  # the contract's (rag.testing.passage_store)


def _manifest(store: PassageStore) -> dict:
    snapshot = store.open()
    try:
        return {k: snapshot.manifest[k] for k in ("embedder", "chunking")}
    finally:
        snapshot.close()


def _kept(store: PassageStore) -> tuple[dict[str, int], dict[str, list[Revision]]]:
    snapshot = store.open()
    try:
        counts = snapshot.revised_articles()
        return counts, {i: snapshot.revisions(i) for i in counts}
    finally:
        snapshot.close()


def _revision(article_id: str, n: int) -> Revision:
    return Revision(article_id, f"2024-01-0{n}T10:00:00+00:00", f"Title {n}", f"Body {n} of {article_id}.",
                    "2023-10-02" if n % 2 else None)


class RevisionContract:
    """Revisions are published with their draft, carried forward, and go with their article."""

    def test_no_revisions_at_first(self, published):
        assert published.revised_articles() == {} and published.revisions("a") == []
        assert published.revisions("no-such-article") == []

    def test_revisions_are_published_in_order_and_carried_forward(self, store, published):
        manifest = _manifest(store)
        with store.begin(manifest) as draft:
            draft.write_revisions([_revision("a", 1), _revision("b", 2)])
            draft.write_revisions([_revision("a", 3)])
            draft.publish()
        assert published.revisions("a") == []  # a snapshot already open keeps its version
        counts, kept = _kept(store)
        assert counts == {"a": 2, "b": 1}
        assert kept["a"] == [_revision("a", 1), _revision("a", 3)] and kept["b"] == [_revision("b", 2)]
        with store.begin(manifest) as draft:  # a later version keeps them and adds after them
            draft.delete(["c:0"])
            draft.write_revisions([_revision("a", 4)])
            draft.publish()
        assert _kept(store)[1]["a"] == [_revision("a", 1), _revision("a", 3), _revision("a", 4)]

    def test_aborted_draft_and_deleted_articles(self, store, published):
        manifest = _manifest(store)
        with store.begin(manifest) as draft:
            draft.write_revisions([_revision("a", 1), _revision("b", 2)])
            draft.publish()
        with store.begin(manifest) as draft:
            draft.write_revisions([_revision("a", 5)])
        assert _kept(store)[0] == {"a": 1, "b": 1}  # aborted: nothing of it
        with store.begin(manifest) as draft:
            draft.delete_articles(["a"])
            with pytest.raises(ValueError, match="a"):
                draft.write_revisions([_revision("a", 6)])
            draft.publish()
        assert _kept(store)[0] == {"b": 1}
        with store.begin(manifest, fresh=True) as draft:
            assert draft.previous is None
            draft.write_articles([Article(id="b", title="B", body="Fresh text.")])
            passage = Passage(id="b:0", article_id="b", ordinal=0, text="Fresh text.", header="B", start=0, end=11,
                              token_count=2)
            draft.write([passage], EMBEDDER.embed([passage.full_text]))
            draft.publish()
        assert _kept(store)[0] == {}  # a fresh draft starts with none

    def test_sync_keeps_the_earlier_text(self, tmp_path, make_store):
        chunker = Chunker(EMBEDDER, 40, 8)
        store = make_store(tmp_path / "sync")
        first = Article(id="x", title="Storm hits coast", body="The storm killed 12 people.", source="Herald")
        sync(store, [first], EMBEDDER, chunker)
        second = Article(id="x", title="Storm hits coast", body="The storm killed 14 people.", source="Herald")
        assert sync(store, [second], EMBEDDER, chunker).revisions == 1
        assert sync(store, [second], EMBEDDER, chunker, full=True).revisions == 0  # no history given: none kept
        assert _kept(store)[0] == {}
        sync(store, [first], EMBEDDER, chunker)
        (revision,) = _kept(store)[1]["x"]
        assert (revision.title, revision.body) == ("Storm hits coast", "The storm killed 14 people.")
