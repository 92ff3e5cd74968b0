"""Where outlets differ, in the page: the callout under an answer and the Differences view.

The callout draws an answer's ``disagreements`` (rag.disagree, stored with the
message): for each flag, what differs and, per value, the value, its ``[n]``
(a link to the source entry below), the outlet and date, and the source's
sentence with the value highlighted. The Differences view asks
:func:`rag.disagree.topic.differences` for a topic with the sidebar's search
filters and draws every flag the same way. Article text goes through
:func:`md_escape` like everywhere on the page.
"""

from __future__ import annotations

import re

import streamlit as st

from rag.ui.markdown_text import anchor_id, format_date, md_escape, normalize_space

ss = st.session_state
KINDS = {"number": "figures", "date": "dates", "attribution": "who said it"}


def _headline(flag: dict) -> str:
    about = "who said it" if flag.get("kind") == "attribution" else str(flag.get("slot") or "")
    lead = "Updated" if flag.get("status") == "updated" else "Outlets differ"
    return f"**{lead}** on {md_escape(about, inline=True)}"


def highlighted_sentence(sentence: str, stated: str) -> str:
    """The sentence escaped, all of it highlighted, the value in bold within it."""
    text = normalize_space(sentence)
    at = text.find(stated) if stated else -1
    if at < 0:
        return f":orange-background[{md_escape(text, inline=True)}]"
    before, value, after = text[:at], text[at:at + len(stated)], text[at + len(stated):]
    return (f":orange-background[{md_escape(before, inline=True)}**{md_escape(value, inline=True)}**"
            f"{md_escape(after, inline=True)}]")


def value_line(value: dict, mid: str | None, n_links: int) -> str:
    """One value: bold value, its [n] (a link under an answer), outlet · date, the sentence."""
    n = int(value.get("n") or 0)
    marker = f"\\[{n}\\]"
    if mid and 1 <= n <= n_links and re.fullmatch(r"[A-Za-z0-9]+", mid):
        marker = f"[{marker}](#{anchor_id(mid, n)})"
    meta = " · ".join(md_escape(x, inline=True) for x in (value.get("source"), format_date(value.get("published_at")))
                      if x)
    shown = value.get("stated") or value.get("value") or ""
    return (f"- **{md_escape(str(shown), inline=True)}** {marker}" + (f" — {meta}" if meta else "")
            + f"  \n  {highlighted_sentence(str(value.get('sentence') or ''), str(value.get('stated') or ''))}")


def flag_markdown(flag: dict, mid: str | None = None, n_links: int = 0) -> str:
    """A flag as escaped Markdown: the headline and one line per value."""
    return _headline(flag) + "\n\n" + "\n".join(value_line(v, mid, n_links) for v in flag.get("values") or [])


def differences_callout(record: dict) -> None:
    """Under an answer: its disagreements, when it has any."""
    flags = record.get("disagreements") or []
    if not flags:
        return
    mid = str(record.get("id") or "x")
    n_links = len(record.get("citations") or [])
    with st.container(key=f"differ-{mid if re.fullmatch(r'[A-Za-z0-9]+', mid) else 'x'}"):
        for flag in flags:
            st.warning(flag_markdown(flag, mid, n_links), icon=":material/compare_arrows:")


VIEWS = ("Chat", "Timeline", "Differences")  # the page's views (ui/app.py)


def view_switch() -> str:
    """The view chooser at the top of the page: "Chat" (the default), "Timeline" or "Differences"."""
    choice = st.segmented_control("View", VIEWS, default=VIEWS[0], key="view", label_visibility="collapsed")
    return choice or VIEWS[0]


def differences_view(opened) -> None:
    """The Differences view: a topic's disagreements among the indexed articles."""
    from rag.disagree.topic import differences
    from rag.ui.search_panel import search_filters

    st.markdown("Numbers, dates and attributions on which the indexed articles about a topic differ. "
                "The sidebar's publisher and date filters apply.")
    topic = st.text_input("Topic", key="differences_topic", placeholder="e.g. the harbour warehouse fire")
    if opened is None:
        st.info("No articles are indexed yet.", icon=":material/info:")
        return
    if not topic or not topic.strip():
        return
    result = differences(opened, topic.strip()[:500], search_filters())
    flags = result["disagreements"]
    if not flags:
        st.success("The matching articles do not differ on any figure, date or attribution the check can compare.")
        return
    st.caption(f"{len(flags)} difference{'s' if len(flags) != 1 else ''} among "
               f"{len(result['sources'])} matching articles")
    titles = {s["n"]: s for s in result["sources"]}
    with st.container(key="differences-list"):
        for flag in flags:
            st.warning(flag_markdown(flag), icon=":material/compare_arrows:")
            named = sorted({v["n"] for v in flag["values"]})
            st.caption(" · ".join(f"\\[{n}\\] {md_escape(titles[n]['title'] or 'Untitled', inline=True)}"
                                  for n in named if n in titles))
