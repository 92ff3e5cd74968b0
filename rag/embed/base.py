"""The ``Embedder`` interface: texts to L2-normalised float32 vectors.

Every implementation exposes ``model_id`` (recorded in the index manifest),
``dim``, ``max_tokens`` (the most content tokens one input may hold, special
tokens excluded) and ``count_tokens`` in its own tokenizer, so that the chunker
can guarantee no passage is ever silently truncated.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from rag.errors import EmbedderError


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class Embedder(ABC):
    """Interface of every embedder."""

    model_id: str
    dim: int
    max_tokens: int
    # How many texts one ``embed`` call should carry to keep the backend busy
    # (the index build embeds in pieces of at least this); 0: no preference.
    call_size: int = 0

    @abstractmethod
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``: shape (len(texts), dim), float32, unit length."""

    @abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Content tokens of each text in this embedder's tokenizer."""

    @abstractmethod
    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of ``text`` (to cut an over-long sentence)."""

    def _check(self, vectors: np.ndarray, n: int) -> np.ndarray:
        if vectors.shape != (n, self.dim):
            raise EmbedderError(
                f"embedder {self.model_id} returned vectors of shape {vectors.shape}, "
                f"expected ({n}, {self.dim}); check the embedding model/server settings"
            )
        if not np.all(np.isfinite(vectors)):
            raise EmbedderError(f"embedder {self.model_id} returned NaN or infinite values")
        return normalise(vectors)
