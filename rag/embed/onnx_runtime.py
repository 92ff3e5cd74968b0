"""A sentence-transformers model run by ONNX Runtime (``runtime = "onnx"`` or ``"onnx-int8"``).

The model folder's transformer is exported once (:mod:`rag.embed.onnx_export`);
texts are tokenised by the folder's own tokenizer, batched and padded as
``SentenceTransformer.encode`` does (longest first), and pooled and
normalised as the folder's configuration says (:mod:`rag.embed.st_folder`).
Loading an exported model imports neither torch nor sentence-transformers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rag.config import EmbeddingSettings, cache_dir
from rag.embed.base import Embedder
from rag.embed.onnx_export import INPUTS, cached_export
from rag.embed.sentence_transformer import TokenizerCounts, default_model_path
from rag.embed.st_folder import pool, read_folder
from rag.errors import EmbedderError


def open_session(path: Path):
    """An ONNX Runtime CPU session for the model file at ``path``."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise EmbedderError("the onnx embedding runtimes need onnxruntime: `pip install onnxruntime`, "
                            "or set RAG_EMBEDDING__RUNTIME=torch") from None
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    # Threads that sleep instead of spinning between operators: on 2 busy cores
    # spinning took CPU from the work (measured: docs/embedding_runtime.md).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise EmbedderError(f"ONNX Runtime cannot load {path} ({exc}); delete it to export it again, "
                            "or set RAG_EMBEDDING__RUNTIME=torch") from None


def run_session(session, encoded: Mapping[str, np.ndarray]) -> np.ndarray:
    """Token vectors (batch, tokens, dim) for tokenizer output ``encoded``."""
    wanted = [i.name for i in session.get_inputs()]
    feed = {name: np.asarray(encoded[name], dtype=np.int64) for name in wanted if name in INPUTS}
    return session.run(None, feed)[0]


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

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        texts = list(texts)
        # Longest first, as SentenceTransformer.encode: batches of similar lengths pad little.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            rows = order[start:start + self.batch_size]
            out[rows] = self._forward([texts[i] for i in rows])
        return self._check(out, len(texts))
