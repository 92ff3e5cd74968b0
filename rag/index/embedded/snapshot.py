"""One published version of the embedded index, opened read-only for searching.

A version folder holds ``manifest.json`` (rag.index.embedded.manifest), ``rows.sqlite``
(rag.index.embedded.rows), ``vectors.faiss`` (rag.index.embedded.vectors) and the two BM25 folders
(rag.index.lexical). Opening checks every file against the manifest and that all
parts agree on the passage count; any disagreement is an
``IndexCorruptError`` that names the file. Building and publishing versions
is the job of rag.index.embedded.store and rag.index.embedded.draft.

Inside, passages are rows 0..n-1 of every part; the
:class:`rag.index.passage_store.PassageSnapshot` methods translate passage ids
and :class:`rag.types.SearchFilters` into rows and row masks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from rag.index.lexical import LexicalIndex, SentenceLexicalIndex, top_rows
from rag.index.embedded.manifest import corrupt, read_manifest
from rag.index.passage_store import Hits, PassageFacts, PassageSnapshot, Revision, StoredArticle
from rag.index.embedded.rows import (
    article_states,
    article_titles,
    connect_read_only,
    passage_hashes,
    passage_rows,
    read_article,
    read_passages,
    read_revisions,
    revision_counts,
)
from rag.index.embedded.vectors import FaissVectorIndex
from rag.types import Passage, SearchFilters

ROWS = "rows.sqlite"
VECTORS = "vectors.faiss"
LEXICAL = "lexical"
SENTENCES = "sentences"


class IndexSnapshot(PassageSnapshot):
    """One published version of the embedded index (FAISS, SQLite, BM25), opened read-only."""

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
            meta = passage_rows(self.db)
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
        self.ids = np.array([r[1] for r in meta], dtype=object)
        self.article_ids = np.array([r[2] for r in meta], dtype=object)
        self.ordinals = np.array([r[3] for r in meta], dtype=np.int64)
        self.sources = np.array([r[4] or "" for r in meta], dtype=object)
        self.dates = np.array([(r[5] or "")[:10] for r in meta], dtype=object)
        self.row_of = {pid: row for row, pid in enumerate(self.ids)}

    @property
    def version(self) -> str:
        return self.folder.name

    def count(self) -> int:
        return len(self.vectors)

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Rows of passage ids (KeyError naming an unknown id)."""
        return np.array([self.row_of[i] for i in ids], dtype=np.int64)

    def mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        """The rows ``filters`` allow, as a boolean mask; None when they allow every row."""
        if filters is None or filters.is_empty():
            return None
        mask = np.ones(self.count(), dtype=bool)
        if filters.sources:
            wanted = {x.lower() for x in filters.sources}
            mask &= np.array([src.lower() in wanted for src in self.sources], dtype=bool)
        if filters.since is not None:
            mask &= np.array([bool(d) and d >= filters.since.isoformat() for d in self.dates], dtype=bool)
        if filters.until is not None:
            mask &= np.array([bool(d) and d <= filters.until.isoformat() for d in self.dates], dtype=bool)
        return mask

    # searching -----------------------------------------------------------------
    def dense_search(self, vector: np.ndarray, k: int, filters: SearchFilters | None = None) -> Hits:
        scores, rows = self.vectors.search(vector, k, self.mask(filters))
        return Hits(self.ids[rows].tolist(), scores)

    def lexical_search(self, query: str, k: int, filters: SearchFilters | None = None) -> Hits:
        if not self.count():
            return Hits([], np.zeros(0, np.float32))
        scores = self.lexical.scores(query)
        allowed = self.mask(filters)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        rows = top_rows(scores, k)
        rows = rows[scores[rows] > 0]
        return Hits(self.ids[rows].tolist(), scores[rows])

    def sentence_scores(self, query: str, ids: Sequence[str]) -> np.ndarray:
        return self.sentences.scores(query)[self.rows(ids)]

    def facts(self, ids: Sequence[str]) -> PassageFacts:
        rows = self.rows(ids)
        return PassageFacts(article_ids=self.article_ids[rows].tolist(), sources=self.sources[rows].tolist(),
                            dates=self.dates[rows].tolist(), positions=rows)

    def embeddings(self, ids: Sequence[str]) -> np.ndarray:
        return self.vectors.vectors(self.rows(ids))

    # reading -------------------------------------------------------------------
    def fetch(self, ids: Sequence[str]) -> list[Passage]:
        return self.passages(self.rows(ids))

    def passages(self, rows: Sequence[int]) -> list[Passage]:
        """Passages (with article metadata) at ``rows``, in the given order."""
        return read_passages(self.db, rows)

    def article(self, article_id: str) -> dict | None:
        return read_article(self.db, article_id)

    def list_sources(self) -> list[str]:
        return sorted({s for s in self.sources if s})

    def sample_titles(self, n: int, seed: int = 0) -> list[str]:
        titles = article_titles(self.db)
        rng = np.random.default_rng(seed)
        picks = rng.permutation(len(titles))[:n]
        return [titles[i] for i in picks]

    def stored_articles(self) -> dict[str, StoredArticle]:
        return {i: StoredArticle(h, path, extra) for i, h, path, extra in article_states(self.db)}

    def passage_hashes(self) -> Iterator[tuple[str, str, str]]:
        return passage_hashes(self.db)

    def revisions(self, article_id: str) -> list[Revision]:
        return read_revisions(self.db, article_id)

    def revised_articles(self) -> dict[str, int]:
        return revision_counts(self.db)

    def close(self) -> None:
        self.db.close()
