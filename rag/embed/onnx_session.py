"""ONNX Runtime sessions for an exported transformer: opening one, and running it on tokenizer output.

Used by the export's check against PyTorch (:mod:`rag.embed.onnx_export`) and
by the embedder that runs the export (:mod:`rag.embed.onnx_runtime`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from rag.errors import EmbedderError

# The tokenizer outputs a BERT-style transformer takes, in this order.
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


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
