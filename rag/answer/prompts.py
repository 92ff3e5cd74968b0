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

import re
from collections.abc import Sequence
from typing import Any

from rag.llm.base import estimate_tokens
from rag.llm.sources import QUESTION_PREFIX, format_source, format_sources
from rag.types import human_date

__all__ = ["estimate_tokens"]  # re-exported: callers size prompts with it

NO_ANSWER = "Insufficient information."
"""How a refusal starts."""

SYSTEM_PROMPT = """You answer questions about news articles using only the numbered sources given.
Reply in one or two short sentences. After each sentence, cite the sources it comes from, like [1] or [1][2]."""

YES_NO_INSTRUCTION = "Answer Yes or No first, then give the reason in one short sentence, with [n] citations:"
ANSWER_INSTRUCTION = "Answer with the name, number or phrase asked for first, then one short sentence, with [n] citations:"
CHOICE_INSTRUCTION = 'Answer "{0}" or "{1}" first, then give the reason in one short sentence, with [n] citations:'
CHECK_INSTRUCTION = "Do the sources above contain the information needed to answer this question? Reply Yes or No."
_CLAUSE_START = re.compile(
    r"(?:^|[,;:]\s*)(?:and\s+|but\s+|so\s+)?(?P<word>is|are|was|were|do|does|did|has|have|had|can|could|will|would|"
    r"should|shall|may|might|must|isn't|aren't|wasn't|weren't|doesn't|didn't|hasn't|haven't|"
    r"who|whom|whose|what|which|where|when|why|how)\b", re.I)
_WH = frozenset("who whom whose what which where when why how".split())
# A question that names its two possible answers ("consistent or inconsistent", "before or
# after") is answered with one of them, not with yes or no.
_OPTION_PAIR = re.compile(r"\b([A-Za-z][\w-]*) or ([A-Za-z][\w-]*)\b")
_OPPOSITES = frozenset(frozenset(pair) for pair in (
    ("before", "after"), ("earlier", "later"), ("more", "less"), ("higher", "lower"), ("larger", "smaller"),
    ("bigger", "smaller"), ("increase", "decrease"), ("rise", "fall"), ("same", "different"),
    ("similar", "different"), ("better", "worse"), ("positive", "negative"), ("true", "false"),
    ("stronger", "weaker"), ("faster", "slower"), ("change", "consistency"), ("change", "continuity")))
_NEGATING_PREFIXES = ("in", "un", "dis", "non", "non-", "im", "il", "ir")

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


def is_yes_no(question: str) -> bool:
    """True for a question that asks for yes or no: its first clause that opens with a
    verb or a question word opens with a verb ("Did ...", "Between A and B, was there ..."),
    and it does not name its two answers (:func:`answer_options`)."""
    return _asks_with_a_verb(question) and answer_options(question) is None


def asks_for_a_phrase(question: str) -> bool:
    """True for a question answered with the name, number or phrase it asks for
    (``ANSWER_INSTRUCTION``): one that is neither yes/no nor names its two answers."""
    return not _asks_with_a_verb(question)


def _asks_with_a_verb(question: str) -> bool:
    match = _CLAUSE_START.search(question.strip())
    return bool(match) and match.group("word").lower() not in _WH


def answer_options(question: str) -> tuple[str, str] | None:
    """The two answers a question that opens with a verb offers ("Were they consistent or
    inconsistent?", "Did it come before or after ...?"), or None: a pair of opposites joined
    by "or", as written. A question-word question ("Who ... before or after ...?") asks for
    something else."""
    if not _asks_with_a_verb(question):
        return None
    for match in _OPTION_PAIR.finditer(question):
        a, b = match.group(1).lower(), match.group(2).lower()
        if frozenset((a, b)) in _OPPOSITES or any(b == p + a or a == p + b for p in _NEGATING_PREFIXES):
            return match.group(1), match.group(2)
    return None


def answer_messages(question: str, sources: Sequence[Any]) -> list[dict]:
    """The chat messages asking for a cited answer to ``question`` from ``sources`` (numbered 1..n)."""
    options = answer_options(question)
    if options:
        instruction = CHOICE_INSTRUCTION.format(*options)
    elif _asks_with_a_verb(question):  # is_yes_no, the options being known to be none
        instruction = YES_NO_INSTRUCTION
    else:
        instruction = ANSWER_INSTRUCTION
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(question, sources, instruction)}]


def check_messages(question: str, sources: Sequence[Any]) -> list[dict]:
    """The same prompt asking only whether ``sources`` can answer ``question`` (Yes/No)."""
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": _user_prompt(question, sources, CHECK_INSTRUCTION)}]


def fixed_tokens(question: str, count: Any = estimate_tokens) -> int:
    """Tokens of the answer prompt without its sources (system prompt, question, template)."""
    return (count(SYSTEM_PROMPT) + count(_user_prompt(question, [], YES_NO_INSTRUCTION))
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
