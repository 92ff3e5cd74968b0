"""Which chat backend answers: the sidebar's choices and how they become settings.

No Streamlit here. The sidebar offers the backends in :data:`BACKENDS`; a
choice plus the typed server URL and model turn into ``Settings`` overrides
(:func:`llm_overrides`, :func:`settings_with`); a key typed for one session
reaches the library through a one-off environment variable
(:func:`session_key_env`); and every answer says who wrote it
(:func:`backend_label`, :func:`endpoint_of`).
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from rag.config import Settings

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


def settings_with(base: Settings, **sections: dict) -> Settings:
    """``base`` with some fields of its sections replaced (``None`` values count)."""
    data = base.model_dump()
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return Settings.model_validate(data)


@contextmanager
def session_key_env(api_key: str | None):
    """A fresh, unguessable environment variable name holding ``api_key`` for
    as long as the block runs (None when there is no key).

    The library's OpenAI backend reads its key from the variable named by
    ``LLMSettings.api_key_env`` once, when the model is created; the variable
    is removed again right after, so the key lives only in that session's
    model object and is never written anywhere.
    """
    if not api_key:
        yield None
        return
    name = f"RAG_UI_SESSION_KEY_{secrets.token_hex(8).upper()}"
    os.environ[name] = api_key
    try:
        yield name
    finally:
        os.environ.pop(name, None)


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
