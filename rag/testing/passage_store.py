"""The contract every passage store keeps (:mod:`rag.index.passage_store`), as pytest checks.

Shipped in the package so that a store written outside this repository runs the
same checks as the built-in ones: subclass :class:`PassageStoreContract` in a
test module and give its ``make_store`` fixture (pytest needed). The data is
small and hand-made so that each expected result can be read off the texts;
vectors come from the real hashing embedder.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.embed.hashing import HashingEmbedder
from rag.errors import IndexLockedError, IndexMismatchError, IndexMissingError
from rag.index.passage_store import PassageStore
from rag.index.sync import sync
from rag.ingest.chunking import Chunker
from rag.testing.revision_contract import RevisionContract
from rag.types import Article, Passage, SearchFilters

EMBEDDER = HashingEmbedder(EmbeddingSettings(dim=64))
MANIFEST = {"embedder": {"id": EMBEDDER.model_id, "dim": EMBEDDER.dim, "max_tokens": EMBEDDER.max_tokens},
            "chunking": {"max_tokens": 64, "overlap_tokens": 0}}

ARTICLES = [
    Article(id="a", title="Harbour bridge reopens", body="-", source="Coast Herald", published_at="2023-10-02",
            url="https://example.org/a", author="Ann Reed", path="/articles/a.md", extra={"section": "city"}),
    Article(id="b", title="Striker signs contract", body="-", source="Sports Daily",
            published_at="2023-11-15T09:30:00", url="https://example.org/b"),
    Article(id="c", title="Chip maker profit", body="-", source="Tech Wire", published_at=None,
            url="https://example.org/c"),
    Article(id="d", title="Storm closes schools", body="-", source=None, published_at="2023-12-01"),
    Article(id="e", title="Ferry timetable", body="-", source="coast herald", published_at="2023-12-20"),
]
TEXTS = {
    "a": ["The harbour bridge reopened on Monday after repairs. Engineers replaced the cables.",
          "Traffic returned to normal by noon. The mayor thanked the engineers."],
    "b": ["The club's top striker signed a four-year contract. The fee was not disclosed."],
    "c": ["The chip maker reported record quarterly profit. Demand for accelerators drove sales."],
    "d": ["A storm closed every school in the county. Buses stopped running."],
    "e": ["The ferry timetable changes in winter. The ferry timetable changes in winter."],
}


def passages_of(article: Article, texts: list[str]) -> list[Passage]:
    out, start = [], 0
    for ordinal, text in enumerate(texts):
        out.append(Passage(id=f"{article.id}:{ordinal}", article_id=article.id, ordinal=ordinal, text=text,
                           header=article.title, start=start, end=start + len(text), token_count=len(text.split())))
        start += len(text) + 1
    return out


def vectors_of(passages: list[Passage]) -> np.ndarray:
    return EMBEDDER.embed([p.full_text for p in passages])


def all_passages() -> list[Passage]:
    return [p for a in ARTICLES for p in passages_of(a, TEXTS[a.id])]


def publish(store: PassageStore, articles=ARTICLES, passages=None) -> None:
    passages = all_passages() if passages is None else passages
    with store.begin(MANIFEST, fresh=True) as draft:
        draft.write_articles(articles)
        draft.write(passages, vectors_of(passages))
        assert draft.count() == len(passages)
        draft.publish()


def _try_begin(store: PassageStore) -> str:
    try:
        store.begin(MANIFEST).abort()
    except IndexLockedError:
        return "locked"
    return "began"


def _story(i: int, extra: str = "") -> Article:
    body = " ".join(f"Sentence {j} of story {i} is about harbour cables and profit {i * j}." for j in range(12))
    return Article(id=f"s{i}", title=f"Story {i}", body=body + extra, source=f"Paper {i % 2}",
                   published_at=f"2023-10-{i + 1:02d}", url=f"https://example.org/{i}")


def _everything(store: PassageStore) -> tuple:
    snapshot = store.open()
    try:
        ids = [h[0] for h in snapshot.passage_hashes()]
        passages = [(p.id, p.text, p.header, p.start, p.end) for p in snapshot.fetch(ids)]
        return passages, snapshot.embeddings(ids), snapshot.lexical_search("harbour profit 33", 5).ids
    finally:
        snapshot.close()


class PassageStoreContract(RevisionContract):
    """The checks every passage store passes (with the revision checks of
    :class:`rag.testing.revision_contract.RevisionContract`). Subclass it and give the
    ``make_store`` fixture: a function that makes an empty store of your implementation in a fresh folder.

    ::

        class TestMyStore(PassageStoreContract):
            @pytest.fixture
            def make_store(self):
                return lambda folder: MyStore(folder / "index")
    """

    @pytest.fixture
    def make_store(self) -> Callable[[Path], PassageStore]:
        raise NotImplementedError("a PassageStoreContract subclass gives the make_store fixture")

    @pytest.fixture
    def store(self, make_store, tmp_path) -> PassageStore:
        return make_store(tmp_path)

    @pytest.fixture
    def published(self, store):
        publish(store)
        snapshot = store.open(embedder_id=EMBEDDER.model_id)
        yield snapshot
        snapshot.close()

    def test_nothing_published(self, store):
        assert not store.exists()
        with pytest.raises(IndexMissingError):
            store.open()
        with pytest.raises(IndexMissingError):
            store.published_version()

    def test_fetch_returns_passages_with_their_article(self, store, published):
        assert store.exists()
        assert published.count() == len(published) == 6
        assert published.manifest["counts"] == {"articles": 5, "passages": 6}
        assert published.manifest["embedder"]["id"] == published.embedder_id == EMBEDDER.model_id
        assert published.version == store.published_version()
        got = published.fetch(["b:0", "a:1", "a:0"])
        assert [p.id for p in got] == ["b:0", "a:1", "a:0"]
        a1 = got[1]
        assert (a1.article_id, a1.ordinal, a1.text, a1.header) == ("a", 1, TEXTS["a"][1], "Harbour bridge reopens")
        assert (a1.title, a1.source, a1.published_at, a1.url, a1.author) == (
            "Harbour bridge reopens", "Coast Herald", "2023-10-02", "https://example.org/a", "Ann Reed")
        assert a1.extra == {"section": "city"}
        assert (a1.start, a1.end, a1.token_count) == (len(TEXTS["a"][0]) + 1, len(TEXTS["a"][0]) + 1 + len(TEXTS["a"][1]),
                                                      len(TEXTS["a"][1].split()))
        assert published.fetch([]) == []
        with pytest.raises(KeyError, match="nope:0"):
            published.fetch(["a:0", "nope:0"])

    def test_dense_search_ranks_by_cosine(self, published):
        query = vectors_of(passages_of(ARTICLES[2], TEXTS["c"]))[0]
        hits = published.dense_search(query, 3)
        assert len(hits) == 3 and hits.ids[0] == "c:0"
        assert hits.scores[0] == pytest.approx(1.0, abs=1e-5)
        assert list(hits.scores) == sorted(hits.scores, reverse=True)
        assert len(published.dense_search(query, 50)) == 6

    def test_lexical_search_ranks_by_bm25(self, published):
        hits = published.lexical_search("striker contract", 5)
        assert hits.ids == ["b:0"] and hits.scores[0] > 0  # only scores above 0
        hits = published.lexical_search("engineers harbour", 5)
        assert hits.ids[0] in {"a:0", "a:1"} and set(hits.ids) == {"a:0", "a:1"}
        assert list(hits.scores) == sorted(hits.scores, reverse=True)
        assert len(published.lexical_search("engineers harbour", 1)) == 1
        assert len(published.lexical_search("zebra quokka", 5)) == 0
        assert len(published.lexical_search("", 5)) == 0

    def test_lexical_ties_break_in_position_order(self, store):
        twin = Article(id="twin", title="Ferry timetable", body="-", source="Coast Herald", published_at="2023-12-21")
        passages = all_passages() + passages_of(twin, TEXTS["e"])
        publish(store, ARTICLES + [twin], passages)
        snapshot = store.open()
        try:
            hits = snapshot.lexical_search("ferry timetable winter", 5)
            assert set(hits.ids) == {"e:0", "twin:0"} and hits.scores[0] == hits.scores[1]
            positions = snapshot.facts(hits.ids).positions
            assert positions[0] < positions[1]
        finally:
            snapshot.close()

    @pytest.mark.parametrize("filters, expected", [
        (SearchFilters(sources=["coast HERALD"]), {"a:0", "a:1", "e:0"}),
        (SearchFilters(sources=["Tech Wire", "Sports Daily"]), {"b:0", "c:0"}),
        (SearchFilters(sources=["Nobody"]), set()),
        (SearchFilters(since=date(2023, 11, 15)), {"b:0", "d:0", "e:0"}),  # inclusive; no date: excluded
        (SearchFilters(until=date(2023, 11, 15)), {"a:0", "a:1", "b:0"}),
        (SearchFilters(since=date(2023, 11, 1), until=date(2023, 12, 1)), {"b:0", "d:0"}),
        (SearchFilters(sources=["Coast Herald"], since=date(2023, 12, 1)), {"e:0"}),
        (SearchFilters(), {"a:0", "a:1", "b:0", "c:0", "d:0", "e:0"}),
    ])
    def test_filters_apply_to_both_searches(self, published, filters, expected):
        query = "harbour bridge striker contract chip profit storm school ferry timetable engineers"
        dense = published.dense_search(EMBEDDER.embed([query])[0], 50, filters)
        assert set(dense.ids) == expected
        assert set(published.lexical_search(query, 50, filters).ids) == expected

    def test_filtered_search_still_returns_k(self, published):
        """A selective filter must not shrink the results below k when enough passages match."""
        query = EMBEDDER.embed(["storm closes schools"])[0]
        hits = published.dense_search(query, 2, SearchFilters(sources=["Coast Herald"]))
        assert len(hits) == 2 and set(hits.ids) <= {"a:0", "a:1", "e:0"}

    def test_sentence_scores_are_the_best_sentence(self, published):
        ids = ["a:0", "a:1", "b:0", "d:0"]
        scores = published.sentence_scores("engineers replaced cables", ids)
        assert scores.shape == (4,)
        # a:0 has all three words in one sentence; a:1 only "engineers".
        assert scores[0] > scores[1] > 0
        assert scores[2] == scores[3] == 0
        assert published.sentence_scores("zebra", ids).tolist() == [0, 0, 0, 0]
        assert len(published.sentence_scores("engineers", [])) == 0

    def test_facts_and_vectors(self, published):
        ids = ["e:0", "a:1", "c:0", "d:0", "a:0", "b:0"]
        facts = published.facts(ids)
        assert facts.article_ids == ["e", "a", "c", "d", "a", "b"]
        assert facts.sources == ["coast herald", "Coast Herald", "Tech Wire", "", "Coast Herald", "Sports Daily"]
        assert facts.dates == ["2023-12-20", "2023-10-02", "", "2023-12-01", "2023-10-02", "2023-11-15"]
        assert len(set(facts.positions.tolist())) == len(ids)
        assert facts.positions[4] < facts.positions[1]  # an article's passages in ordinal order
        expected = {p.id: v for p, v in zip(all_passages(), vectors_of(all_passages()))}
        got = published.embeddings(ids)
        assert got.shape == (6, EMBEDDER.dim) and got.dtype == np.float32
        assert np.allclose(got, np.stack([expected[i] for i in ids]), atol=1e-6)
        assert published.embeddings([]).shape == (0, EMBEDDER.dim)

    def test_articles_sources_and_titles(self, published):
        assert published.list_sources() == ["Coast Herald", "Sports Daily", "Tech Wire", "coast herald"]
        article = published.article("a")
        assert article["title"] == "Harbour bridge reopens" and article["body"] == "-"
        assert article["source"] == "Coast Herald" and article["url"] == "https://example.org/a"
        assert published.article("missing") is None
        titles = published.sample_titles(3, seed=1)
        assert len(titles) == 3 and set(titles) <= {a.title for a in ARTICLES}
        assert titles == published.sample_titles(3, seed=1)
        assert sorted(published.sample_titles(10)) == sorted(a.title for a in ARTICLES)

    def test_what_a_build_compares_against(self, published):
        stored = published.stored_articles()
        assert set(stored) == {"a", "b", "c", "d", "e"}
        assert stored["a"].content_hash == ARTICLES[0].content_hash
        assert stored["a"].path == "/articles/a.md" and stored["b"].path is None
        assert '"section"' in stored["a"].extra
        hashes = list(published.passage_hashes())
        assert [h[0] for h in hashes] == [p.id for p in all_passages()]  # position order = write order here
        assert all(h[2] == p.text_hash and h[1] == p.article_id for h, p in zip(hashes, all_passages()))

    def test_draft_writes_and_deletes_by_id_and_publishes_atomically(self, store, published):
        before = published.version
        new_a0 = passages_of(ARTICLES[0], ["The harbour bridge closed again for a week of repairs."])[0]
        late = Article(id="f", title="Late news", body="-", source="Tech Wire", published_at="2024-01-05")
        with store.begin(MANIFEST) as draft:
            assert draft.previous is not None and draft.previous.count() == 6
            assert draft.count() == 6  # a copy of the published version
            draft.delete(["b:0", "missing:3"])
            draft.delete_articles(["c", "missing"])
            draft.write_articles([late])
            fresh = [new_a0] + passages_of(late, ["The late story about quarterly profit."])
            draft.write(fresh, vectors_of(fresh))
            assert draft.count() == 5  # a:0 replaced, a:1, d:0, e:0, f:0
            mid = store.open()  # readers still see the published version
            assert mid.version == before and mid.count() == 6
            mid.close()
            draft.publish()
        after = store.open()
        try:
            assert after.version != before and after.count() == 5
            assert after.manifest["counts"] == {"articles": 5, "passages": 5}
            assert after.article("c") is None and after.article("f")["title"] == "Late news"
            assert after.fetch(["a:0"])[0].text == new_a0.text
            assert after.fetch(["a:1"])[0].text == TEXTS["a"][1]  # untouched passages are kept
            with pytest.raises(KeyError):
                after.fetch(["b:0"])
            with pytest.raises(KeyError):
                after.fetch(["c:0"])
            assert after.lexical_search("striker", 5).ids == []
            assert after.dense_search(vectors_of([new_a0])[0], 1).ids == ["a:0"]
            assert np.allclose(after.embeddings(["a:0"]), vectors_of([new_a0]), atol=1e-6)
            assert "Tech Wire" in after.list_sources()
            # The snapshot opened before the publish keeps answering from its version.
            assert published.fetch(["b:0"])[0].text == TEXTS["b"][0]
            assert published.lexical_search("striker", 5).ids == ["b:0"]
        finally:
            after.close()

    def test_aborted_or_failed_draft_changes_nothing(self, store, published):
        before = published.version
        with store.begin(MANIFEST) as draft:
            draft.delete_articles(["a", "b"])
        with pytest.raises(RuntimeError):
            with store.begin(MANIFEST) as draft:
                draft.delete(["a:0"])
                raise RuntimeError("embedding failed")
        again = store.open()
        try:
            assert again.version == before and again.count() == 6
        finally:
            again.close()

    def test_one_draft_at_a_time(self, store, published):
        draft = store.begin(MANIFEST)
        try:
            with pytest.raises(IndexLockedError):
                store.begin(MANIFEST)
            errors = []
            thread = threading.Thread(target=lambda: errors.append(_try_begin(store)))
            thread.start()
            thread.join()
            assert errors == ["locked"]
        finally:
            draft.abort()
        store.begin(MANIFEST).abort()  # free again

    def test_fresh_draft_starts_empty(self, store, published):
        with store.begin(MANIFEST, fresh=True) as draft:
            assert draft.previous is None and draft.count() == 0
            draft.write_articles(ARTICLES[:1])
            part = passages_of(ARTICLES[0], TEXTS["a"])
            draft.write(part, vectors_of(part))
            draft.publish()
        snapshot = store.open()
        try:
            assert snapshot.count() == 2 and snapshot.list_sources() == ["Coast Herald"]
        finally:
            snapshot.close()

    def test_write_needs_the_article(self, store):
        with store.begin(MANIFEST, fresh=True) as draft:
            orphan = passages_of(ARTICLES[0], TEXTS["a"])
            with pytest.raises(ValueError, match="a:0"):
                draft.write(orphan, vectors_of(orphan))

    def test_write_replaces_by_id(self, store, published):
        replacement = passages_of(ARTICLES[3], ["Snow, not a storm, closed the schools."])
        with store.begin(MANIFEST) as draft:
            draft.write(replacement, vectors_of(replacement))
            assert draft.count() == 6
            draft.publish()
        snapshot = store.open()
        try:
            assert snapshot.count() == 6 and snapshot.fetch(["d:0"])[0].text.startswith("Snow")
            assert snapshot.lexical_search("snow", 3).ids == ["d:0"]
        finally:
            snapshot.close()

    def test_open_refuses_another_embedder(self, store, published):
        with pytest.raises(IndexMismatchError, match="--full"):
            store.open(embedder_id="hashing/words-32")

    def test_info_is_cheap_and_names_the_version(self, store, published):
        assert store.location
        info = store.info()
        assert info["counts"] == {"articles": 5, "passages": 6}
        assert info["size_bytes"] > 0 and info["path"] and info["version"] == published.version

    def test_sync_builds_through_the_interface(self, tmp_path, make_store):
        """The build (rag.index.sync) uses only the interface: an incremental build of an
        edited collection equals a fresh build of it, on every store."""
        chunker = Chunker(EMBEDDER, 40, 8)
        inc = make_store(tmp_path / "inc")
        first = [_story(i) for i in range(5)]
        report = sync(inc, first, EMBEDDER, chunker)
        assert (report.added, report.passages) == (5, report.embedded_passages)
        edited = [_story(0, " A late correction."), *first[2:], _story(7)]
        report = sync(inc, edited, EMBEDDER, chunker)
        assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 3)
        assert 0 < report.embedded_passages < report.passages
        assert sync(inc, edited, EMBEDDER, chunker).embedded_passages == 0
        full = make_store(tmp_path / "full")
        sync(full, edited, EMBEDDER, chunker, full=True)
        a, b = _everything(inc), _everything(full)
        assert a[0] == b[0] and a[2] == b[2]
        assert np.allclose(a[1], b[1], atol=1e-6)
