"""What a sentence-transformers model folder declares: window, pooling, name.

The ONNX runtimes run only the folder's transformer; the pooling and the
normalisation that sentence-transformers would apply after it are read from
``modules.json``, ``1_Pooling/config.json`` and ``sentence_bert_config.json``
and applied here, with the same arithmetic.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import EmbedderError

# sentence-transformers module types the ONNX runtimes reproduce.
_RUNNABLE = {"Transformer", "Pooling", "Normalize"}
# 1_Pooling/config.json flag -> our name for the mode.
_POOLING = {
    "pooling_mode_mean_tokens": "mean",
    "pooling_mode_cls_token": "cls",
    "pooling_mode_max_tokens": "max",
    "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len",
}
_USE_TORCH = "or set RAG_EMBEDDING__RUNTIME=torch"


@dataclass(frozen=True)
class FolderSpec:
    """The parts of a sentence-transformers folder that the ONNX runtimes need."""

    path: Path
    name: str
    max_seq_length: int | None  # None: the tokenizer's own limit
    do_lower_case: bool
    pooling: str  # "mean", "cls", "max" or "mean_sqrt_len"


def model_name(path: str | os.PathLike) -> str:
    """The name recorded in the embedder id: the folder's name (the packaged one is "model")."""
    name = os.path.basename(os.path.normpath(str(path)))
    return "all-MiniLM-L6-v2" if name == "model" else name


def _read_json(path: Path) -> dict | list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EmbedderError(f"cannot read {path} ({exc.strerror or exc}): is this a "
                            f"sentence-transformers model folder? Reinstall the model, {_USE_TORCH}") from None
    except ValueError as exc:
        raise EmbedderError(f"{path} is not valid JSON ({exc}); reinstall the model, {_USE_TORCH}") from None


def read_folder(path: str | os.PathLike) -> FolderSpec:
    """The spec of the model folder at ``path``; EmbedderError for what the ONNX runtimes cannot run."""
    folder = Path(path)
    modules = _read_json(folder / "modules.json")
    if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
        raise EmbedderError(f"{folder / 'modules.json'} is not a list of modules; reinstall the model, {_USE_TORCH}")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    unknown = [k for k in kinds if k not in _RUNNABLE]
    if unknown or kinds[:1] != ["Transformer"] or "Pooling" not in kinds:
        raise EmbedderError(
            f"the model at {folder} has the modules {kinds}; the onnx runtimes run a Transformer "
            f"followed by Pooling (and Normalize) only: {_USE_TORCH}")
    pooling_dir = next(m.get("path", "") for m, k in zip(modules, kinds) if k == "Pooling")
    flags = _read_json(folder / pooling_dir / "config.json")
    on = [k for k, v in flags.items() if k.startswith("pooling_mode_") and v] if isinstance(flags, dict) else []
    if len(on) != 1 or on[0] not in _POOLING:
        raise EmbedderError(f"the model at {folder} pools with {on or 'nothing'}; the onnx runtimes "
                            f"support one of {sorted(_POOLING)}: {_USE_TORCH}")
    config = folder / "sentence_bert_config.json"
    window = _read_json(config) if config.is_file() else {}
    if not isinstance(window, dict):
        raise EmbedderError(f"{config} is not a JSON object; reinstall the model, {_USE_TORCH}")
    length = window.get("max_seq_length")
    return FolderSpec(folder, model_name(folder), int(length) if length else None,
                      bool(window.get("do_lower_case", False)), _POOLING[on[0]])


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Sentence vectors from token vectors ``hidden`` (batch, tokens, dim), as sentence-transformers pools.

    Not normalised: the caller scales them to unit length.
    """
    weights = mask[..., None].astype(hidden.dtype)
    if mode == "cls":
        return hidden[:, 0]
    if mode == "max":
        return np.where(weights > 0, hidden, np.finfo(hidden.dtype).min).max(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    summed = (hidden * weights).sum(axis=1)
    return summed / (np.sqrt(counts) if mode == "mean_sqrt_len" else counts)
