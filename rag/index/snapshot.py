"""One published version of the index, opened read-only for searching.

A version folder holds ``manifest.json`` (rag.index.manifest), ``rows.sqlite``
(rag.index.rows), ``vectors.faiss`` (rag.index.vectors) and the two BM25 folders
(rag.index.lexical). Opening checks every file against the manifest and that all
parts agree on the passage count; any disagreement is an
``IndexCorruptError`` that names the file. Building and publishing versions
is rag.index.store's job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.index.lexical import LexicalIndex, SentenceLexicalIndex
from rag.index.manifest import corrupt, read_manifest
from rag.index.rows import connect_read_only, read_passages
from rag.index.vectors import FaissVectorIndex
from rag.types import Passage

ROWS = "rows.sqlite"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
SENTENCES = "sentences"


class IndexSnapshot:
    """One published version of the index, opened read-only."""

    def __init__(self, folder: Path, searchable: bool = True):
        """``searchable=False`` (for a build) skips loading the BM25 indexes."""
        self.folder = folder
        self.searchable = searchable
        if not folder.is_dir():
            raise corrupt(folder, "the published version folder is missing")
        self.manifest = read_manifest(folder)  # sizes and sha256 of every file
        db_path = folder / ROWS
        if not db_path.is_file():
            raise corrupt(db_path, "the file is missing")
        self.db = None
        try:
            self._load(folder, db_path)
        except BaseException:
            if self.db is not None:
                self.db.close()
            raise

    def _load(self, folder: Path, db_path: Path) -> None:
        try:
            self.db = connect_read_only(db_path)
            meta = self.db.execute(
                "SELECT p.row, p.article_id, a.source, a.published_at FROM passages p "
                "JOIN articles a ON a.id = p.article_id ORDER BY p.row"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise corrupt(db_path, str(exc)) from exc
        self.vectors = FaissVectorIndex.load(folder / VECTORS)
        self.lexical = LexicalIndex.load(folder / LEXICAL) if self.searchable else None
        self.sentences = SentenceLexicalIndex.load(folder / SENTENCES) if self.searchable else None
        n = self.manifest["counts"]["passages"]
        sizes = [len(meta), len(self.vectors)]
        if self.searchable:
            sizes += [self.lexical.size, self.sentences.passages]
        if any(size != n for size in sizes):
            raise corrupt(folder, f"its parts disagree on the passage count ({', '.join(map(str, sizes))}; "
                          f"manifest {n})")
        if [r[0] for r in meta] != list(range(n)):
            raise corrupt(db_path, "passage rows are not numbered 0..n-1")
        if self.vectors.dim != self.manifest["embedder"].get("dim", self.vectors.dim):
            raise corrupt(folder / VECTORS, f"vectors have {self.vectors.dim} dimensions, the manifest says "
                          f"{self.manifest['embedder']['dim']}")
        self.article_ids = np.array([r[1] for r in meta], dtype=object)
        self.sources = np.array([r[2] or "" for r in meta], dtype=object)
        self.dates = np.array([(r[3] or "")[:10] for r in meta], dtype=object)

    def __len__(self) -> int:
        return len(self.vectors)

    @property
    def embedder_id(self) -> str:
        return self.manifest["embedder"]["id"]

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """Passages (with article metadata) at ``rows``, in the given order."""
        return read_passages(self.db, rows)

    def article(self, article_id: str) -> dict | None:
        """The stored article (all fields and body) or None."""
        row = self.db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return dict(row) if row else None

    def list_sources(self) -> list[str]:
        """Distinct publishers in the index, sorted."""
        return sorted({s for s in self.sources if s})

    def sample_titles(self, n: int, seed: int = 0) -> list[str]:
        """Up to ``n`` article titles, deterministic for a seed."""
        titles = [r[0] for r in self.db.execute("SELECT title FROM articles ORDER BY id")]
        rng = np.random.default_rng(seed)
        picks = rng.permutation(len(titles))[:n]
        return [titles[i] for i in picks]

    def close(self) -> None:
        self.db.close()
