"""Chat backends by name (a lazy ``"module:Class"`` registry, plus installed packages' entry points; see :mod:`rag.plugins`)."""

from __future__ import annotations

from rag.config import LLMSettings
from rag.llm.base import ChatModel
from rag.plugins import CHAT_MODELS_GROUP, backend_names, load_backend

CHAT_MODELS: dict[str, str] = {
    "openai": "rag.llm.openai_compatible:OpenAIChatModel",
    "llama-cpp": "rag.llm.llama_cpp:LlamaCppChatModel",
    "extractive": "rag.llm.extractive:ExtractiveChatModel",
}


def chat_model_names() -> list[str]:
    """The built-in backends, then those installed packages register."""
    return backend_names(CHAT_MODELS, CHAT_MODELS_GROUP)


def chat_model_class(backend: str) -> type[ChatModel]:
    """The class registered for ``backend`` (``llamacpp`` and ``llama_cpp`` mean ``llama-cpp``)."""
    name = (backend or "").strip().lower().replace("_", "-")
    if name == "llamacpp":
        name = "llama-cpp"
    return load_backend(CHAT_MODELS, name, "chat backend", "RAG_LLM__BACKEND", CHAT_MODELS_GROUP)


def make_chat_model(settings: LLMSettings) -> ChatModel:
    """The chat model named by ``settings.backend``."""
    return chat_model_class(settings.backend)(settings)
