"""Resources shared by every session of one server, held in :mod:`rag.ui.shared`.

The background builds of an index folder, the embedder, the opened index (one
per published version) and the chat models are kept in a process-level
registry that no session can clear (Streamlit's ``clear_cache`` message
empties ``st.cache_resource`` for everyone, so nothing shared lives there),
keyed by the settings that make them (never by a key: ``api_key`` is left
out of every dump); :func:`session_chat_model` hands a session with its own
API key a private model instead. The embedder an index is opened with comes
from the index's own manifest (:func:`index_embedding`), so an embedder
switch survives a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import streamlit as st

from rag.answer.conversations import ConversationError
from rag.config import EmbeddingSettings, LLMSettings, Settings
from rag.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, RagError
from rag.ui.build_jobs import IndexJobs
from rag.ui.preload import BackgroundLoad, warm_chat_model
from rag.ui.shared import shared

ss = st.session_state
log = logging.getLogger("article_rag.ui")


def index_jobs(index_dir: str) -> IndexJobs:
    """The background build of one index folder, shared by every session."""
    return shared("index_jobs", index_dir, IndexJobs)


def cached_embedder(embedding_json: str):
    """The embedder for these embedding settings (JSON), shared by every session."""
    from rag.embed.registry import make_embedder

    def make():
        with st.spinner("Loading the embedding model…"):
            return make_embedder(EmbeddingSettings.model_validate_json(embedding_json))

    return shared("embedder", embedding_json, make, max_entries=3)


def cached_index(version: str, settings_json: str):
    """The opened index for one published version of the index folder in
    ``settings_json``: a rebuild publishes a new version name, so the next run
    of every session opens the new one."""
    from rag.search.open_index import open_index

    def make():
        settings = Settings.model_validate_json(settings_json)
        embedder = cached_embedder(settings.embedding.model_dump_json())
        with st.spinner("Opening the index…"):
            return open_index(settings, embedder=embedder)

    return shared("index", f"{version}\n{settings_json}", make, max_entries=3)


def chat_model_load(llm_json: str, preload: bool) -> BackgroundLoad:
    """The chat model for these LLM settings (JSON), shared by every session, loaded
    in the background from the first call on when ``preload`` (ui.preload; rag.ui.preload)."""
    from rag.llm.registry import make_chat_model

    def make() -> BackgroundLoad:
        settings = LLMSettings.model_validate_json(llm_json)
        return BackgroundLoad(lambda: warm_chat_model(make_chat_model(settings)), start=preload)

    return shared("chat_model", f"{llm_json}\n{preload}", make, max_entries=4)


def preload_chat_model(settings: Settings) -> BackgroundLoad | None:
    """Start loading this session's chat model now (the page's first run), unless
    ``ui.preload`` is off or the session has its own key; the load, or None."""
    if settings.ui.preload and settings.llm.api_key is None:
        return chat_model_load(settings.llm.model_dump_json(), True)
    return None


# What makes an embedder (taken from the manifest after a switch); the rest
# (batch sizes, timeout, retries, concurrency) is how to run it: configured.
_EMBEDDER_IDENTITY = ("backend", "model", "runtime", "base_url", "api_key_env", "dim", "max_tokens")


def index_embedding(settings: Settings) -> EmbeddingSettings:
    """The embedding settings to open the published index with.

    The configured ones, unless the index records (its manifest's
    ``embedding``) that it was built with another embedder backend, as after an
    embedder switch in the sidebar: then that embedder, run with the
    configured batch sizes, timeout and retries. No index, an index built
    before manifests recorded it, or one that cannot be read: the configured
    ones (opening it then says what is wrong).
    """
    from rag.index.stores import make_store

    configured = settings.embedding
    try:
        recorded = make_store(settings).info().get("embedding")
        if not isinstance(recorded, dict) or recorded.get("backend") in (None, configured.backend):
            return configured
        return configured.model_copy(update={k: recorded.get(k) for k in _EMBEDDER_IDENTITY if k in recorded})
    except (RagError, ValueError):
        return configured


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


def open_current_index(settings: Settings, admin: bool = True):
    """(opened index, None) or (None, message); the message is "missing" when
    no index has been built yet. Visitors (``admin`` false) get a message that
    says what is wrong without the server's paths; the log has the full one."""
    from rag.index.stores import make_store

    try:
        version = make_store(settings).published_version()
        scope = settings.model_dump(include={"index_dir", "embedding", "store", "retrieval", "chunking"})
        return cached_index(version, Settings.model_validate(scope).model_dump_json()), None
    except IndexMissingError:
        return None, "missing"
    except RagError as exc:
        return None, shown_error(exc, admin)


def shown_error(exc: RagError, admin: bool) -> str:
    """A library error as the page shows it: in full to the operator, as
    :func:`visitor_message` to a visitor (the log keeps the full text)."""
    if admin:
        return str(exc)
    log.warning("%s", exc)
    return visitor_message(exc)


def visitor_message(exc: RagError) -> str:
    """What a visitor is told about an index or conversation problem: its kind, never a server path."""
    if isinstance(exc, IndexCorruptError):
        return "The index on this server is damaged; the operator needs to rebuild it."
    if isinstance(exc, ConversationError):
        return "This conversation could not be read or saved on the server; start a new chat."
    if isinstance(exc, IndexMismatchError):
        return ("The index on this server was built with other settings than the server now uses; "
                "the operator needs to rebuild it.")
    return "The index on this server cannot be opened right now; try again later."
