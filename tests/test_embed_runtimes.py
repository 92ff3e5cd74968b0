"""The ONNX runtimes of the sentence-transformers embedder: agreement with PyTorch,
identity in the index, and the cached export (made once, checked, rebuilt when damaged)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import EmbeddingSettings, load_settings
from rag.embed.registry import make_embedder
from rag.embed.sentence_transformer import default_model_path
from rag.embed.st_folder import pool, read_folder
from rag.errors import ConfigError, EmbedderError, IndexMismatchError
from rag.index.building import build_index
from rag.search.open_index import open_index

TEXTS = [
    "Ukraine's president presented a victory plan to allies in Brussels on Wednesday.",
    "The chip maker's shares rose 8% after record profit driven by demand for AI accelerators.",
    "Fans celebrated outside the stadium after the striker signed a four-year contract.",
    "  Leading and trailing spaces are stripped, as sentence-transformers does.  ",
    " ".join(["The committee reviewed the budget and the schedule in detail."] * 40),  # over the window
]


@pytest.fixture(scope="module")
def embedders():
    return {r: make_embedder(EmbeddingSettings(runtime=r)) for r in ("torch", "onnx", "onnx-int8")}


def test_onnx_runtimes_agree_with_torch(embedders):
    torch = embedders["torch"].embed(TEXTS)
    fp32 = embedders["onnx"].embed(TEXTS)
    int8 = embedders["onnx-int8"].embed(TEXTS)
    assert (fp32 * torch).sum(axis=1).min() > 0.9999
    assert (int8 * torch).sum(axis=1).min() > 0.98
    # fp32: a text alone gets the vector it gets in a batch (padding is masked out).
    assert float(embedders["onnx"].embed([TEXTS[2]])[0] @ fp32[2]) > 0.99999
    # int8 quantises activations with one scale per batch, so batch-mates move a
    # vector a little (0.993 here), never past what the export check allows.
    assert float(embedders["onnx-int8"].embed([TEXTS[2]])[0] @ int8[2]) > 0.98


def test_onnx_runtimes_count_tokens_as_torch(embedders):
    torch = embedders["torch"]
    for runtime in ("onnx", "onnx-int8"):
        other = embedders[runtime]
        assert (other.dim, other.max_tokens) == (torch.dim, torch.max_tokens)
        assert other.count_tokens(TEXTS) == torch.count_tokens(TEXTS)
        assert other.token_spans(TEXTS[1]) == torch.token_spans(TEXTS[1])


def test_runtime_is_part_of_the_embedder_id(embedders):
    assert len({e.model_id for e in embedders.values()}) == 3
    assert embedders["torch"].model_id == "sentence-transformers/all-MiniLM-L6-v2"  # old indexes stay valid
    assert embedders["onnx-int8"].model_id.endswith("+onnx-int8")


def test_index_built_on_one_runtime_refuses_another(tmp_path, articles_dir, embedders):
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=articles_dir,
                             embedding={"runtime": "onnx-int8"})
    build_index(settings, embedder=embedders["onnx-int8"])
    opened = open_index(settings, embedder=embedders["onnx-int8"])
    try:
        hits = opened.retriever.search("chip maker profit", 1)
        assert hits and "chip" in hits[0].text.lower()
    finally:
        opened.close()
    with pytest.raises(IndexMismatchError, match=r"onnx-int8.*RAG_EMBEDDING__RUNTIME"):
        open_index(settings, embedder=embedders["torch"])
    with pytest.raises(IndexMismatchError, match="rag index build --full"):
        build_index(settings, embedder=embedders["onnx"])  # an incremental build too


def test_unknown_runtime_lists_choices():
    with pytest.raises(ConfigError, match=r"RAG_EMBEDDING__RUNTIME.*onnx-int8"):
        make_embedder(EmbeddingSettings(runtime="tensorrt"))


@pytest.mark.timeout(900)  # two exports; one took 28 s (fp32) at a load average of 17 on 2 cores
def test_export_is_cached_checked_and_rebuilt_when_damaged(tmp_path, monkeypatch, embedders):
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    first = make_embedder(EmbeddingSettings(runtime="onnx"))
    files = list((tmp_path / "cache" / "onnx").glob("*/onnx.onnx"))
    assert len(files) == 1
    model, record = files[0], files[0].with_suffix(".json")
    meta = json.loads(record.read_text())
    assert meta["size"] == model.stat().st_size and len(meta["sha256"]) == 64
    made = model.stat().st_mtime_ns

    again = make_embedder(EmbeddingSettings(runtime="onnx"))  # reused, not exported again
    assert model.stat().st_mtime_ns == made
    assert np.allclose(again.embed(TEXTS[:2]), first.embed(TEXTS[:2]), atol=1e-6)

    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    model.write_bytes(bytes(data))
    (model.parent / ".export-killed").mkdir()  # what an export killed midway leaves
    rebuilt = make_embedder(EmbeddingSettings(runtime="onnx"))
    assert json.loads(record.read_text())["sha256"] == meta["sha256"]  # the same export again
    assert model.stat().st_mtime_ns != made
    assert np.allclose(rebuilt.embed(TEXTS[:2]), first.embed(TEXTS[:2]), atol=1e-6)
    assert not [p for p in model.parent.iterdir() if p.name.startswith(".export-") or p.suffix == ".tmp"]


def test_first_build_exports_without_debug_noise(tmp_path, articles_dir):
    """The first build on the default runtime exports the model (a fresh process and
    cache, as on a new machine) and prints the export line, not other libraries' debug logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_CACHE_DIR=str(tmp_path / "cache"), RAG_CONFIG=str(tmp_path / "none.toml"))
    done = subprocess.run([str(Path(sys.executable).parent / "rag"), "index", "build", str(articles_dir),
                           "--index", str(tmp_path / "index")], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    assert "Exporting the embedding model all-MiniLM-L6-v2 to ONNX (onnx-int8" in done.stderr
    assert "DEBUG" not in done.stderr + done.stdout
    assert list((tmp_path / "cache" / "onnx").glob("*/onnx-int8.onnx"))


def test_unwritable_cache_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("RAG_CACHE_DIR", str(blocker))
    with pytest.raises(EmbedderError, match="RAG_CACHE_DIR"):
        make_embedder(EmbeddingSettings(runtime="onnx"))


def copy_config(tmp_path: Path) -> Path:
    """The packaged model's JSON files only (enough for read_folder)."""
    source, folder = Path(default_model_path()), tmp_path / "model-copy"
    for path in source.rglob("*.json"):
        target = folder / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return folder


def test_folder_spec_of_the_packaged_model(tmp_path):
    spec = read_folder(copy_config(tmp_path))
    assert (spec.max_seq_length, spec.do_lower_case, spec.pooling) == (256, False, "mean")


@pytest.mark.parametrize("change, message", [
    (lambda f: (f / "modules.json").write_text(json.dumps(
        json.loads((f / "modules.json").read_text()) + [{"type": "sentence_transformers.models.Dense", "path": "3"}])),
     "Dense"),
    (lambda f: (f / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_weightedmean_tokens": True})),
     "weightedmean"),
    (lambda f: (f / "modules.json").write_text("{not json"), "modules.json"),
])
def test_folder_the_onnx_runtimes_cannot_run_says_use_torch(tmp_path, change, message):
    folder = copy_config(tmp_path)
    change(folder)
    with pytest.raises(EmbedderError, match=rf"(?s){message}.*RAG_EMBEDDING__RUNTIME=torch"):
        read_folder(folder)


def test_pooling_modes_match_sentence_transformers_arithmetic():
    hidden = np.array([[[1.0, 2.0], [3.0, -4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])  # the last token is padding
    assert np.allclose(pool(hidden, mask, "mean"), [[2.0, -1.0]])
    assert np.allclose(pool(hidden, mask, "cls"), [[1.0, 2.0]])
    assert np.allclose(pool(hidden, mask, "max"), [[3.0, 2.0]])
    assert np.allclose(pool(hidden, mask, "mean_sqrt_len"), [[4.0 / np.sqrt(2), -2.0 / np.sqrt(2)]])
