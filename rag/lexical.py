"""BM25 over passages with the ``bm25s`` library, stored with the index."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.errors import IndexCorruptError

_STEMMER = Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed word tokens (the same for passages and queries)."""
    return bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False,
    )


class LexicalIndex:
    """BM25 scores for every passage row."""

    def __init__(self, bm25: bm25s.BM25, size: int):
        self.bm25 = bm25
        self.size = size

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        bm25 = bm25s.BM25(k1=k1, b=b)
        if texts:
            bm25.index(tokenize(texts), show_progress=False)
        return cls(bm25, len(texts))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (zeros when no word is known)."""
        if not self.size:
            return np.zeros(0, dtype=np.float32)
        vocab = self.bm25.vocab_dict
        tokens = [t for t in tokenize([query])[0] if t in vocab]
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)
        (folder / "size").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        try:
            size = int((folder / "size").read_text())
            if not size:
                return cls(bm25s.BM25(), 0)
            bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        except Exception as exc:
            raise IndexCorruptError(
                f"the lexical index in {folder} is damaged ({exc}); rebuild the index "
                "from the articles with `rag index build --full`"
            ) from exc
        return cls(bm25, size)
