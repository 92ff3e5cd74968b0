"""The "updated" mark of a source card: how often the cited article was updated, and what
changed (an expander), from the ``updates`` a citation carries (rag.timeline.updates.mark_updated, in the answer pipeline).

Article text is escaped like the rest of the card (rag.ui.markdown_text.md_escape).
"""

from __future__ import annotations

import streamlit as st

from rag.ui.markdown_text import format_date, md_escape


def update_note(updates: dict, key: str) -> None:
    """"Updated N times, last on DATE" and an expander with each update's changes."""
    n = int(updates.get("count") or 0)
    last = format_date(updates.get("last_seen_at")) or "an unknown day"
    st.caption(md_escape(f"Updated {n} time{'s' if n != 1 else ''}, last on {last} · the text cited is the "
                         "current one"))
    with st.expander("What changed", key=key):
        for i, rev in enumerate(updates.get("revisions") or [], start=1):
            st.markdown(f"**Update {i}** · seen {md_escape(format_date(rev.get('seen_at')) or '')}")
            st.markdown(revision_markdown(rev))


def revision_markdown(rev: dict) -> str:
    """One update as a Markdown list, every article string escaped."""
    if not rev.get("substantive"):
        return "- No substantive change (paragraphs moved, or whitespace and typography only)."
    lines = []
    if rev.get("headline"):
        lines.append(f"- Headline: ~~{md_escape(rev['headline']['old'])}~~ → {md_escape(rev['headline']['new'])}")
    for c in rev.get("changed") or []:
        picked = [x for kind in ("numbers", "dates", "names") for x in c.get(kind) or []]
        lines.append(f"- Changed: ~~{md_escape(c['old'])}~~ → {md_escape(c['new'])}"
                     + (f" ({md_escape(', '.join(picked))})" if picked else ""))
    lines += [f"- Added: {md_escape(s)}" for s in rev.get("added") or []]
    lines += [f"- Removed: ~~{md_escape(s)}~~" for s in rev.get("removed") or []]
    return "\n".join(lines)
