"""What the model reads: the question's evidence sentences, one numbered source per article.

Retrieved passages are grouped by article (best article first); overlapping or
adjacent passages of one article are merged into one span of its text. The
sentences of those spans are scored against the question with BM25 (the
``bm25s`` library, through :class:`rag.index.lexical.LexicalIndex`; this is the
one sentence ranker of the answer path: the fallback quotes the best of these
scores, rag.answer.fallback), page furniture ("Also Read: ...") scoring 0, and the
context is filled within a token budget: first each article's best sentence
(in article order, so every retrieved article that matches at all is heard),
then the next best sentences of any article, then the neighbours of the
chosen sentences (the sentence before and after, which often hold the subject
a pronoun refers to). Each article becomes one :class:`Source`: its title,
publisher and date, and its chosen sentences in their order in the article,
with `` … `` where sentences were skipped. ``[n]`` in an answer names one
source, that is one article, and the user sees the same excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from rag.index.words import content_words
from rag.ingest.sentences import sentence_spans
from rag.types import Passage

GAP = " … "
"""Between two runs of sentences that are not next to each other in the article."""
# Lines of a page that are not the article's reporting ("Also Read: ...", "Click here to ...").
_BOILERPLATE = re.compile(r"^\W*(?:also read|read more|read also|related|recommended|more from|click here|"
                          r"subscribe|sign up|follow us|advertisement|watch)\b", re.I)


@dataclass
class Source:
    """One numbered source given to the model: an excerpt of one article."""

    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    path: str | None
    passages: list[Passage]  # the retrieved passages it was cut from, best first
    text: str  # the excerpt the model read
    score: float = 0.0  # the best passage's retrieval score
    sentences: list[str] = field(default_factory=list)  # the excerpt's sentences, in order
    scores: list[float] = field(default_factory=list)  # each sentence's score for the question (0: not matched)

    @property
    def id(self) -> str:
        """The best retrieved passage's id (a citation names the passage it came through)."""
        return self.passages[0].id if self.passages else self.article_id

    @property
    def passage_ids(self) -> list[str]:
        return [p.id for p in self.passages]

    @property
    def file(self) -> str | None:
        """The article's file name (not its folder), when it came from a file."""
        return PurePath(self.path).name if self.path else None

    @property
    def full_text(self) -> str:
        """Title line and excerpt: what a claim citing this source is checked against."""
        meta = ", ".join(x for x in (self.source, (self.published_at or "")[:10]) if x)
        return f"{self.title}" + (f" ({meta})" if meta else "") + f"\n{self.text}"


@dataclass
class _Sentence:
    article: int  # index of its article group
    run: int  # index of the merged span it lies in
    start: int  # character offset in the article body
    text: str
    score: float = 0.0


def merge_spans(passages: Sequence[Passage]) -> list[tuple[int, str]]:
    """(start offset, text) of the article text covered by ``passages``, overlaps merged.

    Passages are verbatim slices of one article body (``start``/``end``), so
    two that overlap or touch join into one run without the body itself.
    """
    runs: list[tuple[int, str]] = []
    for p in sorted(passages, key=lambda p: (p.start, p.end)):
        if runs and p.start <= runs[-1][0] + len(runs[-1][1]):
            start, text = runs[-1]
            end = start + len(text)
            if p.end > end:
                text += p.text[end - p.start:]
            runs[-1] = (start, text)
        else:
            runs.append((p.start, p.text))
    return runs


def _sentences(runs: Sequence[tuple[int, str]], article: int) -> list[_Sentence]:
    out = []
    for r, (start, text) in enumerate(runs):
        for s, e in sentence_spans(text):
            out.append(_Sentence(article, r, start + s, text[s:e]))
    return out


def build_sources(
    question: str,
    passages: Sequence[Passage],
    *,
    budget_tokens: int,
    count: Callable[[str], int],
    max_sources: int = 6,
    neighbours: bool = True,
    min_words: int = 4,
    whole_passages: bool = False,
    embed: Callable[[list[str]], Any] | None = None,
    query_vector: Any = None,
    dense_weight: float = 0.0,
    min_relative: float = 0.0,
) -> list[Source]:
    """The numbered sources for ``question`` from ``passages`` (best first), within
    ``budget_tokens`` of excerpt text counted with ``count`` (see module doc).

    ``whole_passages`` keeps every sentence of the merged passages, best
    article first, while they fit (the full-passage context, for comparison).
    """
    from rag.index.lexical import LexicalIndex

    groups: dict[str, list[Passage]] = {}
    for p in passages:
        if p.article_id in groups or len(groups) < max_sources:
            groups.setdefault(p.article_id, []).append(p)
    articles = list(groups.values())
    sentences = [s for i, group in enumerate(articles) for s in _sentences(merge_spans(group), i)]
    query = " ".join(content_words(question))
    if sentences and query:
        scores = np.asarray(LexicalIndex.build([s.text for s in sentences]).scores(query), dtype=np.float64)
        if scores.max() > 0:
            scores = scores / scores.max()
        if dense_weight and embed is not None and query_vector is not None:
            cosines = np.asarray(embed([s.text for s in sentences])) @ np.asarray(query_vector)
            scores = scores + dense_weight * np.clip(cosines, 0.0, None)
        floor = min_relative * float(scores.max()) if len(scores) else 0.0
        for sentence, score in zip(sentences, scores):
            ok = (len(sentence.text.split()) >= min_words and score > 0 and score >= floor
                  and not _BOILERPLATE.match(sentence.text))
            sentence.score = float(score) if ok else 0.0

    chosen: set[int] = set()
    used = 0

    def take(i: int) -> bool:
        nonlocal used
        if i in chosen:
            return True
        cost = count(sentences[i].text) + 1
        if used + cost > budget_tokens:
            return False
        chosen.add(i)
        used += cost
        return True

    if whole_passages:
        for i in range(len(sentences)):
            if not take(i):
                break
        neighbours = False
    by_score = [] if whole_passages else sorted(
        (i for i, s in enumerate(sentences) if s.score > 0), key=lambda i: -sentences[i].score)
    for a in range(len(articles)):  # every matching article's best sentence first
        best = next((i for i in by_score if sentences[i].article == a), None)
        if best is not None:
            take(best)
    for i in by_score:
        take(i)
    if neighbours:
        for i in sorted(chosen, key=lambda i: -sentences[i].score):
            for j in (i - 1, i + 1):
                if 0 <= j < len(sentences) and (sentences[j].article, sentences[j].run) == (
                        sentences[i].article, sentences[i].run):
                    take(j)

    out = []
    for a, group in enumerate(articles):
        picked = sorted((i for i in chosen if sentences[i].article == a), key=lambda i: sentences[i].start)
        if not picked:
            continue
        parts: list[str] = []
        for k, i in enumerate(picked):
            prev = picked[k - 1] if k else None
            if prev is not None and (i != prev + 1 or sentences[i].run != sentences[prev].run):
                parts.append(GAP.strip())
            parts.append(sentences[i].text)
        best = group[0]
        out.append(Source(
            article_id=best.article_id, title=best.title, source=best.source,
            published_at=best.published_at, url=best.url, path=getattr(best, "path", None),
            passages=list(group), text=" ".join(parts), score=max(p.score for p in group),
            sentences=[sentences[i].text for i in picked], scores=[sentences[i].score for i in picked]))
    return out
