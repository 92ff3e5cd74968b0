"""Damaged index files are detected on open, with the way to recover.

Every file of a version is truncated, emptied, deleted, or overwritten in the
middle with the same size (which only the sha256 in the manifest can see);
the manifest and CURRENT are damaged too. Each time: opening raises
IndexCorruptError (IndexMismatchError for another format) whose message says
to rebuild with ``rag index build --full``, never a raw error from FAISS,
SQLite or numpy; ``rag search`` exits 1 with that message; a build that would
reuse the damaged version refuses and says to use ``--full``; and
``rag index build --full`` rebuilds a working index.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import load_settings
from rag.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    RagError,
)
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from rag.search.open_index import open_index
from tests.conftest import write_article

REBUILD = "rag index build --full"
ENV = {"RAG_EMBEDDING__BACKEND": "hashing", "RAG_CONFIG": "/nonexistent/rag.toml"}
PARTS = [
    "vectors.faiss", "rows.sqlite", "lexical/data.csc.index.npy", "lexical/indices.csc.index.npy",
    "lexical/indptr.csc.index.npy", "lexical/vocab.index.json", "lexical/params.index.json", "lexical/size",
    "sentences/rows.npy", "sentences/data.csc.index.npy", "sentences/vocab.index.json", "sentences/passages",
]


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch):
    """Durability is not what these tests check; skipping fsync makes each build ~5x faster."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _overwrite_middle(path: Path) -> None:
    """Same size, different bytes in the middle: only a content check sees it."""
    data = bytearray(path.read_bytes())
    middle, width = len(data) // 2, max(1, min(64, len(data) // 4))
    for i in range(middle - width // 2, middle - width // 2 + width):
        data[i] ^= 0x5A
    size = path.stat().st_size
    path.write_bytes(bytes(data))
    assert path.stat().st_size == size


def _delete(path: Path) -> None:
    path.unlink()


def _append(path: Path) -> None:
    with open(path, "ab") as fh:
        fh.write(b"\x00garbage")


DAMAGES = {"truncated": _truncate, "emptied": _empty, "overwritten": _overwrite_middle,
           "deleted": _delete, "appended": _append}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("damage")
    articles = root / "articles"
    articles.mkdir()
    topics = ["harbour bridge", "striker contract", "chip profit", "school storm", "river flood",
              "museum opening", "train strike", "election count"]
    for i, topic in enumerate(topics):
        write_article(articles, f"a{i}.md", f"News about the {topic}", " ".join(
            f"Sentence {j} reports on the {topic} with detail number {i * 10 + j}." for j in range(30)),
            source=f"Paper {i % 3}", published_at=f"2023-10-{i + 1:02d}", url=f"https://example.org/{i}")
    template = root / "template"
    build_index(_settings(template), [articles])
    return {"articles": articles, "template": template}


def _settings(index: Path):
    return load_settings(index_dir=index, embedding={"backend": "hashing"})


def _fresh_copy(corpus, tmp_path: Path) -> tuple[Path, Path]:
    index = tmp_path / "index"
    shutil.copytree(corpus["template"], index)
    return index, IndexStore(index).current_folder()


def _assert_recovers(corpus, index: Path, error_type: type[RagError]) -> None:
    """Open, search (CLI), incremental build (CLI) fail with the message; --full repairs."""
    with pytest.raises(error_type) as caught:
        IndexStore(index).open()
    assert REBUILD in str(caught.value)
    with pytest.raises(error_type, match=REBUILD):
        open_index(_settings(index))

    runner = CliRunner()
    searched = runner.invoke(app, ["search", "harbour bridge", "--index", str(index)], env=ENV)
    assert searched.exit_code == 1, searched.output
    assert REBUILD in searched.output and "Traceback" not in searched.output
    assert searched.exception is None or isinstance(searched.exception, SystemExit)

    built = runner.invoke(app, ["index", "build", str(corpus["articles"]), "--index", str(index)], env=ENV)
    assert built.exit_code == 1 and REBUILD in built.output, built.output

    full = runner.invoke(app, ["index", "build", str(corpus["articles"]), "--index", str(index), "--full",
                               "--json"], env=ENV)
    assert full.exit_code == 0, full.output
    assert json.loads(full.output)["added"] == 8
    opened = open_index(_settings(index))
    try:
        assert opened.retriever.search("harbour bridge", 3)[0].url == "https://example.org/0"
    finally:
        opened.close()
    again = runner.invoke(app, ["index", "build", str(corpus["articles"]), "--index", str(index), "--json"], env=ENV)
    assert again.exit_code == 0 and json.loads(again.output)["unchanged"] == 8, again.output
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]


@pytest.mark.parametrize("damage", list(DAMAGES))
@pytest.mark.parametrize("part", PARTS)
def test_damaged_part_is_detected_and_full_rebuild_recovers(corpus, tmp_path, part, damage):
    index, version = _fresh_copy(corpus, tmp_path)
    DAMAGES[damage](version / part)
    if (part, damage) in {("rows.sqlite", "overwritten"), ("vectors.faiss", "overwritten")} or damage == "deleted":
        _assert_recovers(corpus, index, IndexCorruptError)
    else:  # the cheaper checks only; the full round trip is exercised above
        with pytest.raises(IndexCorruptError, match=REBUILD):
            IndexStore(index).open()
        with pytest.raises(IndexCorruptError, match=REBUILD):
            build_index(_settings(index), [corpus["articles"]])
        report = build_index(_settings(index), [corpus["articles"]], full=True)
        assert report.added == 8
        IndexStore(index).open().close()


def test_same_size_overwrite_of_sqlite_pages_is_caught_by_sha256(corpus, tmp_path):
    """Bytes of an article body changed in place: SQLite itself would not notice."""
    index, version = _fresh_copy(corpus, tmp_path)
    db = version / "rows.sqlite"
    data = db.read_bytes()
    at = data.index(b"detail number 42")
    db.write_bytes(data[:at] + b"detail number 99" + data[at + 16:])
    with pytest.raises(IndexCorruptError, match="rows.sqlite.*sha256"):
        IndexStore(index).open()


@pytest.mark.parametrize("damage", ["truncated", "emptied", "overwritten", "deleted", "appended", "edited"])
def test_damaged_manifest(corpus, tmp_path, damage):
    index, version = _fresh_copy(corpus, tmp_path)
    manifest = version / "manifest.json"
    if damage == "edited":  # still valid JSON of the same size: only the checksum sees it
        text = manifest.read_text()
        count = json.loads(text)["counts"]["articles"]
        edited = text.replace(f'"articles": {count}', f'"articles": {count + 1}')
        assert len(edited) == len(text) and edited != text
        manifest.write_text(edited)
    else:
        DAMAGES[damage](manifest)
    _assert_recovers(corpus, index, IndexCorruptError)


def test_manifest_of_another_format_is_a_mismatch(corpus, tmp_path):
    index, version = _fresh_copy(corpus, tmp_path)
    path = version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = 99
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    manifest["checksum"] = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    path.write_text(json.dumps(manifest))
    _assert_recovers(corpus, index, IndexMismatchError)


@pytest.mark.parametrize("damage", ["emptied", "garbage", "binary", "other-name", "path", "folder-deleted"])
def test_damaged_current_pointer(corpus, tmp_path, damage):
    index, version = _fresh_copy(corpus, tmp_path)
    current = index / "CURRENT"
    size = current.stat().st_size
    if damage == "emptied":
        current.write_bytes(b"")
    elif damage == "garbage":
        current.write_bytes(b"x" * size)
    elif damage == "binary":
        current.write_bytes(bytes([0xFF, 0xFE, 0x00, 0x81]) * (size // 4) + b"\xc3" * (size % 4))
    elif damage == "other-name":  # same size, names a version that does not exist
        current.write_text(version.name[:-3] + "zzz\n")
    elif damage == "path":
        current.write_text("v-../../etc\n")
    else:
        shutil.rmtree(version)
    _assert_recovers(corpus, index, IndexCorruptError)


def test_deleted_current_pointer_says_to_build(corpus, tmp_path):
    index, _ = _fresh_copy(corpus, tmp_path)
    (index / "CURRENT").unlink()
    with pytest.raises(IndexMissingError, match="rag index build"):
        IndexStore(index).open()
    searched = CliRunner().invoke(app, ["search", "harbour", "--index", str(index)], env=ENV)
    assert searched.exit_code == 1 and "rag index build" in searched.output
    assert build_index(_settings(index), [corpus["articles"]]).added == 8


def test_index_info_reports_damage_cheaply(corpus, tmp_path):
    """``rag index info`` checks sizes and the manifest checksum (not the content hashes)."""
    index, version = _fresh_copy(corpus, tmp_path)
    _truncate(version / "vectors.faiss")
    info = CliRunner().invoke(app, ["index", "info", "--index", str(index)], env=ENV)
    assert info.exit_code == 1 and REBUILD in info.output


def test_failed_write_keeps_the_published_index(corpus, tmp_path, monkeypatch):
    """A disk that fills up while a version is written: a message, and the old index stays."""
    import rag.index.embedded.versions

    index, version = _fresh_copy(corpus, tmp_path)

    def full_disk(folder, manifest):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(rag.index.embedded.versions, "write_manifest", full_disk)
    with pytest.raises(RagError, match="No space left on device.*published index is unchanged"):
        build_index(_settings(index), [corpus["articles"]], full=True)
    built = CliRunner().invoke(app, ["index", "build", str(corpus["articles"]), "--index", str(index), "--full"],
                               env=ENV)
    assert built.exit_code == 1 and "No space left on device" in built.output and "Traceback" not in built.output
    monkeypatch.undo()
    assert IndexStore(index).current_folder() == version
    IndexStore(index).open().close()
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]


def test_index_folder_that_cannot_be_written(corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(RagError, match="cannot write to the index folder"):
        build_index(_settings(blocker / "index"), [corpus["articles"]])
