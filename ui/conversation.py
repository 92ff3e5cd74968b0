"""Which conversation this session shows: the id in the URL and its messages.

Each conversation has a random id in the URL (``?c=<id>``) and is stored by
:class:`rag.answer.conversations.ConversationStore` in the index folder, so a reload
shows it again; the messages of the one shown live in ``st.session_state``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from rag.answer.conversations import ConversationStore
from rag.config import Settings
from rag.errors import RagError
from rag.ui.resources import shown_error

ss = st.session_state


def conversation_store(settings: Settings) -> ConversationStore:
    """Where conversations are kept: ``<index_dir>/conversations``."""
    return ConversationStore(Path(settings.index_dir) / "conversations")


def load_conversation(store: ConversationStore, admin: bool = True) -> None:
    """Messages for the id in the URL (``?c=``), loaded once per id (a file that
    cannot be read: a notice, without the server's path for visitors)."""
    cid = st.query_params.get("c")
    if ss.get("cid") == cid and "messages" in ss:
        return
    if not store.is_valid_id(cid):
        cid = store.new_id()
        st.query_params["c"] = cid
        ss.messages = []
    else:
        try:
            ss.messages = store.load(cid)
        except RagError as exc:
            ss.messages = []
            ss.notice = shown_error(exc, admin)
    ss.cid = cid


def new_chat() -> None:
    """Start an empty conversation under a new id (the "New chat" button)."""
    cid = ConversationStore.new_id()
    st.query_params["c"] = cid
    ss.cid = cid
    ss.messages = []
    ss.pop("pending_question", None)


def pick_example(question: str) -> None:
    """Ask ``question`` on the next run (an example button on the welcome page)."""
    ss.pending_question = question
