"""Weighted reciprocal rank fusion and the publisher/date boosts (rag.search.retrieval),
as a table over a tiny hand-built index (hashing embedder).

Article A holds the rare query word "pelican" once among many others, so BM25
ranks it first; article B is "quay" four times, so the bag-of-words cosine
ranks it first. With weights w_lex and w_dense, A scores w_lex/61 + w_dense/62
and B scores w_lex/62 + w_dense/61: the heavier ranking wins, and a named
publisher or date (+boost/61) outweighs a near tie. A and B carry the same
words in their headers ("Wire Tech" / "Tech Wire", 11 and 10 in their dates),
so naming B's publisher or date moves neither ranking by itself.
"""

from __future__ import annotations

import pytest

from rag.config import RetrievalSettings, load_settings
from rag.index.building import build_index
from rag.search.open_index import open_index
from rag.search.retrieval import Retriever
from tests.conftest import write_article

A, B = "https://example.org/a", "https://example.org/b"


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fusion")
    articles = folder / "articles"
    articles.mkdir()
    write_article(articles, "a.md", "Notes", "A pelican landed near the quay while gulls, ferries and anglers "
                  "crowded every corner.", source="Wire Tech", published_at="2023-10-11", url=A)
    write_article(articles, "b.md", "Notes", "Quay quay quay quay.", source="Tech Wire", published_at="2023-11-10",
                  url=B)
    for i in range(6):
        write_article(articles, f"f{i}.md", "Notes", f"The quay was busy on day {i} as ships unloaded timber.",
                      source="Filler", published_at=f"2022-01-0{i + 1}", url=f"https://example.org/f{i}")
    settings = load_settings(index_dir=folder / "index", articles_dir=articles, embedding={"backend": "hashing"})
    build_index(settings)
    index = open_index(settings)
    yield index
    index.close()


def test_the_two_rankings_disagree_on_the_top(opened):
    snap, query = opened.snapshot, "quay pelican"
    lexical = snap.lexical.scores(query)
    _, dense = snap.vectors.search(opened.embedder.embed([query])[0], 2, None)
    assert snap.passages([int(lexical.argmax())])[0].url == A
    assert snap.passages([int(dense[0])])[0].url == B


# (query, lexical, dense, sentence, source boost, date boost) -> the first two results
CASES = [
    ("quay pelican", 1.0, 0.0, 0.0, 0.0, 0.0, [A, B]),
    ("quay pelican", 0.0, 1.0, 0.0, 0.0, 0.0, [B, A]),
    ("quay pelican", 1.0, 0.9, 0.0, 0.0, 0.0, [A, B]),
    ("quay pelican", 0.9, 1.0, 0.0, 0.0, 0.0, [B, A]),
    ("quay pelican", 1.0, 0.9, 0.0, 1.0, 1.0, [A, B]),  # nothing named: no boost
    ("quay pelican, as Tech Wire reported", 1.0, 0.9, 0.0, 0.0, 0.0, [A, B]),
    ("quay pelican, as Tech Wire reported", 1.0, 0.9, 0.0, 1.0, 0.0, [B, A]),  # B's publisher named
    ("quay pelican, as Tech Wire reported", 1.0, 0.9, 0.0, 0.0, 1.0, [A, B]),  # only a date boost: none named
    ("quay pelican on 2023-11-10", 1.0, 0.9, 0.0, 0.0, 0.0, [A, B]),
    ("quay pelican on 2023-11-10", 1.0, 0.9, 0.0, 0.0, 1.0, [B, A]),  # B's day named
    ("quay pelican on 2023-11-10", 1.0, 0.0, 0.0, 0.0, 1.0, [B, A]),  # the day weighs as a first place
]


@pytest.mark.parametrize("query,lexical,dense,sentence,source,date,expected", CASES)
def test_fusion_weights_order_the_results(opened, query, lexical, dense, sentence, source, date, expected):
    weights = RetrievalSettings(lexical_weight=lexical, dense_weight=dense, sentence_weight=sentence,
                                source_boost=source, date_boost=date)
    found = Retriever(opened.snapshot, opened.embedder, weights).search(query, 3)
    assert [p.url for p in found[:2]] == expected


def test_fused_score_is_the_weighted_reciprocal_rank_sum(opened):
    weights = RetrievalSettings(lexical_weight=1.0, dense_weight=0.9, sentence_weight=0.0)
    found = Retriever(opened.snapshot, opened.embedder, weights).search("quay pelican", 2)
    assert [p.url for p in found] == [A, B]
    assert found[0].score == pytest.approx(1.0 / 61 + 0.9 / 62)
    assert found[1].score == pytest.approx(1.0 / 62 + 0.9 / 61)
    weights = weights.model_copy(update={"date_boost": 0.5})
    found = Retriever(opened.snapshot, opened.embedder, weights).search("quay pelican on 2023-11-10", 2)
    assert [p.url for p in found] == [B, A]
    assert found[0].score == pytest.approx(1.0 / 62 + 0.9 / 61 + 0.5 / 61)
