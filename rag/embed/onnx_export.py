"""A sentence-transformers folder's transformer exported to ONNX, cached, checked.

The export runs once per model and runtime, offline, from the model folder:

1. torch traces the transformer (``torch.onnx.export`` with the TorchScript
   exporter, which needs no package beyond torch) with eager attention, so that
2. ONNX Runtime's transformer optimiser can fuse it into its BERT kernels
   (Attention, SkipLayerNormalization, BiasGelu);
3. for ``onnx-int8`` the fused graph is dynamically quantised: 8-bit weights
   with a scale per output channel, activations quantised per batch at run
   time;
4. the result is checked against the PyTorch model on a few probe texts
   (cosine of the pooled vectors) before it is kept.

It is written to ``<cache_dir>/onnx/<model>-<key>/<runtime>.onnx`` (atomically,
under a file lock so two processes never export at once) with a
``<runtime>.json`` record: sha256 and size of the file, the recipe version, the
size and mtime of every file of the source folder, and the sha256 of the
folder's contents. The key comes from the folder's file names and sizes, not
its path, so every virtual environment that installs the same model package
shares one export in the per-user cache. The file is hashed on every load and
exported again when it is missing, damaged, made by another recipe, or made
from other source contents (a source whose mtimes changed, as in a new
environment, is hashed once and, when its contents are the same, recorded).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from rag.embed.onnx_session import INPUTS, open_session, run_session
from rag.embed.st_folder import FolderSpec, pool
from rag.errors import EmbedderError

RECIPE = 1  # bump when the export steps change: cached exports are then rebuilt
RUNTIMES = ("onnx", "onnx-int8")
# Lowest cosine to the PyTorch vectors an export may show on the probes.
MIN_COSINE = {"onnx": 0.9999, "onnx-int8": 0.98}
PROBES = [
    "Ukraine's president presented a victory plan to allies in Brussels.",
    "The central bank raised interest rates by a quarter point on Wednesday.",
    "Shares of the chip maker rose 8% after record quarterly profit driven by AI demand.",
    "Fans celebrated outside the stadium.",
    " ".join(["The committee reviewed the budget, the schedule and the safety report in detail."] * 30),
]


def cached_export(spec: FolderSpec, runtime: str, cache: Path) -> Path:
    """The ONNX file of ``spec``'s model for ``runtime``, exported into ``cache`` if needed."""
    if runtime not in RUNTIMES:
        raise EmbedderError(f"no ONNX export for runtime {runtime!r}; choose one of {', '.join(RUNTIMES)}")
    source = source_stamp(spec.path)
    folder = cache / "onnx" / f"{spec.name}-{folder_key(source)}"
    target, record = folder / f"{runtime}.onnx", folder / f"{runtime}.json"
    if is_current(target, record, source) or same_contents(target, record, source, spec.path):
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbedderError(f"cannot write the ONNX export to {folder} ({exc.strerror or exc}); "
                            "set RAG_CACHE_DIR to a writable folder") from None
    from filelock import FileLock

    with FileLock(str(folder / ".lock")):
        if not is_current(target, record, source):  # another process may have just made it
            for stale in folder.glob(".export-*"):  # left by an export that was killed
                shutil.rmtree(stale, ignore_errors=True)
            export(spec, runtime, target, record, source)
    return target


def folder_key(source: dict[str, list[int]]) -> str:
    """A short key from the model folder's file names and sizes (not its path or mtimes)."""
    shape = json.dumps(sorted((name, size) for name, (size, _mtime) in source.items()))
    return hashlib.sha256(shape.encode("utf-8")).hexdigest()[:12]


def contents_sha256(folder: Path, source: dict[str, list[int]]) -> str:
    """sha256 over the model folder's files (names and contents, in name order)."""
    digest = hashlib.sha256()
    for name in sorted(source):
        digest.update(name.encode("utf-8") + b"\0")
        with open(folder / name, "rb") as fh:
            while block := fh.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def same_contents(target: Path, record: Path, source: dict, folder: Path) -> bool:
    """True when the export was made from a folder with these very contents at another
    place or time (another virtual environment): the record then notes this stamp."""
    try:
        meta = json.loads(record.read_text(encoding="utf-8"))
        if meta.get("recipe") != RECIPE or not meta.get("source_sha256"):
            return False
        if meta["source_sha256"] != contents_sha256(folder, source):
            return False
        if meta.get("size") != target.stat().st_size or meta.get("sha256") != sha256_file(target):
            return False
    except (OSError, ValueError, AttributeError, TypeError):
        return False
    _write_record(record, {**meta, "source": source, "model": str(folder)})
    return True


def source_stamp(folder: Path) -> dict[str, list[int]]:
    """Size and mtime of every file of the model folder: a changed model is exported again."""
    stamp = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            st = path.stat()
            stamp[path.relative_to(folder).as_posix()] = [st.st_size, st.st_mtime_ns]
    return stamp


def sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def is_current(target: Path, record: Path, source: dict) -> bool:
    """True if ``target`` is intact (size and sha256 as recorded) and made from ``source`` by this recipe."""
    try:
        meta = json.loads(record.read_text(encoding="utf-8"))
        return (meta.get("recipe") == RECIPE and meta.get("source") == source
                and meta.get("size") == target.stat().st_size and meta.get("sha256") == sha256_file(target))
    except (OSError, ValueError, AttributeError):
        return False


def export(spec: FolderSpec, runtime: str, target: Path, record: Path, source: dict) -> None:
    """Export, check and publish ``target`` and its ``record`` (see the module docstring)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        _export(spec, runtime, target, record, source)
    finally:
        # ONNX Runtime's tools configure the root logger when imported (DEBUG,
        # with a handler), which would print other libraries' debug lines.
        root.setLevel(level)
        root.handlers[:] = handlers


def _export(spec: FolderSpec, runtime: str, target: Path, record: Path, source: dict) -> None:
    state = "damaged or out of date" if target.exists() or record.exists() else "not made yet"
    print(f"Exporting the embedding model {spec.name} to ONNX ({runtime}; the cached export is {state}) "
          f"into {target.parent}, once...", file=sys.stderr)
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise EmbedderError(f"exporting to ONNX needs torch and transformers ({exc}); "
                            "reinstall article-rag, or set RAG_EMBEDDING__RUNTIME=torch") from None
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights: 100%" twice adds nothing to the export line
    tokenizer = AutoTokenizer.from_pretrained(str(spec.path))
    # Eager attention traces into the pattern the optimiser fuses; the check
    # compares with the model as sentence-transformers loads it.
    model = AutoModel.from_pretrained(str(spec.path), attn_implementation="eager").eval()
    reference = AutoModel.from_pretrained(str(spec.path)).eval()
    names = [n for n in INPUTS if n in tokenizer.model_input_names]
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32, fused = Path(tmp) / "fp32.onnx", Path(tmp) / "fused.onnx"
        _trace(torch, model, tokenizer, names, fp32)
        _fuse(fp32, fused, model.config)
        result = fused
        if runtime == "onnx-int8":
            result = Path(tmp) / "int8.onnx"
            _quantise(fused, result)
        _check_against_torch(torch, reference, tokenizer, spec, result, runtime)
        digest = sha256_file(result)
        _fsync(result)
        os.replace(result, target)
    meta = {"recipe": RECIPE, "runtime": runtime, "model": str(spec.path), "sha256": digest,
            "size": target.stat().st_size, "source": source,
            "source_sha256": contents_sha256(spec.path, source)}
    _write_record(record, meta)


def _write_record(record: Path, meta: dict) -> None:
    """Replace ``record`` atomically (a reader sees the old one or the new one)."""
    pending = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    pending.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    _fsync(pending)
    os.replace(pending, record)


def _last_hidden(torch, model, names):
    """The transformer with positional inputs and one output, as the exporter wants it."""

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    return LastHidden()


def _trace(torch, model, tokenizer, names, path: Path) -> None:
    sample = tokenizer(PROBES[:2], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(_last_hidden(torch, model, names), tuple(sample[n] for n in names), str(path),
                          input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)


def _fuse(source: Path, target: Path, config) -> None:
    from onnxruntime.transformers.optimizer import optimize_model

    quiet = logging.getLogger("onnxruntime.transformers")
    level, quiet.level = quiet.level, logging.ERROR
    try:
        fused = optimize_model(str(source), model_type="bert", opt_level=1, use_gpu=False,
                               num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
                               hidden_size=int(getattr(config, "hidden_size", 0) or 0))
        fused.save_model_to_file(str(target))
    finally:
        quiet.level = level


def _quantise(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()
    level, quiet.level = quiet.level, logging.ERROR  # "consider pre-processing" advice
    try:
        # Unsigned 8-bit weights with one scale per output channel: one scale per
        # tensor cost 0.05 of cosine to PyTorch on news passages, this 0.005.
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QUInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        quiet.level = level


def _check_against_torch(torch, model, tokenizer, spec: FolderSpec, path: Path, runtime: str) -> None:
    """Refuse an export whose pooled vectors stray from PyTorch's on the probe texts."""
    limit = spec.max_seq_length or tokenizer.model_max_length
    enc = tokenizer(PROBES, padding=True, truncation=True, max_length=limit, return_tensors="np")
    names = [n for n in INPUTS if n in enc]
    with torch.no_grad():
        hidden = model(**{n: torch.from_numpy(enc[n]) for n in names}).last_hidden_state.numpy()
    expected = pool(hidden, enc["attention_mask"], spec.pooling)
    got = pool(run_session(open_session(path), enc), enc["attention_mask"], spec.pooling)
    cosine = (expected * got).sum(1) / (np.linalg.norm(expected, axis=1) * np.linalg.norm(got, axis=1))
    if not np.all(np.isfinite(cosine)) or cosine.min() < MIN_COSINE[runtime]:
        raise EmbedderError(
            f"the ONNX export ({runtime}) of {spec.path} gives vectors that differ from PyTorch's "
            f"(lowest cosine {np.nan_to_num(cosine.min()):.4f}, need {MIN_COSINE[runtime]}); "
            "this model does not export cleanly: set RAG_EMBEDDING__RUNTIME=torch")


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())
