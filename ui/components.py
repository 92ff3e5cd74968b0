"""Drawing the chat page: messages, answers with their sources, the welcome.

Safety rule for this file: article text, titles, model output, file names and
error messages go through :func:`ui.markdown_text.md_escape` or
:func:`ui.markdown_text.answer_markdown` and are rendered with raw HTML off. The only
``unsafe_allow_html`` calls draw our own static CSS and anchor elements whose
ids are built from validated hex ids and integers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import streamlit as st

from rag.ui.backends import backend_label
from rag.ui.differences import differences_callout
from rag.ui.updates_view import update_note
from rag.ui.markdown_text import (
    anchor_id,
    answer_markdown,
    format_date,
    highlighted_passage,
    md_escape,
    safe_url,
)

APP_TITLE = "Article Q&A"
TAGLINE = "Answers from your news articles, with every claim linked to the passage it comes from."

CSS = """
<style>
#MainMenu, footer, .stAppDeployButton, [data-testid="stStatusWidget"] {visibility: hidden;}
[data-testid="stHeader"] {background: transparent;}
.block-container {padding-top: 2.2rem; padding-bottom: 6rem; max-width: 860px;}
[data-testid="stSidebar"] {background: #f7f8fa; border-right: 1px solid #eceef2;}
[data-testid="stSidebar"] .block-container, [data-testid="stSidebarContent"] {padding-top: .6rem;}
[data-testid="stSidebar"] h3 {font-size: .78rem; text-transform: uppercase; letter-spacing: .06em;
  color: #6b7280; margin: .9rem 0 .2rem 0; padding: 0;}
.app-brand {display: flex; align-items: center; gap: .6rem; margin-bottom: .15rem;}
.app-brand .name {font-size: 1.55rem; font-weight: 700; letter-spacing: -.01em; color: #111827;}
.app-tagline {color: #6b7280; margin: 0 0 1.2rem 0; font-size: .95rem;}
.stat-row {display: flex; gap: .5rem; flex-wrap: wrap; margin: .2rem 0 1rem 0;}
.stat {background: #eef2ff; color: #3730a3; border-radius: 999px; padding: .15rem .7rem;
  font-size: .82rem; font-weight: 600;}
[data-testid="stChatMessage"] {padding: .6rem .2rem; background: transparent;}
[data-testid="stChatMessage"] a[href^="#src-"] {font-size: .7em; font-weight: 700; vertical-align: super;
  line-height: 0; text-decoration: none; background: #e0e7ff; color: #3730a3; border-radius: 4px;
  padding: .05em .3em; margin: 0 1px;}
[data-testid="stChatMessage"] a[href^="#src-"]:hover {background: #c7d2fe;}
div[class*="st-key-card-"] {background: #fbfbfd; border-radius: 10px !important; padding: .6rem .9rem .5rem .9rem;
  font-size: .88rem; gap: .2rem; height: auto !important;}
div[class*="st-key-card-"] > div {flex-shrink: 0;}
div[class*="st-key-card-"] p {line-height: 1.5;}
div[class*="st-key-card-"]:target, div[class*="st-key-card-"]:has(.src-anchor:target) {
  box-shadow: 0 0 0 2px #818cf8;}
.src-anchor {position: relative; top: -4rem;}
.sources-label {font-size: .74rem; text-transform: uppercase; letter-spacing: .06em; color: #6b7280;
  margin: .6rem 0 .2rem 0; font-weight: 600;}
div[class*="st-key-refused-"] {border-left: 4px solid #d97706; background: #fffbeb; padding: .6rem .9rem;
  border-radius: 6px;}
div[class*="st-key-refused-"] p {color: #78350f;}
div[class*="st-key-examples"] button {justify-content: flex-start; text-align: left; width: 100%;
  border-color: #e5e7eb; background: #fff;}
div[class*="st-key-examples"] button:hover {border-color: #818cf8; color: #3730a3;}
div[class*="st-key-examples"] button p {text-align: left;}
</style>
"""


def inject_css() -> None:
    """Our own static stylesheet (no user content)."""
    st.markdown(CSS, unsafe_allow_html=True)


LOGO = (
    '<svg class="logo" width="30" height="30" viewBox="0 0 32 32" aria-hidden="true">'
    '<rect width="32" height="32" rx="8" fill="#4f46e5"/>'
    '<rect x="8" y="9" width="16" height="3" rx="1.5" fill="#fff"/>'
    '<rect x="8" y="15" width="10" height="2.2" rx="1.1" fill="#c7d2fe"/>'
    '<rect x="8" y="20" width="13" height="2.2" rx="1.1" fill="#c7d2fe"/>'
    '<circle cx="23" cy="21" r="2.6" fill="#fbbf24"/></svg>'
)


def brand(sub: str | None = TAGLINE) -> None:
    """The logo and name, with the tagline under it unless ``sub`` is None."""
    st.markdown(f'<div class="app-brand">{LOGO}<span class="name">{APP_TITLE}</span></div>',
                unsafe_allow_html=True)
    if sub:
        st.markdown(f'<p class="app-tagline">{sub}</p>', unsafe_allow_html=True)


def stat_pills(items: Sequence[tuple[int | str, str]]) -> None:
    """Small counters, e.g. ``[(120, "articles"), ...]`` (numbers and fixed words only)."""
    pills = "".join(f'<span class="stat">{_int_or_text(v)} {w}</span>' for v, w in items)
    st.markdown(f'<div class="stat-row">{pills}</div>', unsafe_allow_html=True)


def _int_or_text(value: int | str) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return re.sub(r"[^0-9A-Za-z .,/-]", "", str(value))


def welcome(article_count: int, passage_count: int, sources: int, examples: Sequence[str],
            on_pick: Callable[[str], None]) -> None:
    """First load: what this is, how much is indexed, and clickable example questions."""
    st.markdown(
        "Ask a question in plain words. The answer is written from the indexed articles only, "
        "and each claim carries a marker like **\\[1\\]** that leads to the passage it came from. "
        "Follow-up questions keep the conversation's context.")
    stat_pills([(article_count, "articles"), (passage_count, "passages")]
               + ([(sources, "publishers")] if sources else []))
    if examples:
        st.markdown('<div class="sources-label">Try one of these</div>', unsafe_allow_html=True)
        with st.container(key="examples"):
            for i, question in enumerate(examples):
                st.button(md_escape(question), key=f"example-{i}", on_click=on_pick, args=(question,),
                          icon=":material/arrow_forward:")


def user_message(text: str) -> None:
    """A question in the conversation, shown literally."""
    with st.chat_message("user", avatar=":material/person:"):
        st.markdown(md_escape(text))


def assistant_message(record: dict) -> None:
    """A stored assistant message (answer or error) in its chat bubble."""
    with st.chat_message("assistant", avatar=":material/newspaper:"):
        answer_body(record)


def answer_body(record: dict) -> None:
    """One finished answer: text, who answered, and its sources."""
    mid = record.get("id") or "x"
    if record.get("error"):
        st.error(md_escape(record.get("content", "")), icon=":material/error:")
        return
    citations = record.get("citations") or []
    if record.get("refused"):
        with st.container(key=f"refused-{mid}"):
            st.markdown("**Not covered by the articles.** " + answer_markdown(
                record.get("content", ""), mid, len(citations)))
    else:
        st.markdown(answer_markdown(record.get("content", ""), mid, len(citations)))
    differences_callout(record)
    st.caption(md_escape(_meta_line(record)))
    if citations:
        st.markdown('<div class="sources-label">Sources</div>', unsafe_allow_html=True)
        for citation in citations:
            source_card(mid, citation)


def _meta_line(record: dict) -> str:
    parts = [f"Answered by {backend_label(record)}"]
    total = (record.get("timings") or {}).get("total_ms")
    if isinstance(total, (int, float)):
        parts.append(f"{total / 1000:.1f} s")
    n = len(record.get("citations") or [])
    if n:
        parts.append(f"{n} source{'s' if n != 1 else ''}")
    if record.get("unsupported_citations"):
        parts.append(f"{record['unsupported_citations']} claim(s) not backed by the cited passage")
    return " · ".join(parts)


def source_card(mid: str, c: dict) -> None:
    """A compact source entry: number, title (linked), publisher and date, and the
    cited excerpt of the article with each cited sentence highlighted once."""
    n = int(c.get("n", 0))
    anchor = anchor_id(mid, n)
    if not re.fullmatch(r"src-[A-Za-z0-9]+-\d+", anchor):  # ids are ours; belt and braces
        anchor = f"src-x-{n}"
    with st.container(border=True, key=f"card-{mid}-{n}"):
        st.markdown(f'<div id="{anchor}" class="src-anchor"></div>', unsafe_allow_html=True)
        title = md_escape(c.get("title") or "Untitled article")
        url = safe_url(c.get("url"))
        head = f"**\\[{n}\\]** " + (f"[{title}]({url})" if url else f"**{title}**")
        beside = [c.get("source") or None, format_date(c.get("published_at"))]
        beside_text = " · ".join(md_escape(x) for x in beside if x)
        st.markdown(head + (f" · {beside_text}" if beside_text else ""))
        notes = []
        if not url and c.get("file"):
            notes.append(f"file {c['file']}")
        if not c.get("supported", True):
            notes.append("⚠ this passage may not support the claim")
        if notes:
            st.caption(" · ".join(md_escape(x) for x in notes))
        if c.get("updates"):
            update_note(c["updates"], key=f"changes-{mid}-{n}")
        quotes = c.get("quotes") or [c.get("quote") or ""]
        body, _found = highlighted_passage(c.get("text") or c.get("passage") or "", quotes)
        st.markdown(body)


def stage_line(placeholder) -> Callable[..., None]:
    """An ``on_stage`` callback (rag.stages) that shows what the answer is doing in
    ``placeholder`` until its first words replace it."""
    from rag.stages import WRITING, describe

    def show(stage: str, **info) -> None:
        if stage != WRITING:
            placeholder.markdown(f":material/progress_activity: _{md_escape(describe(stage, **info))}_")

    return show


def streaming_text(placeholder, text: str, mid: str) -> None:
    """The answer so far, with a cursor, while the model is still writing."""
    placeholder.markdown(answer_markdown(text, mid, 0) + " ▍")
