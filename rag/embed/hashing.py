"""Feature hashing of words: a real, deterministic embedder that needs no model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    """Feature hashing of lower-cased words: deterministic, instant, no model.

    A real embedder (texts sharing words get similar vectors), used by tests and
    by anyone who wants an index without any model at all.
    """

    def __init__(self, settings: EmbeddingSettings | None = None):
        settings = settings or EmbeddingSettings()
        self.dim = settings.dim or 256
        self.max_tokens = settings.max_tokens or 256
        self.model_id = f"hashing/words-{self.dim}"

    def _bucket(self, word: str) -> tuple[int, float]:
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, (1.0 if (value >> 63) & 1 else -1.0)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                index, sign = self._bucket(word)
                out[row, index] += sign
        return out

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) for t in texts]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]
