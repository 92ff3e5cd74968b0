"""The chat column: the welcome page, the conversation so far, and a new answer.

A question is answered by :class:`rag.answer.pipeline.Answerer`, streamed into the
page as the model writes it, then replaced by the final answer with its
sources. Any failure becomes an error message in the conversation (the
library's :class:`~rag.errors.RagError` text, which says what to do), never a
traceback, and the next question is answered as usual.
"""

from __future__ import annotations

import logging
import secrets
from contextlib import closing

import streamlit as st

from rag.answer.conversations import ConversationStore
from rag.config import Settings
from rag.errors import RagError
from rag.stages import LOADING, SEARCHING
from rag.ui import components as ui
from rag.ui.backends import endpoint_of
from rag.ui.conversation import pick_example
from rag.ui.markdown_text import md_escape
from rag.ui.messages import (
    answer_record,
    error_record,
    example_questions,
    history_for_answerer,
)
from rag.ui.resources import session_chat_model, shown_error
from rag.ui.search_panel import search_filters

log = logging.getLogger("article_rag.ui")
ss = st.session_state


def ask(question: str, settings: Settings, opened, store: ConversationStore, index_problem: str | None = None,
        admin: bool = True) -> None:
    """Stream the answer to ``question`` and keep both turns in the conversation."""
    from rag.answer.pipeline import Answer, Answerer

    history = history_for_answerer(ss.messages)
    user = {"role": "user", "content": question}
    mid = secrets.token_hex(4)
    ui.user_message(question)
    with st.chat_message("assistant", avatar=":material/newspaper:"):
        placeholder = st.empty()
        stage = ui.stage_line(placeholder)
        stage(SEARCHING)
        try:
            if opened is None and index_problem not in (None, "missing"):
                raise RagError(f"No answer: {index_problem}")
            if opened is None:
                raise RagError("There is no index to answer from yet: add articles in the sidebar, "
                               "or build one with `rag index build`.")
            model = session_chat_model(settings, on_wait=lambda: stage(LOADING, model="chat"))
            answerer = Answerer(settings, opened_index=opened, chat_model=model)
            text, final = "", None
            # A new question mid-stream stops this run inside the loop; closing
            # the stream then frees the model for the next answer at once.
            with closing(answerer.stream(question, history, search_filters(), on_stage=stage)) as items:
                for item in items:
                    if isinstance(item, Answer):
                        final = item
                    else:
                        text += item
                        ui.streaming_text(placeholder, text, mid)
            if final is None:
                raise RagError("The answer ended before it was complete; try again.")
            record = answer_record(final, mid)
            if final.backend == "openai":
                record["endpoint"] = endpoint_of(getattr(model, "base_url", None))
            user["standalone"] = final.standalone_question
        except RagError as exc:
            record = error_record(mid, str(exc))
        except Exception as exc:  # noqa: BLE001 - never a traceback on the page
            log.exception("answering failed")
            record = error_record(mid, f"Something went wrong while answering ({type(exc).__name__}). "
                                       "Try again; the server log has the details.")
        with placeholder.container():
            ui.answer_body(record)
    ss.messages = [*ss.messages, user, record]
    try:
        store.save(ss.cid, ss.messages)
    except RagError as exc:
        st.warning(md_escape(shown_error(exc, admin)))


def chat(settings: Settings, opened, index_problem: str | None, store: ConversationStore,
         admin: bool = True) -> None:
    """The main column for this run: welcome or conversation, then a new question's answer."""
    question = st.chat_input("Ask about the articles…", key="question")
    question = question or ss.pop("pending_question", None)
    if ss.get("notice"):
        st.warning(md_escape(ss.pop("notice")))
    # The welcome lives in one slot: the run that answers the first question
    # empties it at once, instead of leaving it faded under the streaming answer
    # until that run ends.
    welcome_slot = st.empty()
    if ss.messages or question:
        welcome_slot.empty()
    else:
        with welcome_slot.container():
            welcome_page(opened, index_problem)
        return
    ui.brand(sub=None)
    if index_problem and index_problem != "missing":
        st.error(md_escape(index_problem), icon=":material/error:")
    for message in ss.messages:
        if message.get("role") == "user":
            ui.user_message(message.get("content", ""))
        else:
            ui.assistant_message(message)
    if question and question.strip():
        ask(question.strip()[: settings.ui.max_question_chars], settings, opened, store, index_problem, admin)


def welcome_page(opened, index_problem: str | None) -> None:
    """The brand, what is indexed and example questions; or why there is nothing to ask."""
    ui.brand()
    if opened is not None:
        snapshot = opened.snapshot
        counts = snapshot.manifest.get("counts", {})
        examples = example_questions(snapshot.sample_titles(12, seed=0), 3)
        ui.welcome(counts.get("articles", 0), counts.get("passages", 0), len(snapshot.list_sources()),
                   examples, pick_example)
    elif index_problem == "missing":
        st.info("No articles are indexed yet. Add article files in the sidebar (**Add articles**), "
                "or put them in the articles folder and press **Rebuild index**.",
                icon=":material/info:")
    else:
        st.error(md_escape(index_problem or "The index cannot be opened."), icon=":material/error:")
