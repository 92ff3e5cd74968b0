"""A sentence-transformers model run by ONNX Runtime (``runtime = "onnx"`` or ``"onnx-int8"``).

The model folder's transformer is exported once (:mod:`rag.embed.onnx_export`);
texts are tokenised by the folder's own tokenizer, batched and padded as
``SentenceTransformer.encode`` does (longest first), and pooled and
normalised as the folder's configuration says (:mod:`rag.embed.st_folder`).
Loading an exported model imports neither torch nor sentence-transformers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import EmbeddingSettings, cache_dir
from rag.embed.base import Embedder
from rag.embed.onnx_export import cached_export
from rag.embed.onnx_session import open_session, run_session
from rag.embed.sentence_transformer import TokenizerCounts, default_model_path
from rag.embed.st_folder import pool, read_folder
from rag.errors import EmbedderError


class OnnxEmbedder(TokenizerCounts, Embedder):
    """A sentence-transformers folder (default: the packaged all-MiniLM-L6-v2) on ONNX Runtime.

    Its ``model_id`` names the runtime, so an index built with it is not searched
    with vectors from another runtime (the index refuses to open).
    """

    def __init__(self, settings: EmbeddingSettings | None = None):
        settings = settings or EmbeddingSettings(runtime="onnx-int8")
        self.runtime = settings.runtime
        self.batch_size = settings.batch_size
        path = settings.model or default_model_path()
        self.spec = read_folder(path)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import transformers
            from transformers import AutoTokenizer

            transformers.logging.set_verbosity_error()  # whole articles are counted on purpose
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.spec.path))
        except Exception as exc:  # the library raises many kinds
            raise EmbedderError(f"could not load the tokenizer of the model at {path}: {exc}. Give a "
                                "sentence-transformers model folder in RAG_EMBEDDING__MODEL") from exc
        self.window = self.spec.max_seq_length or int(self.tokenizer.model_max_length)
        self.session = open_session(cached_export(self.spec, self.runtime, cache_dir(settings)))
        self.model_id = f"sentence-transformers/{self.spec.name}+{self.runtime}"
        self.max_tokens = self.window - self.special_tokens()
        self.dim = int(self._forward(["dimension probe"]).shape[1])

    def _forward(self, texts: list[str]) -> np.ndarray:
        texts = [t.strip() for t in texts]  # as sentence-transformers' tokenize()
        if self.spec.do_lower_case:
            texts = [t.lower() for t in texts]
        enc = self.tokenizer(texts, padding=True, truncation="longest_first", max_length=self.window,
                             return_tensors="np")
        return pool(run_session(self.session, enc), enc["attention_mask"], self.spec.pooling)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        return self._forward(texts)
