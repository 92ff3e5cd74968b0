"""The conversation's messages: made from answers, fed back as history, exported.

No Streamlit here. An assistant message is a JSON-ready dict built from a
:class:`rag.answer.pipeline.Answer` (:func:`answer_record`); the answerer sees only the
completed question/answer pairs (:func:`history_for_answerer`); a failed
answer is a message that says so (:func:`error_record`); the whole
conversation downloads as Markdown (:func:`conversation_markdown`); and the
welcome page offers questions made from article titles (:func:`example_questions`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.ui.backends import backend_label
from rag.ui.markdown_text import answer_markdown, format_date, md_escape, normalize_space, safe_url

_TITLE_TAIL = re.compile(r"\s+[|–—-]\s+[^|–—-]{2,40}$")


def example_questions(titles: Sequence[str], n: int = 3) -> list[str]:
    """Questions made from article titles (deterministic for the same titles)."""
    out: list[str] = []
    for title in titles:
        clean = normalize_space(title)
        clean = _TITLE_TAIL.sub("", clean)  # "Headline – Publisher" -> "Headline"
        clean = clean.rstrip(" .:;!?")
        if len(clean) < 8:
            continue
        if len(clean) > 90:
            clean = clean[:90].rsplit(" ", 1)[0] + "…"
        question = f"What do the articles say about “{clean}”?"
        if question not in out:
            out.append(question)
        if len(out) == n:
            break
    return out


def history_for_answerer(messages: Sequence[dict]) -> list[dict]:
    """The turns the answer pipeline sees: completed question/answer pairs only."""
    out: list[dict] = []
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            reply = messages[i + 1] if i + 1 < len(messages) else None
            if reply and reply.get("role") == "assistant" and not reply.get("error"):
                turn = {"role": "user", "content": message.get("content", "")}
                if message.get("standalone"):
                    turn["standalone"] = message["standalone"]
                out.append(turn)
                out.append({"role": "assistant", "content": reply.get("content", "")})
    return out


def answer_record(answer: Any, message_id: str) -> dict:
    """An assistant message (JSON-ready): the library's :meth:`Answer.to_dict`, with the
    answer text under ``content`` like every chat message."""
    data = answer.to_dict()
    return {"role": "assistant", "id": message_id, "content": data.pop("answer"), **data}


def error_record(message_id: str, text: str) -> dict:
    """An assistant message (JSON-ready) for an answer that failed with ``text``.

    Library messages are shown as sentences: some start in lower case (they
    are also used after a prefix such as "error: "), so the first letter is
    capitalised and a full stop added when there is no final punctuation.
    """
    text = str(text).strip() or "The answer failed; try again."
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?…":
        text += "."
    return {"role": "assistant", "id": message_id, "error": True, "content": text}


def conversation_markdown(messages: Sequence[dict], title: str = "Conversation") -> str:
    """The conversation as a Markdown document with each answer's sources.

    Other viewers will render this file, so it is held to the page's rules:
    questions, titles, quotes and errors are escaped text, answers go through
    :func:`answer_markdown` (no raw HTML, images or non-http(s) links; the
    ``[n]`` markers are plain text), and a source's URL is a link only when
    :func:`safe_url` accepts it.
    """
    lines = [f"# {md_escape(title, inline=True)}", ""]
    for message in messages:
        role = message.get("role")
        if role == "user":
            lines += [f"## Q: {md_escape(str(message.get('content', '')).strip(), inline=True)}", ""]
            continue
        if message.get("error"):
            lines += [f"> Error: {md_escape(str(message.get('content', '')), inline=True)}", ""]
            continue
        lines += [answer_markdown(str(message.get("content", "")).strip(), "", 0), ""]
        lines += [f"*Answered by {md_escape(backend_label(message), inline=True)}*", ""]
        if message.get("citations"):
            lines += ["**Sources**", ""]
            for c in message["citations"]:
                meta = " · ".join(x for x in (c.get("source"), format_date(c.get("published_at"))) if x)
                head = f"{int(c['n'])}. {md_escape(c.get('title') or 'Untitled', inline=True)}"
                if meta:
                    head += f" ({md_escape(meta, inline=True)})"
                url = safe_url(c.get("url"))
                if url:
                    head += f" <{url}>"
                elif c.get("url"):
                    head += f" ({md_escape(str(c['url']), inline=True)})"
                lines.append(head)
                if c.get("quote"):
                    lines.append(f"   > {md_escape(normalize_space(c['quote']), inline=True)}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
