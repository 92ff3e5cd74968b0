"""Builds that stay lean as the corpus grows, and give the same index either way.

The store copies unchanged passages' rows straight from the previous version,
fills the vector index block by block, streams passage texts into BM25, skips
publishing when nothing changed, and reads passages in batches (SQLite limits
the parameters of one query). These tests pin down that the lean paths build
exactly the index a full build would. The sizes and timings at 20,000
articles are measured by ``benchmarks/scale.py`` (docs/robustness.md).
"""

from __future__ import annotations

import json
import shutil

import numpy as np

from rag.config import load_settings
from rag.index.embedded import rows as rows_module
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from rag.search.open_index import open_index
from tests.conftest import write_article

QUERIES = ["harbour bridge cables", "striker contract", "record profit chips", "storm schools", "late correction"]


def _corpus(folder, n=12):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        write_article(folder, f"a{i:02d}.md", f"Story {i} about topic {i % 4}", " ".join(
            f"Sentence {j} of story {i} mentions harbour bridge cables, contracts and profit {i * j}."
            for j in range(25)),
            source=f"Paper {i % 3}", published_at=f"2023-10-{i + 1:02d}", url=f"https://example.org/{i}")


def _dump(settings):
    opened = open_index(settings)
    try:
        snap = opened.snapshot
        passages = [tuple(r) for r in snap.db.execute(
            'SELECT row, id, article_id, ordinal, text, header, start, "end", token_count, text_hash '
            "FROM passages ORDER BY row")]
        articles = [tuple(r) for r in snap.db.execute("SELECT * FROM articles ORDER BY id")]
        vectors = snap.vectors.vectors(np.arange(len(snap)))
        results = [[(p.id, round(p.score, 6)) for p in opened.retriever.search(q, 8)] for q in QUERIES]
        lexical = [snap.lexical.scores(q) for q in QUERIES]
        return passages, articles, vectors, results, lexical, snap.manifest["counts"]
    finally:
        opened.close()


def test_incremental_build_equals_full_build(tmp_path):
    articles = tmp_path / "articles"
    _corpus(articles)
    inc = load_settings(index_dir=tmp_path / "inc", embedding={"backend": "hashing"})
    build_index(inc, [articles])
    # Edit two articles (one at the end, one at the start), remove one, add one.
    for name, where in (("a03.md", "end"), ("a07.md", "start")):
        path = articles / name
        text = path.read_text()
        head, _, body = text.partition("---\n\n")
        body = body + "\nA late correction was added.\n" if where == "end" else "A late correction first.\n" + body
        path.write_text(head + "---\n\n" + body)
    (articles / "a05.md").unlink()
    write_article(articles, "z99.md", "A new story", "Storm closes schools across the county. Buses stopped.",
                  source="Paper 9", url="https://example.org/new")
    report = build_index(inc, [articles])
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 2, 1, 9)
    assert 0 < report.embedded_passages < report.passages  # unchanged passages kept their vectors

    full = load_settings(index_dir=tmp_path / "full", embedding={"backend": "hashing"})
    build_index(full, [articles], full=True)
    a, b = _dump(inc), _dump(full)
    assert a[0] == b[0]  # passages, row by row
    assert a[1] == b[1]  # articles
    assert np.allclose(a[2], b[2], atol=1e-6)  # vectors, row by row
    assert a[3] == b[3]  # search results and scores
    for x, y in zip(a[4], b[4]):
        assert np.allclose(x, y)
    assert a[5] == b[5]


def test_build_with_nothing_changed_publishes_nothing(tmp_path):
    articles = tmp_path / "articles"
    _corpus(articles, n=4)
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"})
    build_index(settings, [articles])
    store = IndexStore(settings.index_dir)
    version = store.current_folder().name
    (settings.index_dir / ".tmp-v-left-by-a-killed-build").mkdir()
    report = build_index(settings, [articles])
    assert (report.unchanged, report.embedded_passages, report.passages) == (4, 0, len(store.open()))
    assert store.current_folder().name == version
    assert not (settings.index_dir / ".tmp-v-left-by-a-killed-build").exists()
    # A moved file keeps its id (from the url) and its content hash, but its
    # stored path changes: that is published.
    moved = tmp_path / "moved"
    shutil.move(articles, moved)
    report = build_index(settings, [moved])
    assert report.unchanged == 4 and report.embedded_passages == 0
    assert store.current_folder().name != version
    snap = store.open()
    try:
        assert all(str(moved) in r[0] for r in snap.db.execute("SELECT path FROM articles"))
    finally:
        snap.close()


def test_passages_are_read_in_batches(tmp_path, monkeypatch):
    articles = tmp_path / "articles"
    _corpus(articles, n=3)
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"})
    build_index(settings, [articles])
    snap = IndexStore(settings.index_dir).open()
    try:
        rows = list(range(len(snap)))[::-1]
        expected = [p.id for p in snap.passages(rows)]
        monkeypatch.setattr(rows_module, "_BATCH", 2)
        assert [p.id for p in snap.passages(rows)] == expected
        assert snap.passages([]) == []
    finally:
        snap.close()


def test_manifest_records_sha256_of_every_file(tmp_path):
    articles = tmp_path / "articles"
    _corpus(articles, n=2)
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"})
    build_index(settings, [articles])
    folder = IndexStore(settings.index_dir).current_folder()
    manifest = json.loads((folder / "manifest.json").read_text())
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != "manifest.json")
    assert sorted(manifest["files"]) == sorted(manifest["sha256"]) == files
    assert len(manifest["checksum"]) == 64


def test_index_folder_with_uri_characters_in_its_name(tmp_path):
    """SQLite opens the rows by URI: '#', '?' and '%' in the path must not change the file."""
    articles = tmp_path / "articles"
    _corpus(articles, n=2)
    settings = load_settings(index_dir=tmp_path / "my #1 index?v=2 %20 ünï", embedding={"backend": "hashing"})
    build_index(settings, [articles])
    opened = open_index(settings)
    try:
        assert opened.snapshot.manifest["counts"]["articles"] == 2
        assert opened.retriever.search("harbour bridge", 2)
    finally:
        opened.close()
    assert build_index(settings, [articles]).unchanged == 2
