"""Resources shared by every session of one server, cached by Streamlit.

The background builds of an index folder, the embedder, the opened index (one
per published version) and the chat models live in ``st.cache_resource``,
keyed by the settings that make them (never by a key: ``api_key`` is left
out of every dump); :func:`session_chat_model` hands a session with its own
API key a private model instead.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from rag.config import EmbeddingSettings, LLMSettings, Settings
from rag.errors import IndexMissingError, RagError
from rag.ui.build_jobs import IndexJobs
from rag.ui.preload import BackgroundLoad, warm_chat_model

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


@st.cache_resource(max_entries=4, show_spinner=False)
def chat_model_load(llm_json: str, preload: bool) -> BackgroundLoad:
    """The chat model for these LLM settings (JSON), shared by every session, loaded
    in the background from the first call on (ui.preload; rag.ui.preload). Always
    called with both arguments: Streamlit's cache key is the arguments as passed."""
    from rag.llm.registry import make_chat_model

    settings = LLMSettings.model_validate_json(llm_json)
    return BackgroundLoad(lambda: warm_chat_model(make_chat_model(settings)), start=preload)


def preload_chat_model(settings: Settings) -> BackgroundLoad | None:
    """Start loading this session's chat model now (the page's first run), unless
    ``ui.preload`` is off or the session has its own key; the load, or None."""
    if settings.ui.preload and settings.llm.api_key is None:
        return chat_model_load(settings.llm.model_dump_json(), True)
    return None


def session_chat_model(settings: Settings, on_wait: Callable[[], None] | None = None):
    """The chat model for this session; a session API key (``settings.llm.api_key``)
    makes a private one, kept in this session only. ``on_wait`` is called first when
    the model is not loaded yet (the page then says so)."""
    fingerprint = settings.llm.model_dump_json()  # without the key
    if settings.llm.api_key is None:
        load = chat_model_load(fingerprint, settings.ui.preload)
        if not load.ready and on_wait is not None:
            on_wait()
        return load.get()
    held = ss.get("_keyed_model")
    if held and held[0] == fingerprint:
        return held[1]
    from rag.llm.registry import make_chat_model

    model = make_chat_model(settings.llm)
    ss._keyed_model = (fingerprint, model)
    return model


def open_current_index(settings: Settings):
    """(opened index, None) or (None, message); the message is "missing" when
    no index has been built yet."""
    from rag.index.stores import make_store

    try:
        version = make_store(settings).published_version()
        scope = settings.model_dump(include={"index_dir", "embedding", "store", "retrieval", "chunking"})
        return cached_index(version, Settings.model_validate(scope).model_dump_json()), None
    except IndexMissingError:
        return None, "missing"
    except RagError as exc:
        return None, str(exc)
