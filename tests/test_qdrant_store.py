"""What is particular to the Qdrant store (the contract tests run over it too).

Local mode (``qdrant_client`` in this process, in a folder or in memory) is the
same API as a server; tests that need a real server run only when
``RAG_TEST_QDRANT_URL`` names one (tests/test_qdrant_server.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("qdrant_client", reason="the qdrant store needs qdrant-client: pip install '.[qdrant]'")

from rag.cli import app  # noqa: E402
from rag.config import EmbeddingSettings, load_settings  # noqa: E402
from rag.embed.hashing import HashingEmbedder  # noqa: E402
from rag.errors import ConfigError, IndexMismatchError  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from rag.index.lexical import LexicalIndex, SentenceLexicalIndex  # noqa: E402
from rag.index.qdrant.connection import release_local  # noqa: E402
from rag.index.qdrant.schema import NAMESPACE  # noqa: E402
from rag.index.qdrant.store import QdrantStore  # noqa: E402
from rag.index.stores import make_store  # noqa: E402
from rag.index.sync import sync  # noqa: E402
from rag.ingest.articles import load_paths  # noqa: E402
from rag.ingest.chunking import Chunker  # noqa: E402
from rag.search.open_index import open_index  # noqa: E402
from rag.types import SearchFilters  # noqa: E402
from tests.conftest import REPO, SAMPLE, write_article  # noqa: E402
from tests.openai_server import FakeOpenAIServer, closed_port_url  # noqa: E402

EMBEDDER = HashingEmbedder(EmbeddingSettings(dim=64))
CHUNKER = Chunker(EMBEDDER, 96, 16)
QUERIES = ["interest rates and inflation", "election results", "the striker scored", "profit rose percent",
           "storm warning", "hamas israel markets", "who bought Psagot", "zebra quokka"]


@pytest.fixture(scope="module")
def sample():
    return load_paths([SAMPLE]).articles


def memory_store(tmp_path: Path, **kw) -> QdrantStore:
    # One in-memory Qdrant per process: a fresh prefix keeps each test's collections apart.
    return QdrantStore(tmp_path / "index", path=":memory:", collection=f"t{uuid.uuid4().hex[:10]}", **kw)


def collections(store: QdrantStore) -> set[str]:
    return {c.name for c in store.client.get_collections().collections if c.name.startswith(store.prefix + "-")}


def test_point_ids_are_uuid5_and_the_passage_id_stays_in_the_payload(tmp_path, sample):
    store = memory_store(tmp_path)
    sync(store, sample[:3], EMBEDDER, CHUNKER)
    snapshot = store.open()
    pid = next(snapshot.passage_hashes())[0]
    [point] = store.client.retrieve(snapshot.passages_col, [str(uuid.uuid5(NAMESPACE, pid))], with_payload=True)
    assert point.payload["pid"] == pid and point.payload["article_id"] == pid.rsplit(":", 1)[0]
    assert isinstance(point.payload["date"], int) or point.payload["date"] is None  # YYYYMMDD, a number


def test_bm25_scores_are_the_embedded_stores(tmp_path, sample):
    """Client-side bm25s tokens with Qdrant's IDF give the embedded store's BM25, passages and sentences."""
    store = memory_store(tmp_path)
    sync(store, sample, EMBEDDER, CHUNKER)
    snapshot = store.open()
    ids = [h[0] for h in snapshot.passage_hashes()]
    passages = snapshot.fetch(ids)
    lexical = LexicalIndex.build(p.full_text for p in passages)
    sentences = SentenceLexicalIndex.build(p.text for p in passages)
    for query in QUERIES:
        scores = lexical.scores(query)
        order = [i for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]
        hits = snapshot.lexical_search(query, 10)
        assert hits.ids == [ids[i] for i in order], query
        assert np.allclose(hits.scores, scores[order], rtol=1e-5, atol=1e-6)
        assert np.allclose(snapshot.sentence_scores(query, ids), sentences.scores(query), rtol=1e-5, atol=1e-6)


def test_search_signals_and_results_are_the_faiss_stores(tmp_path, sample):
    """Retrieval code is unchanged, and each signal it fuses is the embedded store's: BM25 and
    best-sentence scores and ranks identical, dense cosines identical (ties aside: both stores
    break them by position, but float sums may differ in the last bit), the same top passages."""
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=SAMPLE, embedding={"backend": "hashing"})
    build_index(settings)
    qdrant = settings.model_copy(update={"store": settings.store.model_copy(
        update={"backend": "qdrant", "path": ":memory:", "collection_prefix": f"t{uuid.uuid4().hex[:10]}"})})
    build_index(qdrant)
    a_index, b_index = open_index(settings), open_index(qdrant)
    a, b = a_index.snapshot, b_index.snapshot
    compared = 0
    for query in QUERIES:
        vector = a_index.embedder.embed([query])[0]
        for filters in (None, SearchFilters(sources=[next(x.source for x in sample if x.source).upper()]),
                        SearchFilters(since=date(2023, 11, 1)), SearchFilters(until=date(2023, 10, 15))):
            la, lb = a.lexical_search(query, 100, filters), b.lexical_search(query, 100, filters)
            assert la.ids == lb.ids and np.allclose(la.scores, lb.scores, rtol=1e-5, atol=1e-6)
            da, db = a.dense_search(vector, 100, filters), b.dense_search(vector, 100, filters)
            assert np.allclose(da.scores, db.scores, atol=1e-6)
            distinct = [i for i in range(len(da)) if np.all(np.abs(np.delete(da.scores, i) - da.scores[i]) > 1e-6)]
            assert [da.ids[i] for i in distinct] == [db.ids[i] for i in distinct]
            ids = list(dict.fromkeys(la.ids + da.ids))
            assert np.allclose(a.sentence_scores(query, ids), b.sentence_scores(query, ids), rtol=1e-5, atol=1e-6)
            if len(distinct) == len(da):  # no dense ties (hashing vectors tie at 0 often): the same results
                compared += 1
                top_a = [p.id for p in a_index.retriever.search(query, 8, filters)]
                assert top_a == [p.id for p in b_index.retriever.search(query, 8, filters)], (query, filters)
    assert compared >= 8


def test_publish_swaps_the_alias_and_keeps_only_current_and_previous(tmp_path, sample):
    store = memory_store(tmp_path)
    versions = []
    for n in (2, 3, 4):
        sync(store, sample[:n], EMBEDDER, CHUNKER)
        versions.append(store.published_version())
    assert len(set(versions)) == 3
    assert collections(store) == {f"{store.prefix}-{v}-{role}" for v in versions[1:]
                                  for role in ("passages", "articles", "sentences", "revisions")}
    [alias] = [a for a in store.client.get_aliases().aliases if a.alias_name == store.alias]
    assert alias.collection_name == f"{store.prefix}-{versions[-1]}-passages"


def test_incremental_bm25_average_drifts_only_within_the_tolerance(tmp_path, sample):
    loose, exact = memory_store(tmp_path, avgdl_tolerance=0.5), memory_store(tmp_path)
    for store in (loose, exact):
        sync(store, sample[:20], EMBEDDER, CHUNKER)
    before = loose.open().metadata["bm25"]["passages"]["avgdl"]
    for store in (loose, exact):
        sync(store, sample[:20] + sample[25:], EMBEDDER, CHUNKER)
    kept, moved = loose.open().metadata["bm25"]["passages"], exact.open().metadata["bm25"]["passages"]
    assert kept["avgdl"] == before  # within 50 %: the old weights stay
    assert moved["avgdl"] == pytest.approx(moved["totals"][0] / moved["totals"][1]) != before
    assert kept["totals"] == moved["totals"]  # the exact totals are kept either way


KILLER = textwrap.dedent('''
    import os, signal, sys
    from rag.config import EmbeddingSettings
    from rag.embed.hashing import HashingEmbedder
    from rag.index.qdrant import draft as qdrant_draft, store as qdrant_store
    from rag.index.sync import sync
    from rag.ingest.articles import load_paths
    from rag.ingest.chunking import Chunker

    folder, point = sys.argv[1], sys.argv[2]
    owner = qdrant_store.QdrantStore if point in ("swap_alias", "clean") else qdrant_draft.QdrantDraft
    real = getattr(owner, point)
    calls = [0]

    def dying(*args, **kwargs):
        calls[0] += 1
        if point != "write" or calls[0] == 3:  # the third batch of passages
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    setattr(owner, point, dying)
    embedder = HashingEmbedder(EmbeddingSettings(dim=64))
    articles = load_paths([sys.argv[3]]).articles
    sync(qdrant_store.QdrantStore(folder, collection="k"), articles, embedder, Chunker(embedder, 96, 16),
         batch_size=8)
''')


@pytest.mark.parametrize("point", ["write", "_reweight", "swap_alias", "clean"])
def test_a_killed_build_leaves_a_whole_version_and_the_next_build_cleans_up(tmp_path, sample, point):
    """SIGKILL while writing, while weighting BM25, just before and just after the alias swap."""
    folder = tmp_path / "index"
    first = tmp_path / "first"
    first.mkdir()
    for i, article in enumerate(sample[:3]):
        write_article(first, f"{i}.md", article.title, article.body, source=article.source or "")
    store = QdrantStore(folder, collection="k")
    sync(store, load_paths([first]).articles, EMBEDDER, CHUNKER)
    old = store.published_version()
    release_local(store.path)  # local mode: one process at a time
    more = tmp_path / "more"
    more.mkdir()
    for i, article in enumerate(sample[3:12]):
        write_article(more, f"{i}.md", article.title, article.body, source=article.source or "")
    child = subprocess.run([sys.executable, "-c", KILLER, str(folder), point, str(more)], cwd=REPO,
                           env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=600)
    assert child.returncode == -9, child.stderr[-2000:]
    store = QdrantStore(folder, collection="k")
    snapshot = store.open()
    if point == "clean":  # killed after the swap: the new version is published, whole
        assert snapshot.version != old and snapshot.manifest["counts"]["articles"] == 9
    else:
        assert snapshot.version == old and snapshot.manifest["counts"]["articles"] == 3
    assert snapshot.count() == snapshot.manifest["counts"]["passages"] == len(list(snapshot.passage_hashes()))
    report = sync(store, load_paths([more]).articles, EMBEDDER, CHUNKER)
    assert report.articles == 9
    assert len(collections(store)) == 8  # the published version and the one before (4 collections each); nothing a kill left
    release_local(store.path)


def test_opening_with_another_stores_settings_is_a_clear_error(tmp_path, articles_dir):
    faiss = load_settings(index_dir=tmp_path / "f", articles_dir=articles_dir, embedding={"backend": "hashing"})
    build_index(faiss)
    with pytest.raises(IndexMismatchError, match="built with the faiss store.*RAG_STORE__BACKEND=faiss"):
        make_store(faiss.model_copy(update={"store": faiss.store.model_copy(update={"backend": "qdrant"})}))
    qdrant = load_settings(index_dir=tmp_path / "q", articles_dir=articles_dir, embedding={"backend": "hashing"},
                           store={"backend": "qdrant"})
    build_index(qdrant)
    assert json.loads((tmp_path / "q" / "qdrant-store.json").read_text())["collection"] == "rag"
    with pytest.raises(IndexMismatchError, match="built in Qdrant local mode.*RAG_STORE__BACKEND=qdrant"):
        make_store(qdrant.model_copy(update={"store": qdrant.store.model_copy(update={"backend": "faiss"})}))
    with pytest.raises(IndexMismatchError, match="alias 'other', where there is none"):
        make_store(qdrant.model_copy(update={"store": qdrant.store.model_copy(update={"collection_prefix": "other"})}))
    release_local(tmp_path / "q" / "qdrant")


def test_cli_builds_searches_and_shows_the_store(tmp_path, articles_dir, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    monkeypatch.setenv("RAG_STORE__BACKEND", "qdrant")
    runner = CliRunner()
    assert runner.invoke(app, ["index", "build", str(articles_dir), "--json"]).exit_code == 0
    info = runner.invoke(app, ["index", "info", "--json"])
    assert info.exit_code == 0, info.output
    summary = json.loads(info.stdout)
    assert summary["store"].startswith("qdrant, local mode in ") and "'rag'" in summary["store"]
    assert summary["passages"] == 3 and summary["version"].startswith("v-")
    found = runner.invoke(app, ["search", "striker contract", "--source", "sports daily", "--json"])
    assert found.exit_code == 0, found.output
    assert {r["source"] for r in json.loads(found.stdout)} == {"Sports Daily"}
    none = runner.invoke(app, ["search", "striker contract", "--until", "2023-10-01", "--json"])
    assert json.loads(none.stdout) == []
    release_local(tmp_path / "index" / "qdrant")


def test_the_api_key_goes_to_the_store_url_only(tmp_path, monkeypatch):
    with FakeOpenAIServer() as not_qdrant:  # answers 404 to Qdrant's REST paths
        url = not_qdrant.base_url.removesuffix("/v1")
        monkeypatch.setenv("QDRANT_TEST_KEY", "s3cret-key")
        env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_STORE__BACKEND": "qdrant", "RAG_STORE__URL": url,
               "RAG_STORE__API_KEY_ENV": "QDRANT_TEST_KEY"}
        result = CliRunner().invoke(app, ["index", "info"], env=env)
        assert result.exit_code == 1 and f"the Qdrant server at {url} could not be used" in result.stderr
        assert "Traceback" not in result.output and "s3cret-key" not in result.output
        assert not_qdrant.requests and all(r.headers.get("api-key") == "s3cret-key" for r in not_qdrant.requests)
    with pytest.raises(ConfigError, match="QDRANT_EMPTY_KEY"):
        QdrantStore(tmp_path, url=url, api_key_env="QDRANT_EMPTY_KEY")
    local = QdrantStore(tmp_path, path=":memory:", api_key_env="QDRANT_TEST_KEY")  # no url: the key is not read
    assert local.url is None


def test_server_down_is_one_clear_error(tmp_path):
    url = closed_port_url().removesuffix("/v1")
    env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_STORE__BACKEND": "qdrant", "RAG_STORE__URL": url,
           "RAG_STORE__TIMEOUT": "5"}
    result = CliRunner().invoke(app, ["search", "anything"], env=env)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: the Qdrant server at {url} could not be used")
    assert "Traceback" not in result.output
