"""Any OpenAI-compatible ``/v1/embeddings`` server, through the ``openai`` client."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder
from rag.errors import ConfigError, EmbedderError
from rag.openai_api import OPENAI_DEFAULT_URL, ServerContext, translate_openai_error


class OpenAIEmbedder(Embedder):
    """Any server that speaks the OpenAI ``/v1/embeddings`` protocol.

    The server's tokenizer is unknown here, so token counts are a conservative
    estimate (one token per 3 UTF-8 bytes, and at least one per word): a
    passage never exceeds the window the user declares in ``max_tokens``.
    """

    def __init__(self, settings: EmbeddingSettings):
        from openai import OpenAI

        if not settings.model:
            raise ConfigError("RAG_EMBEDDING__MODEL must name the embedding model for the openai backend")
        key = os.environ.get(settings.api_key_env)
        if not key and not settings.base_url:
            raise ConfigError(
                f"the openai embedding backend needs an API key in the environment "
                f"variable {settings.api_key_env}, or RAG_EMBEDDING__BASE_URL for a local server"
            )
        self.base_url = settings.base_url or OPENAI_DEFAULT_URL
        self.key_env, self.max_retries = settings.api_key_env, settings.max_retries
        self.client = OpenAI(
            api_key=key or "not-needed", base_url=settings.base_url,
            timeout=settings.timeout, max_retries=settings.max_retries,
        )
        self.model = settings.model
        self.timeout = settings.timeout
        self.batch_size = settings.batch_size
        self.max_tokens = settings.max_tokens or 512
        self.dim = settings.dim or self._probe_dim()
        self.model_id = f"openai/{self.model}@{self.dim}"

    def _request(self, texts: list[str]) -> np.ndarray:

        try:
            response = self.client.embeddings.create(model=self.model, input=texts)
        except Exception as exc:  # noqa: BLE001 - translated
            ctx = ServerContext("embedding server", self.base_url, "RAG_EMBEDDING", self.timeout,
                                self.max_retries, self.key_env, EmbedderError)
            raise translate_openai_error(exc, ctx, f"embedding with model {self.model}") from exc
        rows = sorted(response.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise EmbedderError(f"the embedding server returned {len(rows)} vectors for {len(texts)} texts")
        try:
            return np.array([r.embedding for r in rows], dtype=np.float32)
        except ValueError as exc:
            raise EmbedderError("the embedding server returned vectors of different lengths") from exc

    def _probe_dim(self) -> int:
        return int(self._request(["dimension probe"]).shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [self._request(list(texts[i:i + self.batch_size])) for i in range(0, len(texts), self.batch_size)]
        vectors = np.concatenate(parts)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise EmbedderError(
                f"the embedding server at {self.base_url} returned {vectors.shape[-1]}-dimensional vectors "
                f"but this index uses {self.dim}; check RAG_EMBEDDING__MODEL, or rebuild with "
                "`rag index build --full`"
            )
        return self._check(vectors, len(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # The server's tokenizer is unknown: assume a token per 3 UTF-8 bytes of
        # each word, which over-counts every real BPE tokenizer for English and
        # for non-Latin scripts alike, so a passage never exceeds the window.
        return [len(self.token_spans(t)) for t in texts]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Pieces of at most 3 UTF-8 bytes (at least one character) that never cross a word start."""
        spans: list[tuple[int, int]] = []
        for match in re.finditer(r"\S+", text):
            start, end = match.span()
            piece_start, piece_bytes = start, 0
            for i in range(start, end):
                size = len(text[i].encode("utf-8"))
                if piece_bytes and piece_bytes + size > 3:
                    spans.append((piece_start, i))
                    piece_start, piece_bytes = i, 0
                piece_bytes += size
            spans.append((piece_start, end))
        return spans
