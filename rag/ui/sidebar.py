"""The sidebar: conversation buttons, then the Index, Add articles, Model and Search sections."""

from __future__ import annotations

import streamlit as st

from rag.config import Settings
from rag.ui.build_jobs import IndexJobs
from rag.ui.conversation import new_chat
from rag.ui.index_panel import index_section, upload_section
from rag.ui.messages import conversation_markdown
from rag.ui.model_panel import model_section
from rag.ui.search_panel import search_section

ss = st.session_state


def sidebar(base: Settings, settings: Settings, opened, index_problem: str | None, jobs: IndexJobs) -> None:
    """Draw the whole sidebar for this run."""
    with st.sidebar:
        cols = st.columns(2)
        cols[0].button("New chat", icon=":material/add_comment:", on_click=new_chat,
                       use_container_width=True, key="new_chat")
        cols[1].download_button(
            "Download", data=conversation_markdown(ss.messages, title="Article Q&A conversation"),
            file_name=f"conversation-{ss.cid[:8]}.md", mime="text/markdown", icon=":material/download:",
            disabled=not ss.messages, use_container_width=True, key="download")

        st.markdown("### Index")
        index_section(base, settings, opened, index_problem, jobs)
        st.markdown("### Add articles")
        upload_section(settings, jobs)
        st.markdown("### Model")
        model_section(settings)
        st.markdown("### Search")
        search_section(opened)
