"""Prompts: the answer prompt over numbered sources, the evidence check, and the follow-up rewrite.

The answer prompt's user message lists the sources (rag.answer.context: one
excerpt per article) as blocks ``[n] title — publisher, date`` followed by the
excerpt (the block format of :mod:`rag.llm.sources`, so the extractive model
can read them back), then ``Question: ...`` and one instruction line. The
evidence check (:func:`check_messages`) is the same prompt with another last
line, so a server that caches prompts can read the sources once for both
calls (the in-process llama.cpp model reads each prompt afresh, so that the
same question always gets the same answer: rag.llm.llama_cpp).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.answer.question import Question
from rag.llm.base import estimate_tokens
from rag.llm.sources import QUESTION_PREFIX, format_source, format_sources
from rag.types import human_date

__all__ = ["estimate_tokens"]  # re-exported: callers size prompts with it

NO_ANSWER = "Insufficient information."
"""How a refusal starts."""

SYSTEM_PROMPT = """You answer questions about news articles using only the numbered sources given.
Reply in one or two short sentences. After each sentence, cite the sources it comes from, like [1] or [1][2]."""
"""For a question answered with a phrase, a verdict or an option (fact, yes/no, choice)."""

PARAGRAPH_SYSTEM_PROMPT = """You answer questions about news articles using only the numbered sources given.
After each sentence, cite the sources it comes from, like [1] or [1][2]. When a source attributes something to someone ("according to reports", "officials said"), keep that attribution."""
"""For a question answered with a short paragraph or a list (explanation, summary, comparison,
timeline, list): no demand for one or two sentences."""

YES_NO_INSTRUCTION = "Answer Yes or No first, then give the reason in one short sentence, with [n] citations:"
ANSWER_INSTRUCTION = "Answer with the name, number or phrase asked for first, then one short sentence, with [n] citations:"
CHOICE_INSTRUCTION = ('Answer "{0}" or "{1}" first (or "Both" or "Neither" if that is what the sources say; '
                      'never Yes or No), then give the reason in one short sentence, with [n] citations:')
KIND_INSTRUCTIONS = {
    "list": ('List every item the sources give, not only the first: one line per item, as "- item [n]", '
             'with the [n] of the source that names it:'),
    "explanation": ("Explain in two to four short sentences, giving the causes or steps the sources name, "
                    "each sentence followed by the [n] of the source it comes from:"),
    "summary": ("Summarise what the sources say in three to five short sentences: the main development first, "
                "then the key facts (who, what, when, how much), each followed by the [n] of the source it "
                "comes from:"),
    "comparison": ("Compare them in two to four short sentences, saying what each source says, each followed "
                   "by its [n]:"),
    "timeline": "Give the main events in date order, in two to four short sentences, each followed by its [n]:",
}
CHECK_INSTRUCTION = "Do the sources above contain the information needed to answer this question? Reply Yes or No."

REWRITE_PROMPT = """Rewrite the user's last question as one standalone question that can be understood without the conversation: replace pronouns and vague references with the names and things they refer to. Do not answer it. Reply with the rewritten question only."""

# Per-message overhead of chat templates (role markers, separators).
MESSAGE_OVERHEAD = 8


def source_label(source: Any) -> str:
    """``title — publisher, date`` of a source (or passage)."""
    meta = ", ".join(x for x in (source.source, human_date(source.published_at)) if x)
    return source.title + (f" — {meta}" if meta else "")


def format_numbered(n: int, source: Any) -> str:
    """A source as the model sees it: its label line, then its text."""
    return format_source(n, source_label(source), source.text)


def _user_prompt(question: str, sources: Sequence[Any], instruction: str) -> str:
    blocks = [format_numbered(n, s) for n, s in enumerate(sources, start=1)]
    body = format_sources(blocks) if blocks else "(no sources)"
    return f"Sources:\n\n{body}\n\n{QUESTION_PREFIX}{question}\n{instruction}"


def instruction_for(question: Question) -> str:
    """The last line of the answer prompt: the answer's shape for the question's kind
    (docs/answers.md, "Answer shapes")."""
    if question.kind == "choice" and question.options:
        return CHOICE_INSTRUCTION.format(*question.options[:2])
    if question.kind == "yes_no":
        return YES_NO_INSTRUCTION
    return KIND_INSTRUCTIONS.get(question.kind, ANSWER_INSTRUCTION)


def system_prompt_for(question: Question) -> str:
    """The system prompt for the question's kind: short answers, or paragraphs and lists."""
    return PARAGRAPH_SYSTEM_PROMPT if question.wants_paragraph or question.kind == "list" else SYSTEM_PROMPT


def answer_messages(question: Question, sources: Sequence[Any]) -> list[dict]:
    """The chat messages asking for a cited answer to ``question`` from ``sources`` (numbered 1..n),
    shaped by the question's kind; the same for every backend."""
    return [{"role": "system", "content": system_prompt_for(question)},
            {"role": "user", "content": _user_prompt(question.text, sources, instruction_for(question))}]


def check_messages(question: Question, sources: Sequence[Any]) -> list[dict]:
    """The answer prompt, with the same system message, asking only whether ``sources`` can
    answer ``question`` (Yes/No)."""
    return [{"role": "system", "content": system_prompt_for(question)},
            {"role": "user", "content": _user_prompt(question.text, sources, CHECK_INSTRUCTION)}]


def fixed_tokens(question: Question, count: Any = estimate_tokens) -> int:
    """Tokens of the answer prompt without its sources (system prompt, question, template)."""
    return (count(system_prompt_for(question)) + count(_user_prompt(question.text, [], instruction_for(question)))
            + 2 * MESSAGE_OVERHEAD)


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
