"""Passages: sentence-aware pieces of an article that fit the embedder's window.

Each passage is a verbatim slice of the article body (sentences are never
reworded or cut, except a single sentence longer than the whole budget, which
is cut at token boundaries) plus a short header with the title, source and
date, so that it stands alone in a prompt and in the lexical index. Sizes are
counted in the embedder's own tokenizer and the final header+text is checked
against the embedder's window, so nothing is silently truncated.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.embed.base import Embedder
from rag.errors import ArticleError, RagError
from rag.ingest.sentences import sentence_spans
from rag.types import Article, Passage, human_date


def passage_header(article: Article) -> str:
    """Title on the first line, then source and date when known."""
    meta = ", ".join(x for x in (article.source, human_date(article.published_at)) if x)
    return f"{article.title}\n{meta}" if meta else article.title


def _cut_long_sentence(embedder: Embedder, body: str, start: int, end: int, budget: int) -> list[tuple[int, int]]:
    """Split one sentence longer than ``budget`` tokens into pieces of at most ``budget`` tokens.

    Pieces start at a word where one is in reach: a piece that starts inside a
    word can take more tokens on its own than it held inside the word. Text the
    tokenizer skips between pieces (spaces, punctuation some tokenizers ignore)
    stays with the piece before it, so nothing of the sentence is lost.
    """
    text = body[start:end]
    spans = embedder.token_spans(text)
    if not spans:
        return [(start, end)]
    firsts = [0]  # the first token of each piece
    while len(spans) - firsts[-1] > budget:
        first = firsts[-1]
        latest = first + budget  # the next piece starts here at the latest
        at_word = (i for i in range(latest, first, -1) if text[spans[i][0] - 1:spans[i][0]].isspace())
        firsts.append(next(at_word, latest))
    pieces = []
    for n, first in enumerate(firsts):
        piece_end = spans[firsts[n + 1]][0] if n + 1 < len(firsts) else len(text)
        piece_start = spans[first][0] if n else 0
        piece = text[piece_start:piece_end].rstrip()
        pieces.append((start + piece_start, start + piece_start + len(piece)))
    return pieces


class Chunker:
    """Cuts articles into passages of at most ``max_tokens`` embedder tokens."""

    def __init__(self, embedder: Embedder, max_tokens: int, overlap_tokens: int):
        self.embedder = embedder
        self.max_tokens = min(max_tokens, embedder.max_tokens)
        self.overlap_tokens = max(0, min(overlap_tokens, self.max_tokens // 2))

    def chunk(self, article: Article) -> list[Passage]:
        """The passages of one article, in reading order.

        An internal failure on this article (a chunking bug, e.g. a passage over
        the window) is an ``ArticleError`` naming it, so that a build skips the
        article and goes on; a ``RagError`` (the embedder's server failing) is
        not about one article and passes through.
        """
        try:
            return self._chunk(article)
        except RagError:
            raise
        except Exception as exc:  # noqa: BLE001 - one article's failure, reported with its name
            where = article.path or article.id
            raise ArticleError(where, f"article {article.title[:80]!r} could not be cut into passages "
                               f"({type(exc).__name__}: {exc}); it is left out of the index. This is a "
                               "bug in article-rag: please report it with this file") from exc

    def _chunk(self, article: Article) -> list[Passage]:
        header = passage_header(article)
        header_tokens = self.embedder.count_tokens([header + "\n"])[0]
        budget = self.max_tokens - header_tokens
        if budget < 16:
            # A pathological title: keep the header short rather than the text.
            header = header[:200]
            header_tokens = self.embedder.count_tokens([header + "\n"])[0]
            budget = max(self.max_tokens - header_tokens, 8)
        body = article.body
        units = self._units(body, budget)
        groups = self._pack(units, budget)
        passages = []
        for start, end in groups:
            text = body[start:end]
            passages.append(self._passage(article, header, len(passages), text, start, end))
        self._enforce_window(passages)
        return passages

    def _units(self, body: str, budget: int) -> list[tuple[int, int, int]]:
        """(start, end, tokens) of each sentence, long ones pre-cut."""
        spans = sentence_spans(body)
        counts = self.embedder.count_tokens([body[s:e] for s, e in spans])
        units = []
        for (start, end), count in zip(spans, counts):
            if count <= budget:
                units.append((start, end, count))
                continue
            units.extend(self._cut_to_fit(body, start, end, budget))
        return units

    def _cut_to_fit(self, body: str, start: int, end: int, budget: int) -> list[tuple[int, int, int]]:
        """An over-long sentence as measured pieces that each fit ``budget``."""
        size = budget
        while True:
            pieces = _cut_long_sentence(self.embedder, body, start, end, size)
            counts = self.embedder.count_tokens([body[s:e] for s, e in pieces])
            if max(counts) <= budget or size == 1:
                return [(s, e, count) for (s, e), count in zip(pieces, counts)]
            # A piece cut inside a word took more tokens on its own: cut smaller.
            size = max(1, size - (max(counts) - budget))

    def _pack(self, units: Sequence[tuple[int, int, int]], budget: int) -> list[tuple[int, int]]:
        """Greedy packing with a sentence overlap of about ``overlap_tokens``."""
        groups: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            total, j = 0, i
            while j < len(units) and total + units[j][2] + 1 <= budget:
                total += units[j][2] + 1  # +1: the whitespace joining sentences
                j += 1
            j = max(j, i + 1)
            groups.append((units[i][0], units[j - 1][1]))
            if j >= len(units):
                break
            # Step back over whole sentences worth at most overlap_tokens.
            back, k = 0, j
            while k - 1 > i and back + units[k - 1][2] <= self.overlap_tokens:
                back += units[k - 1][2]
                k -= 1
            i = k
        return groups

    def _passage(self, article: Article, header: str, ordinal: int, text: str, start: int, end: int) -> Passage:
        return Passage(
            id=f"{article.id}:{ordinal}", article_id=article.id, ordinal=ordinal, text=text,
            header=header, start=start, end=end, token_count=0, title=article.title,
            source=article.source, published_at=article.published_at, url=article.url,
            author=article.author,
        )

    def _enforce_window(self, passages: list[Passage]) -> None:
        """Measure header+text exactly; the packing estimate must hold."""
        counts = self.embedder.count_tokens([p.full_text for p in passages])
        for passage, count in zip(passages, counts):
            if count > self.embedder.max_tokens:
                raise AssertionError(
                    f"passage {passage.id} has {count} tokens, over the embedder window "
                    f"{self.embedder.max_tokens}; this is a chunking bug"
                )
            passage.token_count = count
