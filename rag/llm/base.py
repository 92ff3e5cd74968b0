"""The ``ChatModel`` interface every chat backend implements.

``ChatModel.stream(messages)`` yields text deltas; ``complete`` joins them.
Every backend failure surfaces as :class:`~rag.errors.BackendError` whose
message names the server or file and what to do. API keys never appear in
messages or reprs: only the *name* of the environment variable does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any


class ChatModel(ABC):
    """A chat model that streams its answer as text deltas."""

    backend: str
    model: str

    @abstractmethod
    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        passages: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer in pieces. ``passages`` (objects with ``.text``,
        numbered 1..n in order) and ``question`` are used by the extractive
        model only; the others read the messages."""

    def complete(self, messages: list[dict], **kw: Any) -> str:
        """The whole answer as one string (the joined stream)."""
        return "".join(self.stream(messages, **kw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, model={self.model!r})"


def last_user_message(messages: Sequence[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return ""

