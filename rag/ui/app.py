"""The Streamlit chat over the indexed articles: ``rag ui`` (or ``streamlit run rag/ui/app.py``).

Thin by design (docs/architecture.md): answers come from :class:`rag.answer.pipeline.Answerer`,
the index from :mod:`rag.index.building`, conversations from
:mod:`rag.answer.conversations`; this file sets the page up and wires the parts in
``rag/ui/`` together:

- ``session_settings``: configured settings plus this session's sidebar choices;
- ``resources``: models, the opened index and background builds, cached per server;
- ``conversation``: the conversation named in the URL;
- ``chat_view``: the welcome page, the messages and a new answer;
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

from rag.config import load_settings, ui_admin
from rag.ui import components as ui
from rag.ui.chat_view import chat
from rag.ui.conversation import conversation_store, load_conversation
from rag.ui.differences import differences_view, view_switch
from rag.ui.markdown_text import md_escape
from rag.ui.resources import index_jobs, open_current_index
from rag.ui.session_settings import effective_settings, init_session
from rag.ui.sidebar import sidebar

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
    # Operator controls: [ui] admin, else only on a loopback address with no
    # proxy in between (docs/security.md).
    headers = st.context.headers
    admin = ui_admin(base, st.get_option("server.address"),
                     forwarded=bool(headers.get("X-Forwarded-For") or headers.get("Forwarded")))
    jobs = index_jobs(str(Path(base.index_dir).resolve()))
    settings = effective_settings(base, jobs, admin)
    store = conversation_store(settings)
    load_conversation(store)
    opened, problem = open_current_index(settings)
    # The chat runs first so that the sidebar (drawn after it, wherever it
    # appears on the page) sees the conversation including a new answer.
    if view_switch() == "Differences":
        differences_view(opened)
    else:
        chat(settings, opened, problem, store)
    sidebar(base, settings, opened, problem, jobs, admin)


try:
    main()
except Exception as exc:  # noqa: BLE001 - the page shows a message, the log the traceback
    log.exception("the page failed")
    st.error(f"Something went wrong ({md_escape(type(exc).__name__)}). Reload the page; if it keeps "
             "happening, the server log has the details.")
