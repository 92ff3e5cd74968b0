"""BM25 over passages with the ``bm25s`` library, stored with the index, and the
top-n selection that ranks its scores."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

from rag.errors import IndexCorruptError

# np.load parses each .npy header with ast.literal_eval, and CPython 3.11 before
# 3.11.8 can fail two such parses running at once in different threads with
# "AST constructor recursion depth mismatch" (gh-106905), which would read as
# a damaged index to a reader opening it while another thread does. Loads are
# rare (once per opened version), so they take turns.
_LOADING = threading.Lock()

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
    def build(cls, texts: Iterable[str], k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        """BM25 over ``texts`` (any iterable: a generator keeps only one text in memory).

        Token ids rather than token strings: the same scores and vocabulary,
        with about half the peak memory of a build.
        """
        corpus = bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, return_ids=True, show_progress=False)
        bm25 = bm25s.BM25(k1=k1, b=b)
        if corpus.ids:
            bm25.index(corpus, show_progress=False)
        return cls(bm25, len(corpus.ids))

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
            with _LOADING:
                bm25 = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0)
        except Exception as exc:
            raise IndexCorruptError(
                f"the lexical index in {folder} is damaged ({exc}); rebuild the index "
                "from the articles with `rag index build --full`"
            ) from exc
        return cls(bm25, size)


class SentenceLexicalIndex:
    """BM25 over single sentences; a passage scores as its best sentence.

    News questions are usually answered by one sentence. Passage-level BM25
    finds the right article but often ranks a neighbouring passage of it
    first; the best-sentence signal prefers the passage that holds the
    sentence the question is about (measured: docs/retrieval.md).
    """

    def __init__(self, index: LexicalIndex, rows: np.ndarray, passages: int):
        self.index = index
        self.rows = rows
        self.passages = passages

    @classmethod
    def build(cls, passage_texts: Iterable[str]) -> "SentenceLexicalIndex":
        from rag.ingest.sentences import sentence_spans

        rows: list[int] = []
        passages = 0

        def sentences() -> Iterator[str]:  # streamed: the sentences are never all in memory
            nonlocal passages
            for row, text in enumerate(passage_texts):
                passages = row + 1
                for start, end in sentence_spans(text):
                    rows.append(row)
                    yield text[start:end]

        index = LexicalIndex.build(sentences())
        return cls(index, np.array(rows, dtype=np.int64), passages)

    def scores(self, query: str) -> np.ndarray:
        """Per passage row: the BM25 score of its best-matching sentence."""
        out = np.zeros(self.passages, dtype=np.float32)
        if self.index.size:
            scores = self.index.scores(query)
            hit = np.flatnonzero(scores)  # usually a small share of all sentences
            np.maximum.at(out, self.rows[hit], scores[hit])
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir()
        self.index.save(folder)
        np.save(folder / "rows.npy", self.rows)
        (folder / "passages").write_text(str(self.passages))

    @classmethod
    def load(cls, folder: Path) -> "SentenceLexicalIndex":
        index = LexicalIndex.load(folder)
        try:
            with _LOADING:
                rows = np.load(folder / "rows.npy")
            passages = int((folder / "passages").read_text())
        except Exception as exc:
            raise IndexCorruptError(
                f"the sentence index in {folder} is damaged ({exc}); rebuild the index "
                "from the articles with `rag index build --full`"
            ) from exc
        if len(rows) != index.size or (len(rows) and rows.max() >= passages):
            raise IndexCorruptError(f"the sentence index in {folder} does not match its passages; "
                                    "rebuild with `rag index build --full`")
        return cls(index, rows, passages)


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """The rows of the ``n`` highest ``scores``, best first, ties in row order.

    The same as ``np.argsort(-scores, kind="stable")[:n]`` without sorting
    every passage: at 200,000 passages the full sort was a quarter of a search.
    """
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    threshold = np.partition(scores, len(scores) - n)[len(scores) - n]
    above = np.flatnonzero(scores > threshold)
    tied = np.flatnonzero(scores == threshold)[: n - len(above)]
    rows = np.concatenate([above, tied])
    rows.sort()
    return rows[np.argsort(-scores[rows], kind="stable")]
