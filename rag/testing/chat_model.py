"""The contract every chat backend keeps (:mod:`rag.llm.base`), as pytest checks.

Subclass :class:`ChatModelContract` and give the ``chat_model`` fixture (a
backend set up to answer deterministically, e.g. temperature 0)::

    class TestMyChatModel(ChatModelContract):
        @pytest.fixture
        def chat_model(self):
            return MyChatModel(LLMSettings(backend="my-model"))
"""

from __future__ import annotations

import pytest

from rag.llm.base import ChatModel
from rag.llm.registry import chat_model_names
from rag.llm.sources import QUESTION_PREFIX, format_source, format_sources

PASSAGES = [
    "Paris is the capital of France and its largest city. The Eiffel Tower was finished in 1889.",
    "Stock markets in Tokyo fell sharply on Monday after the central bank spoke.",
]


def prompt_messages(question: str, passages=PASSAGES) -> list[dict]:
    """An answer prompt with numbered sources, as the pipeline writes one."""
    blocks = [format_source(n, f"Article {n} — Wire, October 1, 2023", text)
              for n, text in enumerate(passages, start=1)]
    return [{"role": "system", "content": "Answer briefly with [n] citations."},
            {"role": "user", "content": f"Passages:\n\n{format_sources(blocks)}\n\n"
                                        f"{QUESTION_PREFIX}{question}\nAnswer with [n] citations:"}]


class ChatModelContract:
    """The checks every chat backend passes."""

    @pytest.fixture
    def chat_model(self) -> ChatModel:
        raise NotImplementedError("a ChatModelContract subclass gives the chat_model fixture")

    def test_identity(self, chat_model):
        assert isinstance(chat_model, ChatModel)
        assert chat_model.backend in chat_model_names() and isinstance(chat_model.model, str) and chat_model.model
        assert chat_model.backend in repr(chat_model) or type(chat_model).__name__ in repr(chat_model)
        assert isinstance(chat_model.can_rewrite, bool)

    def test_streams_text_and_complete_joins_it(self, chat_model):
        messages = prompt_messages("What is the capital of France?")
        deltas = list(chat_model.stream(messages, max_tokens=16))
        assert deltas and all(isinstance(d, str) for d in deltas)
        joined = "".join(deltas)
        assert joined.strip()
        assert chat_model.complete(messages, max_tokens=16) == joined  # deterministic settings

    def test_counts_tokens(self, chat_model):
        short, long = chat_model.count_tokens("Paris"), chat_model.count_tokens("Paris is the capital of France. " * 20)
        assert isinstance(short, int) and 0 < short < long
