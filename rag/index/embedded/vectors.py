"""The dense vectors of the embedded index: FAISS, addressed by row number.

Only the embedded store (rag.index.embedded.snapshot, rag.index.embedded.draft) sees rows and
FAISS; search code reaches vectors through
:class:`rag.index.passage_store.PassageSnapshot`. Vectors are unit length and
row ``i`` is the passage stored at row ``i``.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from rag.errors import IndexCorruptError


class FaissVectorIndex:
    """Exact inner-product search (``IndexFlatIP``).

    Exact search is a few milliseconds for the tens of thousands of passages
    a newsroom collection has, needs no training, and keeps incremental builds
    trivial; an approximate index only pays off far beyond that.
    """

    def __init__(self, index: faiss.Index):
        self.index = index
        self.dim = index.d

    @classmethod
    def build(cls, vectors: np.ndarray, dim: int) -> "FaissVectorIndex":
        index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (unit vectors) after the last one."""
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def load(cls, path: Path) -> "FaissVectorIndex":
        try:
            return cls(faiss.read_index(str(path)))
        except Exception as exc:  # faiss raises RuntimeError with C++ text
            raise IndexCorruptError(
                f"the vector file {path} is damaged ({str(exc).splitlines()[0][:200]}); "
                "rebuild the index from the articles with `rag index build --full`"
            ) from exc

    def __len__(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the ``k`` nearest rows, best first; ``allowed`` is a bool mask."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if not len(ids):
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        scores, rows = self.index.search(query, k, params=params)
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_batch(rows)

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))


def assemble(n: int, dim: int, old: FaissVectorIndex | None, old_pick: list[tuple[int, int]],
             new_vectors: np.ndarray, new_pick: list[tuple[int, int]], block: int = 16_384) -> FaissVectorIndex:
    """The ``n`` rows of a new index: ``(row, old row)`` pairs copied from ``old`` and
    ``(row, i)`` pairs from ``new_vectors[i]``, added block by block so that no
    second full copy of the vectors is ever in memory."""
    index = FaissVectorIndex.build(np.zeros((0, dim), np.float32), dim)
    old_at, new_at = dict(old_pick), dict(new_pick)
    for start in range(0, n, block):
        rows = range(start, min(n, start + block))
        part = np.zeros((len(rows), dim), dtype=np.float32)
        olds = [(r - start, old_at[r]) for r in rows if r in old_at]
        if olds:
            part[[t for t, _ in olds]] = old.vectors(np.array([o for _, o in olds]))
        news = [(r - start, new_at[r]) for r in rows if r in new_at]
        if news:
            part[[t for t, _ in news]] = new_vectors[[i for _, i in news]]
        index.add(part)
    return index
