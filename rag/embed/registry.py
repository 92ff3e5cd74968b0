"""Embedders by name (a lazy ``"module:Class"`` registry, plus installed packages' entry points; see :mod:`rag.plugins`)."""

from __future__ import annotations

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder
from rag.plugins import EMBEDDERS_GROUP, backend_names, load_backend

EMBEDDERS: dict[str, str] = {
    "sentence-transformers": "rag.embed.sentence_transformer:SentenceTransformerEmbedder",
    "hashing": "rag.embed.hashing:HashingEmbedder",
    "openai": "rag.embed.openai_compatible:OpenAIEmbedder",
}
# What runs a sentence-transformers model (``embedding.runtime``).
RUNTIMES: dict[str, str] = {
    "torch": "rag.embed.sentence_transformer:SentenceTransformerEmbedder",
    "onnx": "rag.embed.onnx_runtime:OnnxEmbedder",
    "onnx-int8": "rag.embed.onnx_runtime:OnnxEmbedder",
}


def embedder_names() -> list[str]:
    """The built-in embedders, then those installed packages register."""
    return backend_names(EMBEDDERS, EMBEDDERS_GROUP)


def embedder_class(backend: str) -> type[Embedder]:
    """The class registered for ``backend``."""
    return load_backend(EMBEDDERS, backend, "embedding backend", "RAG_EMBEDDING__BACKEND", EMBEDDERS_GROUP)


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder the settings name (for sentence-transformers, on the runtime they name)."""
    cls = embedder_class(settings.backend)
    if settings.backend == "sentence-transformers":
        cls = load_backend(RUNTIMES, settings.runtime, "embedding runtime", "RAG_EMBEDDING__RUNTIME")
    return cls(settings)


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
                                 api_key_env=configured.api_key_env, cache_dir=configured.cache_dir)
    return EmbeddingSettings(backend=backend, cache_dir=configured.cache_dir)
