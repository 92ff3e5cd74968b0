"""Embedders by name (a lazy ``"module:Class"`` registry, see :mod:`rag.plugins`)."""

from __future__ import annotations

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder
from rag.plugins import load_backend

EMBEDDERS: dict[str, str] = {
    "sentence-transformers": "rag.embed.sentence_transformer:SentenceTransformerEmbedder",
    "hashing": "rag.embed.hashing:HashingEmbedder",
    "openai": "rag.embed.openai_compatible:OpenAIEmbedder",
}


def embedder_class(backend: str) -> type[Embedder]:
    """The class registered for ``backend``."""
    return load_backend(EMBEDDERS, backend, "embedding backend", "RAG_EMBEDDING__BACKEND")


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder the settings name."""
    return embedder_class(settings.backend)(settings)


def embedding_for_backend(configured: EmbeddingSettings, backend: str) -> EmbeddingSettings:
    """The settings to build with when switching to the embedder ``backend``.

    The configured settings for the configured backend; for another one its
    defaults, keeping the configured server (URL and the name of its key
    variable) when switching to ``openai``.
    """
    if backend == configured.backend:
        return configured
    if backend == "openai":
        return EmbeddingSettings(backend=backend, base_url=configured.base_url,
                                 api_key_env=configured.api_key_env)
    return EmbeddingSettings(backend=backend)
