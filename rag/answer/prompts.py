"""Prompts: the answer prompt with numbered passages, and the follow-up rewrite.

The passages are numbered ``[1]..[n]`` in retrieval order, each introduced by
``[n] title — source, date``. Passages are added best first while they fit the
model's context (``settings.llm.context_tokens``) minus the answer budget
(``max_answer_tokens``), the system prompt and the question; the last one that
fits only in part is cut at a sentence boundary. Tokens are counted with the
chat model's ``count_tokens`` (llama.cpp's own tokenizer for the local model,
an estimate for the others). The block format is :mod:`rag.llm.sources`, so
the extractive model can read the sources back from the same prompt.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

from rag.ingest.sentences import sentence_spans
from rag.llm.base import estimate_tokens
from rag.llm.sources import QUESTION_PREFIX, format_source, format_sources
from rag.types import Passage, human_date

__all__ = ["estimate_tokens"]  # re-exported: callers size prompts with it

TokenCounter = Callable[[str], int]

NO_ANSWER = "Insufficient information."
"""What the model is asked to say when the passages do not answer."""

SYSTEM_PROMPT = f"""You are a careful news research assistant. Answer the user's question from the numbered news passages.
- Start with a direct answer in one sentence (a name, a number, "Yes" or "No" where it fits), then add the key details.
- After every sentence, cite the passages it comes from, like [1] or [2][3]. Only cite numbers of passages you were given.
- Use only facts stated in the passages. Do not invent facts, quotes, numbers or sources.
- Only if no passage is about the question, reply "{NO_ANSWER}" and say in one sentence what the articles do cover."""

REWRITE_PROMPT = """Rewrite the user's last question as one standalone question that can be understood without the conversation: replace pronouns and vague references with the names and things they refer to. Do not answer it. Reply with the rewritten question only."""

# Per-message overhead of chat templates (role markers, separators).
_MESSAGE_OVERHEAD = 8


def passage_label(passage: Passage) -> str:
    """``title — source, date``."""
    meta = ", ".join(x for x in (passage.source, human_date(passage.published_at)) if x)
    return passage.title + (f" — {meta}" if meta else "")


def format_passage(n: int, passage: Passage) -> str:
    """A passage as the model sees it: its label line ``[n] title — source, date``, then its text."""
    return format_source(n, passage_label(passage), passage.text)


def _user_prompt(question: str, blocks: Sequence[str]) -> str:
    # Small local models (Qwen2.5 1.5B) over-apply a refusal instruction that
    # sits next to the question; it lives in the system prompt only.
    body = format_sources(blocks) if blocks else "(no passages)"
    return f"Passages:\n\n{body}\n\n{QUESTION_PREFIX}{question}\nAnswer with [n] citations:"


def _cut_to_fit(passage: Passage, budget: int, count: TokenCounter, n: int) -> Passage | None:
    """A copy of ``passage`` cut after the last whole sentence that fits ``budget`` tokens."""
    spans = sentence_spans(passage.text)
    best = None
    for s, e in spans:
        cut = passage.text[: e]
        if count(format_passage(n, _with_text(passage, cut))) + 2 > budget:
            break
        best = cut
    return _with_text(passage, best) if best and len(best.split()) >= 12 else None


def _with_text(passage: Passage, text: str) -> Passage:
    out = copy.copy(passage)
    out.text = text
    out.end = passage.start + len(text)
    return out


def answer_messages(
    question: str,
    passages: Sequence[Passage],
    *,
    context_tokens: int,
    answer_tokens: int,
    count: TokenCounter = estimate_tokens,
) -> tuple[list[dict], list[Passage]]:
    """The chat messages for ``question`` and the passages that fit, numbered 1..n.

    Passages are taken in the given order; one that no longer fits is cut at a
    sentence boundary (if a useful part fits) and the rest are left out.
    """
    fixed = (count(SYSTEM_PROMPT) + count(_user_prompt(question, [])) + 2 * _MESSAGE_OVERHEAD)
    budget = context_tokens - answer_tokens - fixed
    given: list[Passage] = []
    blocks: list[str] = []
    for passage in passages:
        n = len(given) + 1
        block = format_passage(n, passage)
        cost = count(block) + 2  # the blank line between passages
        if cost > budget:
            cut = _cut_to_fit(passage, budget, count, n)
            if cut is not None:
                given.append(cut)
                blocks.append(format_passage(n, cut))
            break
        given.append(passage)
        blocks.append(block)
        budget -= cost
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": _user_prompt(question, blocks)},
    ]
    return messages, given


def rewrite_messages(question: str, history: Sequence[dict], max_chars: int = 600,
                     max_turns: int = 6) -> list[dict]:
    """Messages asking the model for a standalone version of ``question``.

    The conversation is shown as a transcript (assistant turns shortened to
    ``max_chars`` and stripped of citation markers) so that the model rewrites
    rather than continues it.
    """
    from rag.answer.citations import strip_markers

    lines = []
    for turn in history[-max_turns:] if max_turns > 0 else ():
        role = "User" if turn.get("role") == "user" else "Assistant"
        text = strip_markers(str(turn.get("content", ""))).strip()
        if len(text) > max_chars:
            text = text[:max_chars].rsplit(" ", 1)[0] + " …"
        lines.append(f"{role}: {text}")
    transcript = "\n".join(lines)
    return [
        {"role": "system", "content": REWRITE_PROMPT},
        {"role": "user", "content": f"Conversation:\n{transcript}\n\nLast question: {question}\n\nStandalone question:"},
    ]
