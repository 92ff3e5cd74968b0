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
2. the standalone question is parsed once into a :class:`~rag.answer.question.Question`
   (kind, options, outlets, attributions, names, dates), which every later step reads;
3. the evidence is retrieved, one search for the question and one per named
   publisher and day, and the index is checked for what the question names
   (rag.answer.evidence): a question attributing reporting to an outlet the
   index lacks, naming a whole name no indexed article has, or with no
   relevant passage, is refused without calling the model
   (``Answer.refusal_reason`` says which check);
4. the sources are built: one numbered excerpt per article with the
   question's evidence sentences (rag.answer.context);
5. with a language model and ``answer.check_evidence`` on, the model is asked
   first, in a separate short call over the same prompt, whether the sources
   answer the question at all; a "No" is a refusal (``refusal_reason``
   ``"check"``);
6. the model answers in the shape of the question's kind (rag.answer.prompts;
   on a yes/no question an in-process model opens with the verdict of its
   first-token odds at a measured threshold, rag.answer.verdict);
7. uncited sentences are cited in code, marker groups whose sources do not
   support their claim are trimmed or re-pointed (rag.answer.repair), and every
   citation is checked once (a claim naming a speaker its source does not
   give is not supported: rag.answer.attribution);
8. a reply of bare markers, or one that no source supports, is replaced by
   the sources' best sentences after the verdict, option or name the model
   gave, or, without one, only when those sentences could answer; otherwise,
   and when the answer rests on no source of the outlet or speaker the
   question attributes it to, the answer is a refusal that says why
   (rag.answer.fallback, ``refusal_reason`` ``"unsupported"``).

A model that itself says the sources do not answer ("Insufficient
information", "do not contain ...") is marked refused too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from rag.answer.citations import Citation, CitedText, process_citations, strip_markers
from rag.answer.context import Source, build_sources
from rag.answer.evidence import MIN_COSINE, Evidence, gather, min_cosine, refusal_reason
from rag.answer.fallback import (
    FALLBACK_INTRO,
    NOT_ANSWERED,
    NOT_ATTRIBUTED,
    VERDICT_FALLBACK,
    fallback,
    unattributed,
    unnamed,
    what_quotes_miss,
)
from rag.answer.followups import clean_rewrite, keyword_rewrite, looks_like_followup
from rag.answer.ports import AnsweringModel, SearchableIndex
from rag.answer.prompts import NO_ANSWER, answer_messages, check_messages, fixed_tokens, rewrite_messages
from rag.answer.question import Question, parse_question
from rag.answer.repair import Repairs, repair_citations
from rag.answer.replies import YES_NO, is_refusal, leading_answer, leading_verdict, without_repeats, without_yes_no
from rag.answer.verdict import yes_no_threshold
from rag.config import Settings
from rag.disagree.answer_note import note_disagreements, settle_disagreements
from rag.index.words import content_terms
from rag.search.retrieval import SearchFilters
from rag.timeline.chat import story_reply
from rag.timeline.updates import mark_updated

__all__ = ["FALLBACK_INTRO", "MIN_COSINE", "NOT_ANSWERED", "VERDICT_FALLBACK", "Answer", "Answerer", "Plan",
           "is_refusal", "keyword_rewrite", "leading_answer", "leading_verdict", "looks_like_followup"]

NOT_COVERED = f"{NO_ANSWER} The indexed articles do not appear to cover this question."


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
    # "unknown_outlet", "unknown_name", "no_evidence" (model not called), "check", "model", or
    # "unsupported" (the answer and the quotes that could replace it do not answer the question)
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
    parsed: Question | None = None  # the standalone question, parsed once (rag.answer.question)

    @property
    def retrieved(self) -> list:
        return self.evidence.passages


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
    (rag.llm.registry) are created from ``settings`` on first use when not given; what
    each must offer is declared in rag.answer.ports. Stateless per request: the caller
    keeps the history.
    """

    def __init__(self, settings: Settings, opened_index: SearchableIndex | None = None,
                 chat_model: AnsweringModel | None = None):
        self.settings = settings
        self._opened = opened_index
        self._owns_index = opened_index is None
        self._chat = chat_model

    @property
    def opened(self) -> SearchableIndex:
        if self._opened is None:
            from rag.search.open_index import open_index

            self._opened = open_index(self.settings)
        return self._opened

    @property
    def chat_model(self) -> AnsweringModel:
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
        parsed = parse_question(standalone, self.opened.retriever.known_sources)
        evidence = gather(self.opened, a, parsed, filters, check_names=a.check_names)
        threshold = a.min_relevance or min_cosine(self.opened.embedder.model_id)
        reason = refusal_reason(evidence, threshold if threshold and threshold > 0 else None)
        if reason:
            return Plan(question, standalone, evidence, reason, [], parsed)
        count = count or self.chat_model.count_tokens
        llm = self.settings.llm
        whole = a.context == "passages"
        budget = (llm.context_tokens - llm.max_answer_tokens - fixed_tokens(parsed, count)
                  if whole else a.context_tokens)
        sources = build_sources(standalone, evidence.passages, budget_tokens=budget, count=count,
                                max_sources=a.max_sources, whole_passages=whole,
                                embed=self.opened.embedder.embed, query_vector=evidence.vector,
                                dense_weight=a.sentence_dense_weight, min_relative=a.sentence_min_relative)
        if evidence.dates and evidence.dates.latest:  # "the latest report": newest first
            sources.sort(key=lambda s: s.published_at or "", reverse=True)
        return Plan(question, standalone, evidence, None if sources else "no_evidence", sources, parsed)

    def sources_answer(self, plan: Plan) -> bool:
        """Step 4: the model's Yes/No on whether the sources answer (True when not asked)."""
        model = self.chat_model
        if not self.settings.answer.check_evidence or not model.can_rewrite:
            return True
        reply = model.complete(check_messages(plan.parsed or parse_question(plan.standalone), plan.sources),
                               max_tokens=3)
        match = YES_NO.match(reply)
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
            yield Answer(text=story.text, citations=mark_updated(story.citations, self.opened.snapshot),
                         passages=story.sources, refused=False,
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
        parsed = plan.parsed or parse_question(plan.standalone)
        messages = answer_messages(parsed, plan.sources)
        prompt_tokens = sum(model.count_tokens(m["content"]) for m in messages)
        pieces: list[str] = []
        timings["first_token_ms"] = None
        # Closed when this generator is (a reader that stops mid-answer), so a
        # local model's lock is released then, not at garbage collection.
        verdict = self._verdict_options(parsed, model)
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
        cited, repairs, fell_back, reason = self._finish(raw, plan, parsed, quotes_only=not model.can_rewrite)
        if reason is None and not fell_back and is_refusal(cited.text):
            reason = "model"
        disagreements: list[dict] = []
        if reason is None:  # sources that differ on what the answer relies on: said, with both citations
            noted, flags = note_disagreements(cited.text, plan.sources, self.opened.embedder.embed)
            if flags:
                cited = process_citations(noted, plan.sources, question=plan.standalone)
                disagreements = settle_disagreements(cited, flags, plan.sources)
        timings["total_ms"] = ms()
        yield Answer(text=cited.text, citations=mark_updated(cited.citations, self.opened.snapshot),
                     passages=plan.sources, refused=reason is not None,
                     dropped_citations=cited.dropped, unsupported_citations=cited.unsupported,
                     timings=timings, raw_text=raw, refusal_reason=reason,
                     repairs={**repairs.to_dict(), "fallback": int(fell_back)}, prompt_tokens=prompt_tokens,
                     disagreements=disagreements, **base)

    def _verdict_options(self, parsed: Question, model: AnsweringModel) -> dict[str, float]:
        """``yes_no_threshold`` for the model's stream on a yes/no question, when it has one
        (rag.answer.verdict)."""
        if not model.calibrates_yes_no or not parsed.is_yes_no:
            return {}
        threshold = yes_no_threshold(self.settings.answer.yes_no_threshold, str(model.model))
        return {} if threshold is None else {"yes_no_threshold": threshold}

    def _finish(self, raw: str, plan: Plan, parsed: Question,
                quotes_only: bool = False) -> tuple[CitedText, Repairs, bool, str | None]:
        """Repair and check the raw answer's citations once; fall back to quoted sentences when
        it says nothing (bare markers) or nothing in it is supported, or refuse when the quotes
        do not answer either (rag.answer.fallback). Returns (checked text, repairs, fell back,
        refusal reason or None)."""
        text, repairs = repair_citations(without_repeats(without_yes_no(raw, parsed)), plan.sources,
                                         plan.standalone)
        cited = process_citations(text, plan.sources, question=plan.standalone)
        words = strip_markers(text).strip()
        if words and is_refusal(words):
            return cited, repairs, False, None
        resting = {c.passage_id for c in cited.citations if any(claim.supported for claim in c.claims)}
        if words and resting and not unnamed(parsed, [s for s in plan.sources if s.id in resting]):
            return self._checked_answer(cited, repairs, plan, parsed, quotes_only)
        missing = unattributed(parsed, plan.sources)  # no source at all says what it reported
        if missing:
            return process_citations(NOT_ATTRIBUTED.format(name=missing), []), repairs, False, "unsupported"
        kept = leading_verdict(words, parsed) or leading_answer(words, parsed, plan.sources)
        quoted, refused = fallback(parsed, plan.sources, kept)
        if quoted is None:  # nothing in the sources matches the question either
            if words:
                return cited, repairs, False, None
            return process_citations(NOT_COVERED, plan.sources), repairs, False, "no_evidence"
        return process_citations(quoted, plan.sources, question=plan.standalone), repairs, not refused, \
            "unsupported" if refused else None

    def _checked_answer(self, cited: CitedText, repairs: Repairs, plan: Plan, parsed: Question,
                        quotes_only: bool) -> tuple[CitedText, Repairs, bool, str | None]:
        """A supported answer, unless it does not answer what was asked: the outlet or speaker
        the question attributes reporting to is in none of its cited sources, or (a backend that
        only quotes) its quotes miss a name or number the question names (rag.answer.fallback)."""
        ids = {c.passage_id for c in cited.citations}
        missing = unattributed(parsed, [s for s in plan.sources if s.id in ids])
        if missing:
            return process_citations(NOT_ATTRIBUTED.format(name=missing), []), repairs, False, "unsupported"
        cited_text = [f"{s.title}\n{s.text}" for s in plan.sources if s.id in ids]
        why = what_quotes_miss(parsed, [strip_markers(cited.text)], cited_text) if quotes_only else None
        if why:
            return process_citations(NOT_ANSWERED.format(why=why), []), repairs, False, "unsupported"
        return cited, repairs, False, None
