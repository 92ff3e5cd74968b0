"""The OpenAI-compatible embedder sends its batches concurrently.

Against the loopback server (tests/openai_server.py), which serves requests in
parallel and counts how many embeddings requests it holds at once: the bound
is kept and reached, vectors come back in input order whatever order the
requests finish in, retries stay per batch, and one batch that fails for good
fails the call, and so the build, with the published index untouched.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from rag.cli import app
from rag.config import EmbeddingSettings, load_settings
from rag.embed.openai_compatible import OpenAIEmbedder
from rag.errors import EmbedderError
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from tests.conftest import write_article
from tests.openai_server import FakeOpenAIServer

TEXTS = [f"passage {i} about harbour bridges, striker contracts and chip profits number {i}" for i in range(40)]


def embedder_for(server: FakeOpenAIServer, **kw) -> OpenAIEmbedder:
    kw = {"batch_size": 4, "concurrency": 4, "max_retries": 0, "timeout": 10.0, **kw}
    return OpenAIEmbedder(EmbeddingSettings(backend="openai", model="fake-embed", base_url=server.base_url,
                                            dim=server.dim, **kw))


@pytest.fixture
def server():
    with FakeOpenAIServer(dim=24) as srv:
        yield srv


def test_vectors_keep_input_order_when_requests_finish_out_of_order(server):
    expected = embedder_for(server, concurrency=1).embed(TEXTS)
    # The first requests to arrive are the slowest, so later batches finish first.
    for delay in (0.4, 0.3, 0.2, 0.1):
        server.script_delay(delay, endpoint="embeddings")
    got = embedder_for(server, concurrency=4).embed(TEXTS)
    assert np.array_equal(got, expected)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_at_most_concurrency_requests_in_flight_and_the_bound_is_reached(concurrency):
    with FakeOpenAIServer(dim=24, embed_delay=0.15) as server:
        embedder_for(server, concurrency=concurrency).embed(TEXTS)  # 10 batches of 4
        assert len(server.embedding_requests()) == 10
        assert server.embed_peak_in_flight == concurrency


def test_a_failed_request_is_retried_for_its_batch_only(server):
    server.script_error(500, endpoint="embeddings")
    vectors = embedder_for(server, max_retries=1).embed(TEXTS)
    assert vectors.shape == (40, 24)
    assert len(server.embedding_requests()) == 10 + 1


def test_one_batch_failing_for_good_fails_the_call_and_sends_no_more_batches():
    with FakeOpenAIServer(dim=24, embed_delay=0.5) as server:
        server.script_error(503, endpoint="embeddings")
        with pytest.raises(EmbedderError, match="HTTP 503"):
            embedder_for(server, concurrency=2).embed(TEXTS)
        seen = len(server.embedding_requests())
        for thread in [t for t in threading.enumerate() if t.name.startswith("rag-embed")]:
            thread.join(timeout=30)  # the request still in flight has ended: no sleep
        # Once the failure is seen no batch is sent: only the one in flight beside
        # it may still arrive.
        assert len(server.embedding_requests()) - seen <= 1
        # The failing batch, the one beside it and at most one more started
        # before the failure was seen (each takes 0.5 s); the other 7 of the 10
        # were never sent.
        assert len(server.embedding_requests()) <= 3


def test_no_batch_is_sent_after_one_failed():
    """The first request fails at once, the second is held; the worker that saw the
    failure must not send another batch, however long the call takes to notice."""
    server = FakeOpenAIServer(dim=24).start()
    try:
        server.script_error(503, endpoint="embeddings")
        server.script_delay(60, endpoint="embeddings")  # held until the server stops
        with pytest.raises(EmbedderError, match="HTTP 503"):
            embedder_for(server, concurrency=2).embed(TEXTS)
    finally:
        server.stop()  # releases the held request
    for thread in [t for t in threading.enumerate() if t.name.startswith("rag-embed")]:
        thread.join(timeout=30)
    assert len(server.embedding_requests()) <= 2


def test_concurrency_is_bounded_in_settings(monkeypatch, tmp_path):
    with pytest.raises(ValidationError, match="concurrency"):
        EmbeddingSettings(concurrency=0)
    with pytest.raises(ValidationError, match="concurrency"):
        EmbeddingSettings(concurrency=65)
    monkeypatch.setenv("RAG_EMBEDDING__CONCURRENCY", "1000")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(app, ["index", "info"])
    assert result.exit_code == 1 and "invalid settings" in result.stderr and "concurrency" in result.stderr


def test_a_build_whose_batch_fails_leaves_the_published_index(server, tmp_path, articles_dir):
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=articles_dir, embedding={
        "backend": "openai", "model": "fake-embed", "base_url": server.base_url, "dim": 24,
        "batch_size": 1, "concurrency": 3, "max_retries": 0, "timeout": 10.0})
    assert build_index(settings).passages == 3
    store = IndexStore(settings.index_dir)
    published = store.current_folder()
    write_article(articles_dir, "d.md", "Ferry strike ends", "The ferry workers ended their strike. "
                  "Boats sail again from Tuesday.", source="Coast Herald", published_at="2024-01-05")
    (articles_dir / "a.md").write_text((articles_dir / "a.md").read_text().replace("Monday", "Tuesday"))
    server.clear()
    server.script_error(500, endpoint="embeddings")  # one of the two batches fails
    with pytest.raises(EmbedderError, match="HTTP 500 after 1 try"):
        build_index(settings)
    assert store.current_folder() == published
    snapshot = store.open()
    assert len(snapshot) == 3
    snapshot.close()
    assert not [p for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]
    server.clear()
    report = build_index(settings)  # the same build goes through once the server behaves
    assert (report.passages, report.added, report.updated) == (4, 1, 1)
    assert store.current_folder() != published
