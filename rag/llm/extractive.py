"""The extractive "chat model": no language model at all.

It quotes the sentences of the sources in its prompt that best match the
question, each with its ``[n]`` marker. It reads the numbered sources and the
question back from the prompt (:mod:`rag.llm.sources`), so it gets the same
messages as every other backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rag.config import LLMSettings
from rag.index.words import content_words
from rag.ingest.sentences import split_sentences as shared_split_sentences
from rag.llm.base import ChatModel, last_user_message
from rag.llm.sources import read_question, read_sources, with_marker

EXTRACTIVE_INTRO = (
    "No language model was used: these are the sentences from the articles that best match "
    "your question."
)
EXTRACTIVE_NOTHING = (
    "No language model was used, and the articles given do not appear to answer this question: "
    "none of their sentences share its key words."
)


def _question_words(text: str) -> str:
    """The question without the words that only frame it ("tell", "article"...)."""
    return " ".join(content_words(text))


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``, stripped; lines (such as a passage header) never merge."""
    return [s.strip() for s in shared_split_sentences(text) if s.strip()]


def cite(sentence: str, n: int) -> str:
    """``sentence`` with ``[n]`` placed before its closing punctuation."""
    return with_marker(sentence, f"[{n}]")


class ExtractiveChatModel(ChatModel):
    """Answers with the passages' sentences that best match the question (BM25)."""

    backend = "extractive"
    model = "extractive"
    can_rewrite = False
    max_sentences = 4
    min_words = 4  # shorter fragments (headers, datelines) are not quoted

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self.settings = settings

    def select(self, question: str, passages: Sequence[Any]) -> list[tuple[str, int]]:
        """Up to ``max_sentences`` (sentence, passage number) pairs, best first.

        ``passages`` are texts (or objects with ``.text``) numbered 1..n.

        Sentences are scored with BM25 (the ``bm25s`` library, through
        :class:`rag.index.lexical.LexicalIndex`) over all sentences of the passages.
        """
        from rag.index.lexical import LexicalIndex

        query = _question_words(question)
        if not query:
            return []
        candidates: list[tuple[str, int]] = []
        seen: set[str] = set()
        for n, passage in enumerate(passages, start=1):
            text = getattr(passage, "text", passage)
            for sentence in split_sentences(str(text)):
                key = " ".join(sentence.lower().split())
                if key in seen or len(sentence.split()) < self.min_words:
                    continue
                seen.add(key)
                candidates.append((sentence, n))
        if not candidates:
            return []
        scores = LexicalIndex.build([s for s, _ in candidates]).scores(query)
        order = sorted((i for i in range(len(candidates)) if scores[i] > 0), key=lambda i: (-scores[i], i))
        return [candidates[i] for i in order[: self.max_sentences]]

    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None) -> Iterator[str]:
        prompt = last_user_message(messages)
        picked = self.select(read_question(prompt), [block.text for block in read_sources(prompt)])
        if not picked:
            yield EXTRACTIVE_NOTHING
            return
        yield EXTRACTIVE_INTRO
        for sentence, n in picked:
            yield "\n\n" + cite(sentence, n)
