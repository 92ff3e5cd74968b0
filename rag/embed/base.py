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
    """Interface of every embedder.

    ``embed`` is the one batching loop: texts longest first (as
    ``SentenceTransformer.encode`` orders them: batches of similar lengths pad
    little), in batches of ``batch_size``, each embedded by ``embed_batch``;
    an implementation that can run several batches at once overrides
    ``embed_batches``.
    """

    model_id: str
    dim: int
    max_tokens: int
    batch_size: int = 64
    # How many texts one ``embed`` call should carry to keep the backend busy
    # (the index build embeds in pieces of at least this); 0: no preference.
    call_size: int = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for ``texts``: shape (len(texts), dim), float32, unit length."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        rows = [order[start:start + self.batch_size] for start in range(0, len(texts), self.batch_size)]
        for batch_rows, vectors in zip(rows, self.embed_batches([[texts[i] for i in r] for r in rows])):
            out[batch_rows] = self._shaped(np.asarray(vectors, dtype=np.float32), len(batch_rows))
        return self._check(out, len(texts))

    def embed_batches(self, batches: list[list[str]]) -> list[np.ndarray]:
        """The vectors of each batch, in order (one after another unless overridden)."""
        return [self.embed_batch(batch) for batch in batches]

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Vectors (not necessarily normalised) for one batch of at most ``batch_size`` texts."""

    @abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Content tokens of each text in this embedder's tokenizer."""

    @abstractmethod
    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of ``text`` (to cut an over-long sentence)."""

    def _shaped(self, vectors: np.ndarray, n: int) -> np.ndarray:
        if vectors.shape != (n, self.dim):
            raise EmbedderError(
                f"embedder {self.model_id} returned vectors of shape {vectors.shape}, "
                f"expected ({n}, {self.dim}); check the embedding model/server settings"
            )
        return vectors

    def _check(self, vectors: np.ndarray, n: int) -> np.ndarray:
        if vectors.shape != (n, self.dim):
            raise EmbedderError(
                f"embedder {self.model_id} returned vectors of shape {vectors.shape}, "
                f"expected ({n}, {self.dim}); check the embedding model/server settings"
            )
        if not np.all(np.isfinite(vectors)):
            raise EmbedderError(f"embedder {self.model_id} returned NaN or infinite values")
        return normalise(vectors)
