"""Follow-up questions: when to rewrite one, and the rewrite without a language model.

A first question (empty history) is never rewritten. With a history, a
question that looks like a follow-up (:func:`looks_like_followup`: starts
with "and"/"what about"..., refers back with a pronoun such as "it", "they",
"that", or has at most three content words) is rewritten into a standalone
question before retrieval. Self-contained questions are left alone: a rewrite
costs a model call and a small model can distort a question that needed no
help. A language model rewrites with :data:`rag.answer.prompts.REWRITE_PROMPT`
(its reply cleaned by :func:`clean_rewrite`); a backend that cannot
(``ChatModel.can_rewrite`` false) gets :func:`keyword_rewrite`: the key words
of the previous user question (or of its standalone form, kept under
``"standalone"``) that the new question lacks. That is deterministic and is
enough for lexical and dense retrieval to find the same story again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.answer.citations import strip_markers
from rag.index.words import content_terms, content_words

_FOLLOWUP_START = re.compile(
    r"^\s*(?:and|but|also|so|then|or|what about|how about|what else|same|why not|is that|was that|"
    r"did they|does it|do they)\b", re.IGNORECASE)
_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|such|former|latter|aforementioned|same)\b", re.IGNORECASE)


def looks_like_followup(question: str) -> bool:
    """True if ``question`` probably leans on the conversation before it."""
    q = question.strip()
    return bool(
        _FOLLOWUP_START.match(q) or _ANAPHORA.search(q) or q.endswith(("...", "…"))
        or len(content_terms(q)) <= 3
    )


def keyword_rewrite(question: str, history: Sequence[dict]) -> str:
    """``question`` plus the key words of the previous user turn that it lacks."""
    previous = next((t for t in reversed(history) if t.get("role") == "user"), None)
    if previous is None:
        return question
    source = str(previous.get("standalone") or previous.get("content", ""))
    have = content_terms(question)
    extra: list[str] = []
    for word in content_words(source):
        terms = content_terms(word)
        if not terms <= have:
            extra.append(word)
            have |= terms
    return f"{question.strip()} ({' '.join(extra)})" if extra else question


def clean_rewrite(text: str) -> str:
    """The model's rewrite reply as a bare question (first line, no label or quotes)."""
    lines = [ln.strip() for ln in strip_markers(text).splitlines() if ln.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(?:standalone|rewritten)?\s*question\s*:\s*", "", lines[0], flags=re.IGNORECASE)
    return line.strip().strip("\"'“”").strip()
