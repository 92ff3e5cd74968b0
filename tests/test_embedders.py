"""One contract, run over every Embedder implementation."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.embed.registry import EMBEDDERS, RUNTIMES, make_embedder
from rag.errors import ConfigError, EmbedderError
from rag.ingest.chunking import Chunker
from rag.ingest.sentences import sentence_spans
from rag.types import Article
from tests.openai_server import FakeOpenAIServer


@pytest.fixture(scope="module")
def openai_server():
    with FakeOpenAIServer(dim=48) as server:
        yield server


# Every backend, and the sentence-transformers backend on every runtime.
CASES = [b for b in sorted(EMBEDDERS) if b != "sentence-transformers"] + [
    f"sentence-transformers:{runtime}" for runtime in sorted(RUNTIMES)]


@pytest.fixture(scope="module", params=CASES)
def embedder(request, openai_server):
    backend, _, runtime = request.param.partition(":")
    if backend == "openai":
        return make_embedder(EmbeddingSettings(backend="openai", model="fake-embed", base_url=openai_server.base_url))
    return make_embedder(EmbeddingSettings(backend=backend, runtime=runtime or "torch"))


TEXTS = [
    "The central bank raised interest rates to fight inflation.",
    "Interest rates were raised by the central bank as inflation rose.",
    "The striker scored twice in the cup final.",
]


def test_contract_shape_dtype_and_unit_length(embedder):
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (3, embedder.dim)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_contract_deterministic_and_meaningful(embedder):
    first, second = embedder.embed(TEXTS), embedder.embed(TEXTS)
    assert np.allclose(first, second, atol=1e-5)
    similar, unrelated = float(first[0] @ first[1]), float(first[0] @ first[2])
    assert similar > unrelated


def test_contract_identity_and_tokens(embedder):
    assert embedder.model_id and isinstance(embedder.model_id, str)
    assert embedder.max_tokens >= 64
    counts = embedder.count_tokens(TEXTS)
    assert len(counts) == 3 and all(c > 5 for c in counts)
    assert len(embedder.token_spans(TEXTS[0])) == counts[0]


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_sentence_transformer_window_excludes_special_tokens(runtime):
    embedder = make_embedder(EmbeddingSettings(runtime=runtime))
    suffix = "" if runtime == "torch" else f"+{runtime}"
    assert embedder.model_id == f"sentence-transformers/all-MiniLM-L6-v2{suffix}"
    assert (embedder.dim, embedder.max_tokens) == (384, 254)


# Long non-Latin articles: many sentences, then one sentence far longer than any
# window (no sentence end), which the chunker must cut at token boundaries.
NON_LATIN = {
    "russian": " ".join(f"Городской совет обсудил ремонт моста номер {i} в понедельник, сообщили чиновники."
                        for i in range(80))
    + " " + " ".join(f"длинное{i} предложение без точки о бюджете гавани" for i in range(120)) + ".",
    "chinese": "".join(f"市议会周一讨论了第{i}号港口大桥的维修问题，官员表示工程将持续三个月。" for i in range(80))
    + "".join(f"关于港口预算的很长的句子第{i}部分没有句号" for i in range(120)) + "。",
}


@pytest.mark.parametrize("language", sorted(NON_LATIN))
def test_contract_non_latin_article_is_cut_within_the_window(embedder, language):
    body = NON_LATIN[language]
    spans = embedder.token_spans(body)
    assert len(spans) == embedder.count_tokens([body])[0]  # the chunker relies on both agreeing
    assert all(0 <= start < end <= len(body) for start, end in spans)
    passages = Chunker(embedder, 256, 48).chunk(Article(id="x", title="Новости · 新闻", body=body))
    counts = embedder.count_tokens([p.full_text for p in passages])
    assert max(counts) <= embedder.max_tokens
    for passage in passages:
        assert body[passage.start:passage.end] == passage.text  # verbatim
    covered = [(p.start, p.end) for p in passages]
    for start, end in sentence_spans(body):  # nothing left out, the over-long sentence included
        assert any(s <= start < e for s, e in covered) and any(s < end <= e for s, e in covered)
    vectors = embedder.embed([p.full_text for p in passages[:3]])
    assert vectors.shape == (min(3, len(passages)), embedder.dim) and np.isfinite(vectors).all()


def test_unknown_backend_lists_choices():
    with pytest.raises(ConfigError, match="hashing"):
        make_embedder(EmbeddingSettings(backend="nope"))


def test_openai_wrong_dimension_is_a_clear_error(openai_server):
    embedder = make_embedder(EmbeddingSettings(backend="openai", model="fake-embed",
                                               base_url=openai_server.base_url, dim=48))
    openai_server.script_wrong_dim(17)
    with pytest.raises(EmbedderError, match="17-dimensional"):
        embedder.embed(["some text"])


def test_openai_server_down_is_a_clear_error():
    from tests.openai_server import closed_port_url

    with pytest.raises(EmbedderError, match="Could not connect to the embedding server"):
        make_embedder(EmbeddingSettings(backend="openai", model="m", base_url=closed_port_url(), max_retries=0))


def test_embedding_settings_for_a_switch_keep_only_the_configured_server():
    from rag.embed.registry import embedding_for_backend

    configured = EmbeddingSettings(backend="sentence-transformers", base_url="http://embed:9/v1",
                                   api_key_env="EMBED_KEY", batch_size=8)
    assert embedding_for_backend(configured, "sentence-transformers") is configured
    switched = embedding_for_backend(configured, "openai")
    assert (switched.backend, switched.base_url, switched.api_key_env, switched.batch_size) == \
        ("openai", "http://embed:9/v1", "EMBED_KEY", EmbeddingSettings().batch_size)
    assert embedding_for_backend(configured, "hashing") == EmbeddingSettings(backend="hashing")
