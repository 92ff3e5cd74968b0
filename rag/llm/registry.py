"""Chat backends by name (a lazy ``"module:Class"`` registry, see :mod:`rag.plugins`)."""

from __future__ import annotations

from rag.config import LLMSettings
from rag.llm.base import ChatModel
from rag.plugins import load_backend

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
    return load_backend(CHAT_MODELS, name, "chat backend", "RAG_LLM__BACKEND")


def make_chat_model(settings: LLMSettings) -> ChatModel:
    """The chat model named by ``settings.backend``."""
    return chat_model_class(settings.backend)(settings)
