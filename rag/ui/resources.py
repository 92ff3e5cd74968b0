"""Resources shared by every session of one server, cached by Streamlit.

The background builds of an index folder, the embedder, the opened index (one
per published version) and the chat models live in ``st.cache_resource``,
keyed by the settings that make them; :func:`session_chat_model` hands a
session with its own API key a private model instead.
"""

from __future__ import annotations

import streamlit as st
from pydantic import SecretStr

from rag.config import EmbeddingSettings, LLMSettings, Settings
from rag.errors import IndexMissingError, RagError
from rag.ui.backends import session_key_env
from rag.ui.build_jobs import IndexJobs

ss = st.session_state


@st.cache_resource(show_spinner=False)
def index_jobs(index_dir: str) -> IndexJobs:
    """The background build of one index folder, shared by every session."""
    return IndexJobs()


@st.cache_resource(max_entries=3, show_spinner="Loading the embedding model…")
def cached_embedder(embedding_json: str):
    """The embedder for these embedding settings (JSON), shared by every session."""
    from rag.embed.registry import make_embedder

    return make_embedder(EmbeddingSettings.model_validate_json(embedding_json))


@st.cache_resource(max_entries=3, show_spinner="Opening the index…")
def cached_index(version: str, settings_json: str):
    """The opened index for one published version of the index folder in
    ``settings_json``: a rebuild publishes a new version name, so the next run
    of every session opens the new one."""
    from rag.search.open_index import open_index

    settings = Settings.model_validate_json(settings_json)
    return open_index(settings, embedder=cached_embedder(settings.embedding.model_dump_json()))


@st.cache_resource(max_entries=4, show_spinner="Loading the chat model…")
def cached_chat_model(llm_json: str):
    """The chat model for these LLM settings (JSON), shared by every session."""
    from rag.llm.registry import make_chat_model

    return make_chat_model(LLMSettings.model_validate_json(llm_json))


def session_chat_model(settings: Settings):
    """The chat model for this session; a typed API key makes a private one."""
    key: SecretStr | None = ss.get("_api_key")
    fingerprint = settings.llm.model_dump_json()
    if key is None or settings.llm.backend != "openai":
        return cached_chat_model(fingerprint)
    held = ss.get("_keyed_model")
    if held and held[0] == fingerprint:
        return held[1]
    from rag.llm.registry import make_chat_model

    with session_key_env(key.get_secret_value()) as env_name:
        model = make_chat_model(settings.llm.model_copy(update={"api_key_env": env_name}))
    ss._keyed_model = (fingerprint, model)
    return model


def open_current_index(settings: Settings):
    """(opened index, None) or (None, message); the message is "missing" when
    no index has been built yet."""
    from rag.index.store import IndexStore

    try:
        version = IndexStore(settings.index_dir).current_folder().name
        scope = settings.model_dump(include={"index_dir", "embedding", "retrieval", "chunking"})
        return cached_index(version, Settings.model_validate(scope).model_dump_json()), None
    except IndexMissingError:
        return None, "missing"
    except RagError as exc:
        return None, str(exc)
