"""What the answer pipeline needs of an opened index and of a chat model, declared.

:class:`rag.answer.pipeline.Answerer` takes any object with these members:
:class:`rag.search.open_index.OpenIndex` and every
:class:`rag.llm.base.ChatModel` satisfy them, and a test or a benchmark may
pass its own (benchmarks/replay_answers.py replays recorded replies).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class SearchableIndex(Protocol):
    """An opened index: its snapshot (lexical search, passages, manifest), embedder and retriever."""

    snapshot: Any  # rag.index.passage_store.PassageSnapshot: lexical_search, fetch, manifest
    embedder: Any  # rag.embed.base.Embedder: model_id, embed
    retriever: Any  # rag.search.retrieval.Retriever: retrieve, known_sources

    def close(self) -> None: ...


class AnsweringModel(Protocol):
    """A chat model as the pipeline uses it (rag.llm.base.ChatModel declares each member)."""

    backend: str
    model: str
    can_rewrite: bool
    calibrates_yes_no: bool

    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None) -> Iterator[str]: ...

    def complete(self, messages: list[dict], **kw: Any) -> str: ...

    def count_tokens(self, text: str) -> int: ...
