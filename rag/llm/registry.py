"""Chat backends by name: a lazy ``"module:Class"`` registry.

A backend's module is imported only when it is asked for, so choosing the
extractive model never imports llama.cpp, and no module registers itself by
side effect.
"""

from __future__ import annotations

import importlib

from rag.config import LLMSettings
from rag.errors import ConfigError
from rag.llm.base import ChatModel

CHAT_MODELS: dict[str, str] = {
    "openai": "rag.llm.openai_compatible:OpenAIChatModel",
    "llama-cpp": "rag.llm.llama_cpp:LlamaCppChatModel",
    "extractive": "rag.llm.extractive:ExtractiveChatModel",
}


def chat_model_class(backend: str) -> type[ChatModel]:
    """The class registered for ``backend`` (``llamacpp`` and ``llama_cpp`` mean ``llama-cpp``)."""
    name = (backend or "").strip().lower().replace("_", "-")
    if name == "llamacpp":
        name = "llama-cpp"
    target = CHAT_MODELS.get(name)
    if target is None:
        raise ConfigError(
            f"Unknown chat backend {backend!r}: set RAG_LLM__BACKEND to one of "
            f"{', '.join(sorted(CHAT_MODELS))}."
        )
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def make_chat_model(settings: LLMSettings) -> ChatModel:
    """The chat model named by ``settings.backend``."""
    return chat_model_class(settings.backend)(settings)
