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
from rag.ui.markdown_export import export_answer, export_text
from rag.ui.markdown_text import format_date, normalize_space, safe_url

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
            clean = shorten_title(clean, 90)
        question = f"What do the articles say about “{clean}”?"
        if question not in out:
            out.append(question)
        if len(out) == n:
            break
    return out


_OPENING_QUOTE = re.compile(r"(?:^|(?<=[\s(\[]))[‘'\"“]")
_CLOSING = {"‘": "’", "'": "'", '"': '"', "“": "”"}


def shorten_title(title: str, limit: int) -> str:
    """``title`` cut at a word boundary to at most ``limit`` characters plus "…", and
    before any quotation it opens but would not close (never "…: ‘Don’t…"); a title
    that is mostly one quotation keeps it, closed after the "…"."""
    cut = title[:limit].rsplit(" ", 1)[0]
    closing = ""
    while True:
        for match in reversed(list(_OPENING_QUOTE.finditer(cut))):
            if not re.search(re.escape(_CLOSING[match.group()]) + r"(?!\w)", cut[match.end():]):
                if len(cut[:match.start()].strip()) < 20:
                    closing = _CLOSING[match.group()] + closing
                    continue
                cut = cut[:match.start()]
                break
        else:
            break
    return cut.rstrip(" :;,–—-") + "…" + closing


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

    Other viewers will render this file and people read it raw, so it escapes only
    what needs it (:mod:`rag.ui.markdown_export`): questions, titles, quotes and
    errors are literal text, answers keep their formatting and ``[n]`` markers
    but no raw HTML, images or non-http(s) links, and a source's URL is a link
    only when :func:`safe_url` accepts it.
    """
    lines = [f"# {export_text(title)}", ""]
    for message in messages:
        role = message.get("role")
        if role == "user":
            lines += [f"## Q: {export_text(message.get('content', ''))}", ""]
            continue
        if message.get("error"):
            lines += [f"> Error: {export_text(message.get('content', ''))}", ""]
            continue
        lines += [export_answer(str(message.get("content", ""))), ""]
        lines += [f"*Answered by {export_text(backend_label(message))}*", ""]
        if message.get("citations"):
            lines += ["**Sources**", ""]
            for c in message["citations"]:
                meta = " · ".join(x for x in (c.get("source"), format_date(c.get("published_at"))) if x)
                head = f"{int(c['n'])}. {export_text(c.get('title') or 'Untitled')}"
                if meta:
                    head += f" ({export_text(meta)})"
                url = safe_url(c.get("url"))
                if url:
                    head += f" <{url}>"
                elif c.get("url"):
                    head += f" ({export_text(str(c['url']))})"
                lines.append(head)
                if c.get("quote"):
                    lines.append(f"   > {export_text(normalize_space(c['quote']))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
