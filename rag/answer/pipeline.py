"""The answer pipeline: rewrite a follow-up, retrieve, refuse or prompt, stream, cite.

``Answerer(settings).stream(question, history)`` yields the answer text as the
model writes it and then, last, the final :class:`Answer`. Citation markers
are renumbered once the answer is complete (:mod:`rag.answer.citations`), so the
streamed text is the raw model output and ``Answer.text`` is the final one:
a UI shows the deltas while they come and then replaces them with
``Answer.text`` and its citations.

Follow-ups. A first question (empty history) is never rewritten. With a
history, a question that looks like a follow-up (:func:`looks_like_followup`:
starts with "and"/"what about"..., refers back with a pronoun such as "it",
"they", "that", or has at most three content words) is rewritten into a
standalone question before retrieval. Self-contained questions are left alone:
a rewrite costs a model call and a small model can distort a question that
needed no help. Chat models rewrite with :data:`rag.answer.prompts.REWRITE_PROMPT`;
the extractive backend has no language model, so it appends the key words of
the previous user question (or of its standalone form, when the history keeps
it under ``"standalone"``) that the new question lacks. That is deterministic
and is enough for lexical and dense retrieval to find the same story again.

Evidence-based refusal. Before calling the model, the best retrieved passage
must look relevant on an absolute scale (the retriever's fused score is
rank-based and always has a "best"): its dense cosine with the question,
recomputed from the stored vectors, must reach the embedder's threshold
(:data:`MIN_COSINE`, or ``settings.answer.min_relevance`` when that is set
above 0; a negative value turns the check off). Otherwise the answer is
:data:`NOT_COVERED`, ``refused=True``, and the model is not called. For an
embedder with no measured threshold (the hashing one, an OpenAI-compatible
one) only a question none of whose content words appears in any retrieved
passage is refused.

The all-MiniLM-L6-v2 threshold was measured on the 851 MultiHop-RAG dev
questions (``index/eval/corpus``): best-passage cosine percentiles
(1/5/25/50%) are 0.41/0.48/0.57/0.63 for the 751 real questions and
0.08/0.17/0.30/0.37 for the 100 null ones, which look topical (they name real
publishers and subjects), so no threshold separates them cleanly. At 0.35
the check refuses 45% of the null questions and 2 of 751 real ones (0.27%);
on 20 hand-written off-topic questions (recipes, trivia) it refuses 15, and on
20 short hand-written questions about the corpus's stories none (lowest
cosine 0.50). 0.40 would refuse 58% of null questions but 0.8% of real ones;
false refusals cost more, so 0.35. The share of question words found in a
passage was measured too and is no absolute signal: short off-topic
questions score 0.33-0.67 on it because one of their words ("best",
"population") occurs somewhere in the news.

A model that itself says the passages do not answer ("Insufficient
information", "do not contain ...") is also marked refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

import numpy as np

from rag.answer.citations import (
    Citation,
    content_terms,
    process_citations,
    strip_markers,
)
from rag.answer.prompts import answer_messages, rewrite_messages
from rag.config import Settings
from rag.errors import BackendError
from rag.ingest.sentences import split_sentences
from rag.search.retrieval import SearchFilters
from rag.types import Passage

# Dense cosine of the best passage below which a question is refused, per
# embedder id (measured: see the module docstring).
MIN_COSINE = {"sentence-transformers/all-MiniLM-L6-v2": 0.35}

NOT_COVERED = "Insufficient information. The indexed articles do not appear to cover this question."

_FOLLOWUP_START = re.compile(
    r"^\s*(?:and|but|also|so|then|or|what about|how about|what else|same|why not|is that|was that|"
    r"did they|does it|do they)\b", re.IGNORECASE)
_ANAPHORA = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|such|former|latter|aforementioned|same)\b", re.IGNORECASE)
_REFUSAL = re.compile(
    r"insufficient information|not enough information|no (?:relevant )?information"
    r"|(?:do|does|did) not (?:appear to |seem to )?(?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:don't|doesn't) (?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:cannot|can't|can not|unable to) (?:be )?(?:answer|determine|find|tell)",
    re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
# Question words that the lexical stop list keeps but that name no topic.
_ASKING = frozenset("""does did do done what which who whom whose when where why how is are was were
    tell say said says report reported according article articles news""".split())


@dataclass
class Answer:
    """A finished answer with its verified citations and what the model was given."""

    question: str
    text: str  # final text: markers renumbered 1..len(citations), invalid ones removed
    citations: list[Citation]
    passages: list[Passage]  # numbered 1..n as the model saw them
    refused: bool
    dropped_citations: int
    unsupported_citations: int
    backend: str
    model: str
    timings: dict[str, float | None]
    standalone_question: str
    raw_text: str = ""  # the text as streamed
    refusal_reason: str | None = None  # "no_evidence" (model not called) or "model"
    relevance: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The ``rag ask --json`` object."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [
                {"n": n, "passage_id": p.id, "article_id": p.article_id, "title": p.title,
                 "source": p.source, "published_at": p.published_at, "url": p.url,
                 "score": round(float(p.score), 6), "text": p.text}
                for n, p in enumerate(self.passages, start=1)
            ],
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "dropped_citations": self.dropped_citations,
            "unsupported_citations": self.unsupported_citations,
            "backend": self.backend,
            "model": self.model,
            "timings": self.timings,
            "relevance": self.relevance,
        }


def looks_like_followup(question: str) -> bool:
    """True if ``question`` probably leans on the conversation before it."""
    q = question.strip()
    return bool(
        _FOLLOWUP_START.match(q) or _ANAPHORA.search(q) or q.endswith(("...", "…"))
        or len(content_terms(q)) <= 3
    )


def is_refusal(text: str) -> bool:
    """True if the first sentence of ``text`` says the passages do not answer."""
    plain = strip_markers(text).strip()
    if not plain:
        return False
    sentences = split_sentences(plain)
    return bool(_REFUSAL.search(sentences[0] if sentences else plain))


def keyword_rewrite(question: str, history: Sequence[dict]) -> str:
    """``question`` plus the key words of the previous user turn that it lacks."""
    previous = next((t for t in reversed(history) if t.get("role") == "user"), None)
    if previous is None:
        return question
    source = str(previous.get("standalone") or previous.get("content", ""))
    have = content_terms(question)
    extra: list[str] = []
    for word in _WORD.findall(source):
        if word.lower() in _ASKING:
            continue
        terms = content_terms(word)
        if terms and not terms <= have:
            extra.append(word)
            have |= terms
    return f"{question.strip()} ({' '.join(extra)})" if extra else question


def _clean_rewrite(text: str) -> str:
    lines = [ln.strip() for ln in strip_markers(text).splitlines() if ln.strip()]
    if not lines:
        return ""
    line = re.sub(r"^(?:standalone|rewritten)?\s*question\s*:\s*", "", lines[0], flags=re.IGNORECASE)
    return line.strip().strip("\"'“”").strip()


class Answerer:
    """Answers questions over one index with one chat model.

    ``opened_index`` (from :func:`rag.search.open_index.open_index`) and ``chat_model``
    are created from ``settings`` on first use when not given. Stateless per
    request: the caller keeps the history.
    """

    def __init__(self, settings: Settings, opened_index: Any = None, chat_model: Any = None):
        self.settings = settings
        self._opened = opened_index
        self._owns_index = opened_index is None
        self._chat = chat_model

    @property
    def opened(self) -> Any:
        if self._opened is None:
            from rag.search.open_index import open_index

            self._opened = open_index(self.settings)
        return self._opened

    @property
    def chat_model(self) -> Any:
        if self._chat is None:
            from rag.llm.registry import make_chat_model

            self._chat = make_chat_model(self.settings.llm)
        return self._chat

    def close(self) -> None:
        """Close the index if this Answerer opened it."""
        if self._owns_index and self._opened is not None:
            self._opened.close()
            self._opened = None

    def __enter__(self) -> "Answerer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- steps ---------------------------------------------------------------------

    def standalone_question(self, question: str, history: Sequence[dict] = ()) -> str:
        """``question`` rewritten to stand alone when it is a follow-up (see module doc)."""
        if not history or not self.settings.answer.rewrite_followups or not looks_like_followup(question):
            return question
        model = self.chat_model
        if not model.can_rewrite:
            return keyword_rewrite(question, history)
        a = self.settings.answer
        messages = rewrite_messages(question, history, max_chars=a.rewrite_turn_chars,
                                    max_turns=a.rewrite_history_turns)
        reply = _clean_rewrite(model.complete(messages, max_tokens=a.rewrite_max_tokens))
        if not content_terms(reply) or len(reply) > 4 * len(question) + 300:
            return keyword_rewrite(question, history)
        return reply

    def retrieve(self, query: str, filters: SearchFilters | None = None) -> tuple[list[Passage], dict[str, float]]:
        """The passages for ``query`` and the relevance of the best one."""
        found = self.opened.retriever.retrieve(query, self.settings.answer.passages, filters)
        return found.passages, relevance(query, found.query_vector, found.passages, found.vectors)

    def should_refuse(self, rel: dict[str, float]) -> bool:
        """True when the evidence is too weak to ask the model (see module doc)."""
        threshold = self.settings.answer.min_relevance or MIN_COSINE.get(self.opened.embedder.model_id)
        if threshold:
            return rel.get("cosine", 0.0) < threshold
        return rel.get("coverage", 0.0) == 0.0

    # -- the pipeline --------------------------------------------------------------

    def answer(self, question: str, history: Sequence[dict] = (), filters: SearchFilters | None = None) -> Answer:
        """The complete answer (the last item of :meth:`stream`)."""
        final = None
        for item in self.stream(question, history, filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[dict] = (),
               filters: SearchFilters | None = None) -> Iterator[str | Answer]:
        """Yield text deltas as they are generated, then the final :class:`Answer`."""
        t0 = time.perf_counter()
        ms = lambda: round((time.perf_counter() - t0) * 1000, 1)  # noqa: E731
        standalone = self.standalone_question(question, list(history))
        rewrite_ms = ms()
        retrieved, rel = self.retrieve(standalone, filters)
        timings: dict[str, float | None] = {"rewrite_ms": rewrite_ms, "retrieval_ms": round(ms() - rewrite_ms, 1)}
        model = self.chat_model
        base = dict(question=question, backend=model.backend, model=str(model.model),
                    standalone_question=standalone, relevance=rel)

        if not retrieved or self.should_refuse(rel):
            timings["first_token_ms"] = ms()
            yield NOT_COVERED
            timings["total_ms"] = ms()
            yield Answer(text=NOT_COVERED, citations=[], passages=[], refused=True, dropped_citations=0,
                         unsupported_citations=0, timings=timings, raw_text=NOT_COVERED,
                         refusal_reason="no_evidence", **base)
            return

        llm = self.settings.llm
        messages, given = answer_messages(
            standalone, retrieved, context_tokens=llm.context_tokens,
            answer_tokens=llm.max_answer_tokens, count=model.count_tokens)
        pieces: list[str] = []
        timings["first_token_ms"] = None
        # Closed when this generator is (a reader that stops mid-answer), so a
        # local model's lock is released then, not at garbage collection.
        with closing(model.stream(messages, max_tokens=llm.max_answer_tokens)) as deltas:
            for delta in deltas:
                if not delta:
                    continue
                if timings["first_token_ms"] is None:
                    timings["first_token_ms"] = ms()
                pieces.append(delta)
                yield delta
        raw = "".join(pieces)
        cited = process_citations(raw, given, question=standalone)
        if not strip_markers(cited.text).strip():
            # A reply of bare markers ("[1]") says nothing: neither an answer nor a refusal.
            raise BackendError(
                f"The model {PurePath(str(model.model)).name!r} replied with no answer text, only "
                f"{raw.strip()[:40]!r}; small models do this most often when the passages do not "
                "answer the question. Rephrase the question, or try another model.")
        refused = is_refusal(cited.text)
        timings["total_ms"] = ms()
        yield Answer(text=cited.text, citations=cited.citations, passages=given, refused=refused,
                     dropped_citations=cited.dropped, unsupported_citations=cited.unsupported,
                     timings=timings, raw_text=raw, refusal_reason="model" if refused else None,
                     **base)


def relevance(query: str, query_vector: np.ndarray, passages: Sequence[Passage],
              vectors: np.ndarray) -> dict[str, float]:
    """Absolute relevance of the best passage: dense cosine, and the share of the
    query's content words found in a passage (both maxima over ``passages``)."""
    if not len(passages):
        return {"cosine": 0.0, "coverage": 0.0}
    cosine = float(np.max(vectors @ np.asarray(query_vector, dtype=np.float32)))
    terms = content_terms(query)
    coverage = max((len(terms & content_terms(p.full_text)) / len(terms) for p in passages), default=0.0) if terms else 0.0
    return {"cosine": round(cosine, 4), "coverage": round(coverage, 4)}
