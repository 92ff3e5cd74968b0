"""The sidebar: conversation buttons, then the Index, Add articles, Model and Search sections.

Visitors (``admin`` false, see :func:`rag.ui.access.ui_admin`) get the
conversation buttons, what is indexed, which model answers and the search
filters; rebuilds, uploads and the model choice are not drawn at all.
"""

from __future__ import annotations

import streamlit as st

from rag.config import Settings
from rag.ui.build_jobs import IndexJobs
from rag.ui.conversation import new_chat
from rag.ui.index_panel import index_summary, job_panel, rebuild_section, upload_section
from rag.ui.messages import conversation_markdown
from rag.ui.model_panel import answered_by, model_section
from rag.ui.search_panel import search_section

ss = st.session_state


def sidebar(base: Settings, settings: Settings, opened, index_problem: str | None, jobs: IndexJobs,
            admin: bool) -> None:
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
        index_summary(opened, index_problem)
        if admin:
            rebuild_section(base, settings, jobs, admin)
            st.markdown("### Add articles")
            upload_section(settings, jobs, admin)
            st.markdown("### Model")
            model_section(settings)
        else:
            job_panel(jobs, admin=False)  # a build started by the operator shows here too
            st.markdown("### Model")
            answered_by(settings)
        st.markdown("### Search")
        search_section(opened)
