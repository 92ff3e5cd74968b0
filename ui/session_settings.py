"""This session's settings: the configured ones plus the sidebar's choices.

Settings come from ``rag.toml`` and ``RAG_*`` variables like the CLI's; the
sidebar's widgets (chat backend, server URL, model, passages) override them
for one browser session only. Without the operator controls (``admin``
false) the chat backend is the configured one whatever the session holds.
"""

from __future__ import annotations

import streamlit as st

from rag.config import EmbeddingSettings, Settings
from rag.ui.backends import BACKENDS, backend_choice, session_llm, settings_with

ss = st.session_state


def init_session(base: Settings) -> None:
    """Widget defaults from the configured settings, once per session."""
    if "llm_choice" not in ss:
        ss.llm_choice = backend_choice(base)
        ss.llm_base_url = base.llm.base_url or ""
        ss[f"llm_model_{ss.llm_choice}"] = base.llm.model or ""
        ss.k = int(base.answer.passages)
        ss.upload_gen = 0
    # Keep what was typed for a backend while its fields are hidden (Streamlit
    # forgets the state of widgets that are not drawn in a run).
    for key in ("llm_base_url", *(f"llm_model_{name}" for name in BACKENDS)):
        if key in ss:
            ss[key] = ss[key]


MAX_PASSAGES = 12  # the sidebar slider's top


def effective_settings(base: Settings, embedding: EmbeddingSettings, admin: bool) -> Settings:
    """This session's settings: configured ones plus the sidebar's choices, with
    ``embedding`` the one the published index was built with."""
    llm = base.llm
    if admin:
        choice = ss.llm_choice
        llm = session_llm(base.llm, choice, ss.get("llm_base_url"), ss.get(f"llm_model_{choice}"),
                          ss.get("_api_key"), ss.get("_api_key_url"))
    passages = min(max(int(ss.get("k", base.answer.passages)), 1), MAX_PASSAGES)
    return settings_with(base, llm=llm, answer={"passages": passages},
                         embedding=embedding)
