"""The Streamlit chat over the indexed articles: ``rag ui``, or ``streamlit run ui/app.py`` in a checkout.

Thin by design (docs/architecture.md): answers come from :class:`rag.answer.pipeline.Answerer`,
the index from :mod:`rag.index.building`, conversations from
:mod:`rag.answer.conversations`; this file sets the page up and wires the parts in
``ui/`` (installed as the package ``rag.ui``) together:

- ``session_settings``: configured settings plus this session's sidebar choices;
- ``access``: who gets the operator controls (``upload_guard``: and may upload);
- ``resources``: models, the opened index and background builds, shared per server
  in ``shared``, a registry no session can clear;
- ``conversation``: the conversation named in the URL;
- ``chat_view``: the welcome page, the messages and a new answer;
- ``timeline_view``: the Timeline view of a story (beside the chat);
- ``sidebar`` (with ``index_panel``, ``model_panel``, ``search_panel``);
- ``components``: drawing messages and sources.

Modules without Streamlit (``backends``, ``build_jobs``, ``uploads``,
``markdown_text``, ``messages``) hold the logic the tests call directly.
Settings come from ``rag.toml`` and ``RAG_*`` environment variables like the
CLI; the sidebar overrides the chat backend and search knobs per session.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from rag.config import load_settings
from rag.ui import components as ui
from rag.ui.access import PageRequest, ui_admin
from rag.ui.chat_view import chat
from rag.ui.conversation import conversation_store, load_conversation
from rag.ui.differences import differences_view, view_switch
from rag.ui.markdown_text import md_escape
from rag.ui.resources import index_embedding, index_jobs, open_current_index, preload_chat_model
from rag.ui.session_settings import effective_settings, init_session
from rag.ui.sidebar import sidebar
from rag.ui.timeline_view import timeline_view
from rag.ui.upload_guard import mark_session

log = logging.getLogger("article_rag.ui")


def main() -> None:
    """One run of the page."""
    st.set_page_config(page_title="Article Q&A", page_icon=":material/newspaper:", layout="centered",
                       initial_sidebar_state="expanded")
    # Uncaught errors (there should be none: see the wrapper at the bottom)
    # show no traceback to the person; the server log keeps the details.
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "minimal")
    ui.inject_css()
    try:
        base = load_settings()
    except Exception as exc:  # noqa: BLE001 - a bad rag.toml or RAG_* value
        st.error(md_escape(f"The settings could not be read: {exc}"))
        return
    init_session(base)
    admin = ui_admin(base, st.get_option("server.address"), request=page_request())
    mark_session(admin, base.ui.max_session_upload_mb)  # uploads: the operator's sessions only
    jobs = index_jobs(str(Path(base.index_dir).resolve()))
    settings = effective_settings(base, index_embedding(base), admin)
    preload_chat_model(settings)  # in the background: the first question need not wait for it
    store = conversation_store(settings)
    load_conversation(store, admin)
    opened, problem = open_current_index(settings, admin)
    # The chat runs first so that the sidebar (drawn after it, wherever it
    # appears on the page) sees the conversation including a new answer.
    view = view_switch()
    if view == "Timeline":
        timeline_view(opened, problem)
    elif view == "Differences":
        differences_view(opened)
    else:
        chat(settings, opened, problem, store, admin)
    sidebar(base, settings, opened, problem, jobs, admin)


def page_request() -> PageRequest:
    """What the operator check needs from this session's request (docs/security.md):
    its Host header, its peer, and whether a proxy forwarded it. No headers at
    all: a run without a browser (AppTest), judged by the server address alone."""
    headers = st.context.headers
    if not headers:
        return PageRequest()
    return PageRequest(host=headers.get("Host") or "", peer=getattr(st.context, "ip_address", None),
                       forwarded=bool(headers.get("X-Forwarded-For") or headers.get("Forwarded")))


try:
    main()
except Exception as exc:  # noqa: BLE001 - the page shows a message, the log the traceback
    log.exception("the page failed")
    st.error(f"Something went wrong ({md_escape(type(exc).__name__)}). Reload the page; if it keeps "
             "happening, the server log has the details.")
