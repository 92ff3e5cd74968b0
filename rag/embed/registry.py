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
