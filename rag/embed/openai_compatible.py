"""Any OpenAI-compatible ``/v1/embeddings`` server, through the ``openai`` client."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np

from rag.config import EmbeddingSettings
from rag.embed.base import Embedder
from rag.errors import ConfigError, EmbedderError
from rag.openai_api import (
    OPENAI_DEFAULT_URL,
    ServerContext,
    openai_client,
    request_headers,
    server_key,
    translate_openai_error,
)


class _NotSent(Exception):
    """A batch dropped because another one failed first."""


class OpenAIEmbedder(Embedder):
    """Any server that speaks the OpenAI ``/v1/embeddings`` protocol.

    The server's tokenizer is unknown here, so token counts are a conservative
    estimate (one token per 3 UTF-8 bytes, and at least one per word): a
    passage never exceeds the window the user declares in ``max_tokens``.

    ``embed`` sends batches of ``batch_size`` texts, up to ``concurrency`` of
    them at once; each batch is retried on its own (``max_retries``) and the
    first batch that still fails fails the call.
    """

    def __init__(self, settings: EmbeddingSettings):
        if not settings.model:
            raise ConfigError("RAG_EMBEDDING__MODEL must name the embedding model for the openai backend")
        self.base_url = settings.base_url or OPENAI_DEFAULT_URL
        # Which key this server gets: rag.openai_api's rule, shared with the chat backend.
        self.key = server_key(settings.base_url, settings.api_key, settings.api_key_env, "RAG_EMBEDDING")
        self.max_retries = settings.max_retries
        self.client = openai_client(self.base_url, self.key, settings.timeout, settings.max_retries)
        self.headers = request_headers(self.base_url, self.key)
        self.model = settings.model
        self.timeout = settings.timeout
        self.batch_size = settings.batch_size
        self.concurrency = settings.concurrency
        self.call_size = self.batch_size * self.concurrency
        self.max_tokens = settings.max_tokens or 512
        self.dim = settings.dim or self._probe_dim()
        self.model_id = f"openai/{self.model}@{self.dim}"

    def _request(self, texts: list[str]) -> np.ndarray:

        try:
            response = self.client.embeddings.create(model=self.model, input=texts, extra_headers=self.headers)
        except Exception as exc:  # noqa: BLE001 - translated
            ctx = ServerContext("embedding server", self.base_url, "RAG_EMBEDDING", self.timeout,
                                self.max_retries, self.key, EmbedderError)
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

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self.embed_batches([texts])[0]

    def embed_batches(self, batches: list[list[str]]) -> list[np.ndarray]:
        """Each batch's vectors, up to ``concurrency`` requests in flight; a server answering
        with another dimension than the index's is a clear error."""
        results = self._request_all(batches)
        for vectors in results:
            if vectors.ndim != 2 or vectors.shape[1] != self.dim:
                raise EmbedderError(
                    f"the embedding server at {self.base_url} returned {vectors.shape[-1]}-dimensional vectors "
                    f"but this index uses {self.dim}; check RAG_EMBEDDING__MODEL, or rebuild with "
                    "`rag index build --full`"
                )
        return results

    def _request_all(self, batches: list[list[str]]) -> list[np.ndarray]:
        """Each batch's vectors, in order, with up to ``concurrency`` requests in flight."""
        if self.concurrency == 1 or len(batches) == 1:
            return [self._request(batch) for batch in batches]
        errors: list[BaseException] = []
        failed = threading.Event()

        def send(batch: list[str]) -> np.ndarray:
            # Checked by the worker itself: once a batch has failed for good no
            # other is sent, however late this thread learns of it.
            if failed.is_set():
                raise _NotSent
            try:
                return self._request(batch)
            except BaseException as exc:
                errors.append(exc)
                failed.set()
                raise

        pool = ThreadPoolExecutor(min(self.concurrency, len(batches)), thread_name_prefix="rag-embed")
        futures = [pool.submit(send, batch) for batch in batches]
        try:
            wait(futures, return_when=FIRST_EXCEPTION)
            if errors:  # set before any _NotSent can be raised
                raise errors[0]
            return [f.result() for f in futures]
        finally:
            # On a failure the batches not yet sent are dropped at once; the
            # ones in flight end within the timeout, their results unused.
            pool.shutdown(wait=False, cancel_futures=True)

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
