"""The sidebar's Model section (operator controls): which chat backend answers,
and a session API key.

A key typed here moves out of the widget at once into a ``SecretStr`` in this
session's memory, bound to the server URL it was typed for; it reaches the
chat model as ``LLMSettings.api_key`` (see :func:`ui.backends.session_llm`),
and is never shown back, stored or shared with other sessions. Changing the
server forgets it.
"""

from __future__ import annotations

import streamlit as st
from pydantic import SecretStr

from rag.config import Settings
from rag.ui.backends import BACKENDS, backend_label, endpoint_of, llm_overrides
from rag.ui.markdown_text import md_escape

ss = st.session_state


def model_section(settings: Settings) -> None:
    """Backend choice with its server URL, model or GGUF file, the key field,
    and a line saying what will write the next answer."""
    options = list(BACKENDS)
    st.selectbox("Chat backend", options, format_func=BACKENDS.get, key="llm_choice")
    choice = ss.llm_choice
    if choice == "openai-compatible":
        st.text_input("Server URL", key="llm_base_url", placeholder="http://localhost:11434/v1")
        st.text_input("Model", key=f"llm_model_{choice}", placeholder="the server's first model")
    elif choice == "openai":
        st.text_input("Model", key=f"llm_model_{choice}", placeholder="gpt-4o-mini")
    elif choice == "llama-cpp":
        st.text_input("GGUF file", key=f"llm_model_{choice}", placeholder="packaged Qwen2.5-Coder-1.5B")
    if choice in ("openai", "openai-compatible"):
        if ss.get("_api_key") is not None and ss.get("_api_key_url") != _server_url():
            forget_key()
            st.caption(":material/key_off: The API key was forgotten: it was typed for another server.")
        if ss.get("_api_key") is not None:
            c1, c2 = st.columns([3, 2])
            c1.caption(":material/key: API key set for this session only.")
            c2.button("Forget", on_click=forget_key, key="forget_key", use_container_width=True)
        else:
            st.text_input("API key (this session only, never stored)", type="password",
                          key="api_key_input", on_change=take_key,
                          placeholder="optional for local servers")
    answered_by(settings)


def answered_by(settings: Settings) -> None:
    """The line saying what will write the next answer."""
    st.caption(md_escape("Next answer: " + backend_label(
        {"backend": settings.llm.backend, "model": settings.llm.model or "",
         "endpoint": endpoint_of(settings.llm.base_url)})))


def _server_url() -> str | None:
    """The server the sidebar points at now (None: OpenAI's own)."""
    return llm_overrides(ss.llm_choice, ss.get("llm_base_url"), None)["base_url"]


def take_key() -> None:
    """Move the typed key out of the widget so it is never shown back; it is
    for the server the sidebar points at now, and no other."""
    value = (ss.get("api_key_input") or "").strip()
    ss.api_key_input = ""
    ss._api_key = SecretStr(value) if value else None
    ss._api_key_url = _server_url()
    ss.pop("_keyed_model", None)


def forget_key() -> None:
    """Drop this session's API key and the private model made with it."""
    ss._api_key = None
    ss._api_key_url = None
    ss.pop("_keyed_model", None)
