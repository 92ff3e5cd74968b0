"""The sidebar's Search section: passages given to the model, publishers, dates."""

from __future__ import annotations

from datetime import date

import streamlit as st

ss = st.session_state


def search_section(opened) -> None:
    """Passage count, publisher filter (from the opened index) and date range."""
    st.slider("Passages given to the model", 1, 12, key="k")
    sources = opened.snapshot.list_sources() if opened is not None else []
    if ss.get("f_sources"):  # publishers gone after a rebuild are dropped from the filter
        ss.f_sources = [s for s in ss.f_sources if s in sources]
    st.multiselect("Publishers", sources, key="f_sources", placeholder="all publishers",
                   disabled=not sources)
    st.date_input("Published from", value=None, key="f_since", format="YYYY-MM-DD")
    st.date_input("Published until", value=None, key="f_until", format="YYYY-MM-DD")


def search_filters():
    """The chosen filters as :class:`rag.search.retrieval.SearchFilters`, or None for none."""
    from rag.search.retrieval import SearchFilters

    since, until = ss.get("f_since"), ss.get("f_until")
    filters = SearchFilters(sources=list(ss.get("f_sources") or []),
                            since=since if isinstance(since, date) else None,
                            until=until if isinstance(until, date) else None)
    return None if filters.is_empty() else filters
