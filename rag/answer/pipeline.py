"""The answer pipeline: rewrite a follow-up, gather evidence, refuse or prompt, stream, repair, cite.

``Answerer(settings).stream(question, history)`` yields the answer text as the
model writes it and then, last, the final :class:`Answer`. Citation markers
are repaired and renumbered once the answer is complete
(:mod:`rag.answer.repair`, :mod:`rag.answer.citations`), so the streamed text
is the raw model output and ``Answer.text`` is the final one: a UI shows the
deltas while they come and then replaces them with ``Answer.text`` and its
citations.

The steps, each in its own module:

1. follow-ups are rewritten into standalone questions (rag.answer.followups);
2. the evidence is retrieved, one search for the question and one per named
   publisher and day, and the index is checked for what the question names
   (rag.answer.evidence): a question about a publisher or a name that no
   indexed article has, or with no relevant passage, is refused without
   calling the model (``Answer.refusal_reason`` says which check);
3. the sources are built: one numbered excerpt per article with the
   question's evidence sentences (rag.answer.context);
4. with a language model and ``answer.check_evidence`` on, the model is asked
   first, in a separate short call over the same prompt, whether the sources
   answer the question at all; a "No" is a refusal (``refusal_reason``
   ``"check"``);
5. the model answers from the sources (on a yes/no question an in-process
   model opens with the verdict of its first-token odds at a measured
   threshold, rag.answer.verdict); a reply of bare markers, or one that
   no source supports, is replaced by the sentences of the sources that best
   match the question (no error is shown when they can answer), after the
   verdict or the name the model gave, when there is one;
6. uncited sentences are cited in code, marker groups whose sources do not
   support their claim are trimmed or re-pointed (rag.answer.repair), and every
   citation is checked.

A model that itself says the sources do not answer ("Insufficient
information", "do not contain ...") is marked refused too.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from rag.answer.citations import Citation, process_citations, strip_markers
from rag.answer.context import Source, build_sources
from rag.answer.evidence import MIN_COSINE, Evidence, gather, min_cosine, refusal_reason
from rag.answer.followups import clean_rewrite, keyword_rewrite, looks_like_followup
from rag.answer.prompts import (
    NO_ANSWER,
    answer_messages,
    answer_options,
    asks_for_a_phrase,
    check_messages,
    fixed_tokens,
    is_yes_no,
    rewrite_messages,
)
from rag.answer.repair import Repairs, repair_citations
from rag.answer.verdict import yes_no_threshold
from rag.config import Settings
from rag.disagree.answer_note import note_disagreements, settle_disagreements
from rag.index.words import STOPWORDS, content_terms
from rag.ingest.sentences import split_sentences
from rag.search.retrieval import SearchFilters
from rag.timeline.chat import story_reply

__all__ = ["MIN_COSINE", "Answer", "Answerer", "Plan", "is_refusal", "keyword_rewrite", "looks_like_followup"]

NOT_COVERED = f"{NO_ANSWER} The indexed articles do not appear to cover this question."
FALLBACK_INTRO = ("The model's answer could not be used, so here are the sentences of the articles that best "
                  "match your question:")
# A yes/no question's verdict (or the option a two-answer question asked for, or the name a
# "who/which" question asked for) is what was asked: when only the model's reasons fail the
# support check, the verdict is kept, said to be the model's, and the quotes follow.
VERDICT_FALLBACK = ("{verdict}, by the model's reading of the sources; its reasons could not be matched to "
                    "them, so here are the sentences of the articles that best match your question:")
_REFUSAL = re.compile(
    r"insufficient information|not enough information|no (?:relevant )?information"
    r"|(?:do|does|did) not (?:appear to |seem to )?(?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:don't|doesn't) (?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:cannot|can't|can not|unable to) (?:be )?(?:answer|determine|find|tell)",
    re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_FIRST_WORD = re.compile(r"^\W*([A-Za-z][\w-]*)")
# The phrase a reply to "the name, number or phrase asked for first" opens with: up to the
# first marker, comma, full stop or verb ("Sam Bankman-Fried is the individual ...").
_LEADING_PHRASE = re.compile(
    r"^\W*?(?P<phrase>[\w$][^\[\],.;:!?]*?)\s*(?=\[|[,.;:!?](?:\s|$)|\s(?:is|was|are|were|has|had|have|will|"
    r"would|can|could|did|does|do)\b|$)")
MAX_LEADING_WORDS = 6


@dataclass
class Answer:
    """A finished answer with its verified citations and what the model was given."""

    question: str
    text: str  # final text: markers renumbered 1..len(citations), invalid ones removed
    citations: list[Citation]
    passages: list[Source]  # the numbered sources as the model saw them (one per article)
    refused: bool
    dropped_citations: int
    unsupported_citations: int
    backend: str
    model: str
    timings: dict[str, float | None]
    standalone_question: str
    raw_text: str = ""  # the text as streamed
    # "unknown_outlet", "unknown_name", "no_evidence" (model not called), "check" or "model"
    refusal_reason: str | None = None
    relevance: dict[str, float] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=dict)  # Repairs counts, plus "fallback"
    prompt_tokens: int | None = None
    disagreements: list[dict] = field(default_factory=list)  # rag.disagree: where the sources differ

    def to_dict(self) -> dict:
        """The ``rag ask --json`` object (also what the UI stores)."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [
                {"n": n, "passage_id": s.id, "passage_ids": s.passage_ids, "article_id": s.article_id,
                 "title": s.title, "source": s.source, "published_at": s.published_at, "url": s.url,
                 "file": s.file, "score": round(float(s.score), 6), "text": s.text}
                for n, s in enumerate(self.passages, start=1)
            ],
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "dropped_citations": self.dropped_citations,
            "unsupported_citations": self.unsupported_citations,
            "repairs": self.repairs,
            "backend": self.backend,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "timings": self.timings,
            "relevance": self.relevance,
            "disagreements": self.disagreements,
        }


@dataclass
class Plan:
    """Everything decided before the model answers."""

    question: str
    standalone: str
    evidence: Evidence
    refusal: str | None  # a refusal_reason when the index cannot answer
    sources: list[Source]

    @property
    def retrieved(self) -> list:
        return self.evidence.passages


def is_refusal(text: str) -> bool:
    """True if the first sentence of ``text`` says the passages do not answer."""
    plain = strip_markers(text).strip()
    if not plain:
        return False
    sentences = split_sentences(plain)
    return bool(_REFUSAL.search(sentences[0] if sentences else plain))


def leading_verdict(text: str, question: str) -> str | None:
    """The verdict ``text`` opens with, capitalised: "Yes" or "No" on a yes/no question, one
    of the two answers a question names ("Consistent" for "... consistent or inconsistent?")."""
    options = answer_options(question)
    if options:
        match = _FIRST_WORD.match(text)
        word = match.group(1) if match else ""
        return word.capitalize() if word.lower() in {o.lower() for o in options} else None
    match = _YES_NO.match(text) if not asks_for_a_phrase(question) else None  # is_yes_no, no options
    return match.group(1).capitalize() if match else None


def leading_answer(text: str, question: str, sources: Sequence[Source]) -> str | None:
    """The name, number or phrase ``text`` opens with, on a question that asks for one (not
    yes/no), when it is short and one of ``sources`` says it word for word: what was asked,
    kept in front of the quoted sentences like a verdict. A phrase no source's text contains
    (a name from an article's title only, a guess), or one that opens with a function word
    ("The plan"), is not kept."""
    if not asks_for_a_phrase(question):
        return None
    match = _LEADING_PHRASE.match(text)
    phrase = match.group("phrase").strip().rstrip("\"'”’") if match else ""
    words = phrase.split()
    if not words or len(words) > MAX_LEADING_WORDS or words[0].lower() in STOPWORDS:
        return None  # "The plan was ...", "It is ...": a sentence, not the thing asked for
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.I)
    return phrase if any(pattern.search(s.text) for s in sources) else None


def refusal_text(evidence: Evidence, reason: str) -> str:
    """What a refusal without a model call says: which check failed, in words."""
    if reason == "unknown_outlet":
        names = " or ".join(evidence.unknown_outlets[:3])
        return (f"{NO_ANSWER} No indexed article is from {names}, so the articles cannot say what "
                f"{'it' if len(evidence.unknown_outlets) == 1 else 'they'} reported.")
    if reason == "unknown_name":
        return f"{NO_ANSWER} No indexed article mentions {', '.join(evidence.missing_names[:3])}."
    return NOT_COVERED


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
        """``question`` rewritten to stand alone when it is a follow-up (rag.answer.followups)."""
        if not history or not self.settings.answer.rewrite_followups or not looks_like_followup(question):
            return question
        model = self.chat_model
        if not model.can_rewrite:
            return keyword_rewrite(question, history)
        a = self.settings.answer
        messages = rewrite_messages(question, history, max_chars=a.rewrite_turn_chars,
                                    max_turns=a.rewrite_history_turns)
        reply = clean_rewrite(model.complete(messages, max_tokens=a.rewrite_max_tokens))
        if not content_terms(reply) or len(reply) > 4 * len(question) + 300:
            return keyword_rewrite(question, history)
        return reply

    def plan(self, question: str, history: Sequence[dict] = (), filters: SearchFilters | None = None,
             count: Any = None) -> Plan:
        """Rewrite, retrieve, check and build the sources (steps 1-3 of the module doc)."""
        a = self.settings.answer
        standalone = self.standalone_question(question, list(history))
        evidence = gather(self.opened, a, standalone, filters, check_names=a.check_names)
        threshold = a.min_relevance or min_cosine(self.opened.embedder.model_id)
        reason = refusal_reason(evidence, threshold if threshold and threshold > 0 else None)
        if reason:
            return Plan(question, standalone, evidence, reason, [])
        count = count or self.chat_model.count_tokens
        llm = self.settings.llm
        whole = a.context == "passages"
        budget = (llm.context_tokens - llm.max_answer_tokens - fixed_tokens(standalone, count)
                  if whole else a.context_tokens)
        sources = build_sources(standalone, evidence.passages, budget_tokens=budget, count=count,
                                max_sources=a.max_sources, whole_passages=whole,
                                embed=self.opened.embedder.embed, query_vector=evidence.vector,
                                dense_weight=a.sentence_dense_weight, min_relative=a.sentence_min_relative)
        if evidence.dates and evidence.dates.latest:  # "the latest report": newest first
            sources.sort(key=lambda s: s.published_at or "", reverse=True)
        return Plan(question, standalone, evidence, None if sources else "no_evidence", sources)

    def sources_answer(self, plan: Plan) -> bool:
        """Step 4: the model's Yes/No on whether the sources answer (True when not asked)."""
        model = self.chat_model
        if not self.settings.answer.check_evidence or not model.can_rewrite:
            return True
        reply = model.complete(check_messages(plan.standalone, plan.sources), max_tokens=3)
        match = _YES_NO.match(reply)
        return not (match and match.group(1).lower() == "no")

    # -- the pipeline --------------------------------------------------------------

    def answer(self, question: str, history: Sequence[dict] = (), filters: SearchFilters | None = None) -> Answer:
        """The complete answer (the last item of :meth:`stream`)."""
        final = None
        for item in self.stream(question, history, filters):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[dict] = (), filters: SearchFilters | None = None,
               on_stage: Callable[..., None] | None = None) -> Iterator[str | Answer]:
        """Yield text deltas as they are generated, then the final :class:`Answer` (``on_stage``: rag.stages)."""
        say = on_stage or (lambda stage, **info: None)
        if self._chat is None or self._opened is None:
            say("loading")  # first use only: the index and embedder, the chat model and its weights
            self.chat_model.count_tokens(question)
        model, _ = self.chat_model, self.opened
        t0 = time.perf_counter()
        ms = lambda: round((time.perf_counter() - t0) * 1000, 1)  # noqa: E731
        say("searching")
        plan = self.plan(question, history, filters)
        timings: dict[str, float | None] = {"retrieval_ms": ms()}
        base = dict(question=question, backend=model.backend, model=str(model.model),
                    standalone_question=plan.standalone, relevance=plan.evidence.relevance)
        reason = plan.refusal
        if not reason and (story := story_reply(self.opened, plan.standalone, filters)) is not None:
            yield story.text  # a story question, answered from its timeline in code (rag.timeline.chat)
            yield Answer(text=story.text, citations=story.citations, passages=story.sources, refused=False,
                         dropped_citations=0, unsupported_citations=0, timings={**timings, "total_ms": ms()},
                         raw_text=story.text, **{**base, "backend": "timeline", "model": "article metadata"})
            return
        if not reason and not self.sources_answer(plan):
            reason = "check"
        timings["check_ms"] = round(ms() - timings["retrieval_ms"], 1)
        if reason:
            text = NOT_COVERED if reason == "check" else refusal_text(plan.evidence, reason)
            timings["first_token_ms"] = ms()
            yield text
            timings["total_ms"] = ms()
            yield Answer(text=text, citations=[], passages=plan.sources if reason == "check" else [],
                         refused=True, dropped_citations=0, unsupported_citations=0, timings=timings,
                         raw_text=text, refusal_reason=reason, **base)
            return

        llm = self.settings.llm
        messages = answer_messages(plan.standalone, plan.sources)
        prompt_tokens = sum(model.count_tokens(m["content"]) for m in messages)
        pieces: list[str] = []
        timings["first_token_ms"] = None
        # Closed when this generator is (a reader that stops mid-answer), so a
        # local model's lock is released then, not at garbage collection.
        verdict = self._verdict_options(plan, model)
        say("reading", sources=len(plan.sources))
        with closing(model.stream(messages, max_tokens=llm.max_answer_tokens, **verdict)) as deltas:
            for delta in deltas:
                if not delta:
                    continue
                if timings["first_token_ms"] is None:
                    timings["first_token_ms"] = ms()
                    say("writing")
                pieces.append(delta)
                yield delta
        raw = "".join(pieces)
        text, repairs, fallback = self._finish(raw, plan)
        text, flags = note_disagreements(text, plan.sources, self.opened.embedder.embed)
        cited = process_citations(text, plan.sources, question=plan.standalone)
        disagreements = settle_disagreements(cited, flags, plan.sources)
        refused = not fallback and is_refusal(cited.text)
        timings["total_ms"] = ms()
        yield Answer(text=cited.text, citations=cited.citations, passages=plan.sources, refused=refused,
                     dropped_citations=cited.dropped, unsupported_citations=cited.unsupported,
                     timings=timings, raw_text=raw, refusal_reason="model" if refused else None,
                     repairs={**repairs.to_dict(), "fallback": int(fallback)}, prompt_tokens=prompt_tokens,
                     disagreements=disagreements, **base)

    def _verdict_options(self, plan: Plan, model: Any) -> dict[str, float]:
        """``yes_no_threshold`` for the model's stream on a yes/no question, when it has one
        (rag.answer.verdict)."""
        if not getattr(model, "calibrates_yes_no", False) or not is_yes_no(plan.standalone):
            return {}
        threshold = yes_no_threshold(self.settings.answer.yes_no_threshold, str(model.model))
        return {} if threshold is None else {"yes_no_threshold": threshold}

    def _finish(self, raw: str, plan: Plan) -> tuple[str, Repairs, bool]:
        """Repair the raw answer's citations; fall back to quoted sentences when it says nothing
        (bare markers) or nothing in it is supported. Returns (text, repairs, fell back)."""
        text, repairs = repair_citations(raw, plan.sources, plan.standalone)
        words = strip_markers(text).strip()
        if words and is_refusal(words):
            return text, repairs, False
        supported = process_citations(text, plan.sources, question=plan.standalone)
        if words and any(claim.supported for c in supported.citations for claim in c.claims):
            return text, repairs, False
        kept = leading_verdict(words, plan.standalone) or leading_answer(words, plan.standalone, plan.sources)
        fallback = self._fallback(plan, kept)
        if fallback is None:  # nothing in the sources matches the question either
            return (text if words else NOT_COVERED), repairs, False
        return fallback, repairs, True

    def _fallback(self, plan: Plan, verdict: str | None = None) -> str | None:
        """The sources' sentences that best match the question, cited (the extractive answer),
        after the model's ``verdict`` (:func:`leading_verdict`, :func:`leading_answer`) when it gave one."""
        from rag.llm.extractive import ExtractiveChatModel, cite

        picked = ExtractiveChatModel().select(plan.standalone, [s.text for s in plan.sources])
        if not picked:
            return None
        intro = VERDICT_FALLBACK.format(verdict=verdict) if verdict else FALLBACK_INTRO
        return intro + "".join("\n\n" + cite(sentence, n) for sentence, n in picked)
