"""Which chat backend answers: the sidebar's choices and how they become settings.

No Streamlit here. The sidebar offers the backends in :data:`BACKENDS`; a
choice plus the typed server URL and model turn into LLM settings
(:func:`llm_overrides`, :func:`session_llm`), where a key typed for one
session rides along as ``LLMSettings.api_key`` for the URL it was typed for
only; and every answer says who wrote it (:func:`backend_label`,
:func:`endpoint_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from rag.config import LLMSettings, Settings, updated

BACKENDS = {
    "llama-cpp": "Offline (llama.cpp, local GGUF)",
    "openai-compatible": "OpenAI-compatible server",
    "openai": "OpenAI",
    "extractive": "No language model (quotes)",
}


def backend_choice(settings: Settings) -> str:
    """The sidebar option that ``settings.llm`` corresponds to."""
    backend = (settings.llm.backend or "").lower().replace("_", "-")
    if backend == "openai":
        return "openai-compatible" if settings.llm.base_url else "openai"
    return backend if backend in BACKENDS else "llama-cpp"


def llm_overrides(choice: str, base_url: str | None, model: str | None) -> dict:
    """``load_settings(llm=...)`` overrides for a sidebar choice."""
    base_url = (base_url or "").strip() or None
    model = (model or "").strip() or None
    if choice == "openai-compatible":
        return {"backend": "openai", "base_url": base_url, "model": model}
    if choice == "openai":
        return {"backend": "openai", "base_url": None, "model": model}
    return {"backend": choice, "base_url": None, "model": model}


def settings_with(base: Settings, **sections: BaseModel | dict[str, Any]) -> Settings:
    """``base`` with some sections replaced: a model as it is, a dict of fields
    through :func:`rag.config.updated` (``None`` values count; a new server URL
    drops the configured key)."""
    update = {name: updated(getattr(base, name), **value) if isinstance(value, dict) else value
              for name, value in sections.items()}
    return base.model_copy(update=update)


def session_llm(configured: LLMSettings, choice: str, base_url: str | None, model: str | None,
                key: SecretStr | None = None, key_url: str | None = None) -> LLMSettings:
    """This session's LLM settings for a sidebar choice.

    A server URL other than the configured one gets none of the process's
    keys (:func:`rag.config.updated`); ``key``, typed in this session for the
    server ``key_url`` (None: OpenAI's), goes to that server only.
    """
    llm = updated(configured, **llm_overrides(choice, base_url, model))
    if key is not None and llm.backend == "openai" and llm.base_url == key_url:
        llm = llm.model_copy(update={"api_key": key})
    return llm


def backend_label(message: dict) -> str:
    """Who answered, e.g. "OpenAI-compatible server 127.0.0.1:8080 · qwen2.5"."""
    backend = message.get("backend") or "?"
    model = message.get("model") or ""
    endpoint = message.get("endpoint") or ""
    if backend == "openai":
        label = "OpenAI" if endpoint in ("", "api.openai.com") else f"OpenAI-compatible server {endpoint}"
    else:
        label = {"llama-cpp": "llama.cpp (offline)", "extractive": "extractive (no LLM)"}.get(backend, backend)
    if model and model != backend:
        label += f" · {Path(model).name if backend == 'llama-cpp' else model}"
    return label


def endpoint_of(base_url: str | None) -> str:
    """host:port of a server URL (never its path, query or credentials)."""
    if not base_url:
        return ""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base_url)
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return ""


TEST_ONLY_EMBEDDERS = ("hashing",)  # no model, no meaning: for tests, never offered to a person


def embedder_choices(names: Sequence[str], current: str) -> list[str]:
    """The embedders the rebuild options offer: ``names`` without the test-only ones,
    except the one the index is configured with now (so the choice can show it)."""
    return [n for n in names if n not in TEST_ONLY_EMBEDDERS or n == current]
