"""The Timeline view: a story's dated events, next to the chat.

A typed topic, or the conversation's last question with one click, goes to
:func:`rag.timeline.build.build_timeline` (the code path of ``rag timeline``)
with the chat's filters (sidebar: publishers, dates). The view shows a chart
of coverage per outlet over time (Altair) and the events as a list; opening
an event shows its sources as the chat's sources panel does
(:func:`rag.ui.components.source_card`). Article text is escaped like the chat's.
"""

from __future__ import annotations

import streamlit as st

from rag.timeline.build import build_timeline
from rag.ui import components as ui
from rag.ui.markdown_text import answer_markdown, format_date, md_escape
from rag.timeline.dates import delay_text
from rag.ui.search_panel import search_filters

ss = st.session_state


def last_question() -> str | None:
    """The conversation's last question, if any."""
    for message in reversed(ss.get("messages") or []):
        if message.get("role") == "user" and message.get("content"):
            return str(message.get("standalone") or message["content"])
    return None


def timeline_view(opened, index_problem: str | None) -> None:
    """The Timeline page for this run."""
    st.markdown("#### Timeline of a story")
    if opened is None:
        st.info(md_escape(index_problem if index_problem and index_problem != "missing"
                          else "No articles are indexed yet."), icon=":material/info:")
        return
    with st.form("tl_form", border=False):
        topic = st.text_input("Story", key="tl_topic", placeholder="a topic or a question, e.g. the FTX trial")
        typed = st.form_submit_button("Show timeline", type="primary")
    current = last_question()
    if current and st.button(f"Timeline of the last question: {current[:80]}", key="tl_current"):
        ss.tl_query = current
    elif typed and topic.strip():
        ss.tl_query = topic.strip()[:500]
    query = ss.get("tl_query")
    if not query:
        st.caption("Shows who reported each development first, who followed and when, with cited sentences.")
        return
    filters = search_filters()
    key = (query, repr(filters), opened.snapshot.version)
    if ss.get("tl_key") != key:
        with st.spinner("Building the timeline…"):
            ss.tl_result = build_timeline(opened, query, filters).to_dict()
        ss.tl_key = key
    show(ss.tl_result)


def show(result: dict) -> None:
    """A timeline's chart and events (``Timeline.to_dict()``)."""
    events, undated = result["events"], result["undated"]
    if not events and not undated:
        st.warning(md_escape(f"No indexed article is about “{result['query']}”."), icon=":material/search_off:")
        return
    st.caption(md_escape(f"“{result['query']}”: {len(events)} event(s) from {result['articles']} article(s)"))
    if events:
        coverage_chart(events)
    for i, event in enumerate(events):
        first = event["first"]
        stated = " (date named in the text)" if event["date_kind"] == "stated" else ""
        followers = ", ".join(f"{o['source'] or 'unknown'} {delay_text(o['delay_s'])}" for o in event["outlets"])
        label = f"{format_date(event['date'])}{stated} — {first['source'] or 'unknown outlet'} first" + (
            f"; then {followers}" if followers else "")
        with st.expander(md_escape(label), expanded=False, key=f"tl-event-{i}"):
            mid = f"tl{i}"
            st.markdown(answer_markdown(event.get("summary") or event["text"], mid, len(event["citations"])))
            st.caption(md_escape(f"First: {first['source'] or 'unknown outlet'}, "
                                 f"{format_date(first['published_at'])}"))
            st.markdown('<div class="sources-label">Sources</div>', unsafe_allow_html=True)
            for citation in event["citations"]:
                ui.source_card(mid, citation)
    if undated:
        st.markdown("**Undated articles** (no publication date, not placed in time)")
        for j, entry in enumerate(undated):
            with st.expander(md_escape(f"{entry['title'] or 'Untitled'} — {entry['source'] or entry['file'] or ''}")):
                st.markdown(answer_markdown(entry["text"], f"tlu{j}", len(entry["citations"])))
                for citation in entry["citations"]:
                    ui.source_card(f"tlu{j}", citation)


def coverage_chart(events: list[dict]) -> None:
    """Articles per outlet per day (every outlet of every event), as dots sized by count."""
    from collections import Counter

    import altair as alt

    counts = Counter(((o["source"] or "unknown"), (o["published_at"] or "")[:10])
                     for e in events for o in [e["first"], *e["outlets"]] if o.get("published_at"))
    rows = [{"outlet": outlet, "day": day, "articles": n} for (outlet, day), n in sorted(counts.items())]
    chart = alt.Chart(alt.Data(values=rows)).mark_circle().encode(
        x=alt.X("day:T", title="published"), y=alt.Y("outlet:N", title=None),
        size=alt.Size("articles:Q", legend=None), tooltip=["outlet:N", "day:T", "articles:Q"])
    st.altair_chart(chart, use_container_width=True)
