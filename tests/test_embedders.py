"""The embedder contract (rag.testing.embedder) over every implementation, and each backend's own checks."""

from __future__ import annotations

import numpy as np
import pytest

from rag.config import EmbeddingSettings
from rag.embed.registry import EMBEDDERS, RUNTIMES, make_embedder
from rag.errors import ConfigError, EmbedderError
from rag.testing.embedder import EmbedderContract
from tests.openai_server import FakeOpenAIServer


@pytest.fixture(scope="module")
def openai_server():
    with FakeOpenAIServer(dim=48) as server:
        yield server


# Every backend, and the sentence-transformers backend on every runtime.
CASES = [b for b in sorted(EMBEDDERS) if b != "sentence-transformers"] + [
    f"sentence-transformers:{runtime}" for runtime in sorted(RUNTIMES)]


class TestEveryEmbedder(EmbedderContract):
    """rag.testing's embedder contract over every backend and runtime here."""

    @pytest.fixture(scope="class", params=CASES)
    @classmethod
    def embedder(cls, request, openai_server):
        backend, _, runtime = request.param.partition(":")
        if backend == "openai":
            return make_embedder(EmbeddingSettings(backend="openai", model="fake-embed",
                                                   base_url=openai_server.base_url))
        return make_embedder(EmbeddingSettings(backend=backend, runtime=runtime or "torch"))


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_sentence_transformer_window_excludes_special_tokens(runtime):
    embedder = make_embedder(EmbeddingSettings(runtime=runtime))
    suffix = "" if runtime == "torch" else f"+{runtime}"
    assert embedder.model_id == f"sentence-transformers/all-MiniLM-L6-v2{suffix}"
    assert (embedder.dim, embedder.max_tokens) == (384, 254)


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
