"""The ``ChatModel`` interface every chat backend implements.

``ChatModel.stream(messages)`` yields text deltas; ``complete`` joins them.
Every backend gets the same messages: the numbered sources travel inside the
prompt (:mod:`rag.llm.sources`), so no backend needs extra arguments.
``count_tokens`` measures a prompt the way the backend will read it, and
``can_rewrite`` says whether the backend writes free text (a language model
that can rewrite a follow-up question or judge a yes/no question).

Every backend failure surfaces as :class:`~rag.errors.BackendError` whose
message names the server or file and what to do. API keys never appear in
messages or reprs: only the *name* of the environment variable does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

_CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    """Conservative token estimate when no tokenizer is at hand.

    One token per 3.5 characters over-counts English for GPT-style tokenizers
    (about 4 characters a token), so a prompt sized with it errs on the side
    of fitting.
    """
    return int(len(text) / _CHARS_PER_TOKEN) + 1


class ChatModel(ABC):
    """A chat model that streams its answer as text deltas."""

    backend: str
    model: str
    can_rewrite: bool = True
    """True for a language model: it can rewrite a follow-up into a standalone
    question and answer a yes/no judgement. False for a model that only quotes."""
    calibrates_yes_no: bool = False
    """True when ``stream`` takes ``yes_no_threshold`` (rag.answer.verdict): it can read
    its first token's odds and open a yes/no reply with the calibrated verdict."""

    @abstractmethod
    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None) -> Iterator[str]:
        """Yield the answer to ``messages`` in pieces. ``yes_no_threshold`` is used only by a
        model whose ``calibrates_yes_no`` is true; any other ignores it."""

    def complete(self, messages: list[dict], **kw: Any) -> str:
        """The whole answer as one string (the joined stream)."""
        return "".join(self.stream(messages, **kw))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as this backend counts them (default: :func:`estimate_tokens`)."""
        return estimate_tokens(text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, model={self.model!r})"


def last_user_message(messages: Sequence[dict]) -> str:
    """The text of the last user message ('' when there is none)."""
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return ""
