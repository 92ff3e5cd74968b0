"""When the model's reply cannot be used: quote the sources, or refuse and say why.

A reply of bare markers, or one none of whose claims its sources support,
is not shown. In its place the answer quotes the sources' sentences that
scored best for the question when the sources were built (rag.answer.context:
the one sentence ranker), each cited, after the verdict, option or name the
model gave when there is one (rag.answer.replies). Without such a verdict,
the quotes are shown only when they answer the question as far as words can
tell (:func:`what_quotes_miss`): they name every name and number the
question names, and hold at least :data:`MIN_COVERAGE` of its content words.
Otherwise the answer is a refusal that says what the best sentences lack
("Who won the 2022 World Cup?" over articles on the 2023 cricket World Cup:
they never mention 2022). Sentences that do not answer are never presented
as an answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.answer.context import Source
from rag.answer.names import mentions
from rag.answer.prompts import NO_ANSWER
from rag.answer.question import Question
from rag.index.words import content_terms
from rag.llm.sources import with_marker

FALLBACK_INTRO = ("The model's answer could not be used, so here are the sentences of the articles that best "
                  "match your question:")
# A yes/no question's verdict (or the option a choice question asked for, or the name a
# "who/which" question asked for) is what was asked: when only the model's reasons fail the
# support check, the verdict is kept, said to be the model's, and the quotes follow.
VERDICT_FALLBACK = ("{verdict}, by the model's reading of the sources; its reasons could not be matched to "
                    "them, so here are the sentences of the articles that best match your question:")
NOT_ANSWERED = NO_ANSWER + " The sentences of the articles that best match your question {why}, so they do not answer it."
NOT_ATTRIBUTED = (NO_ANSWER + " None of the articles the answer rests on mentions {name}, so they cannot "
                  "say what {name} reported.")
MAX_QUOTES = 4
MIN_COVERAGE = 0.5
"""Share of the question's content words the quoted sentences must hold to be shown without a verdict."""


def best_sentences(sources: Sequence[Source], limit: int = MAX_QUOTES) -> list[tuple[str, int]]:
    """The (sentence, source number) pairs that scored best for the question, best first."""
    scored = [(score, n, sentence) for n, s in enumerate(sources, start=1)
              for sentence, score in zip(s.sentences, s.scores) if score > 0]
    out: list[tuple[str, int]] = []
    seen: set[str] = set()
    for _, n, sentence in sorted(scored, key=lambda x: (-x[0], x[1])):
        key = " ".join(sentence.lower().split())
        if key not in seen:
            seen.add(key)
            out.append((sentence, n))
        if len(out) == limit:
            break
    return out


def what_quotes_miss(question: Question, quotes: Sequence[str], context: Sequence[str] = ()) -> str | None:
    """Why ``quotes`` do not answer ``question`` ("do not mention 2022"), or None when they may.
    A name or number may be in the quotes or in ``context`` (the quoted sources' titles and
    excerpts: "T20" in a title, the sentence says "the series"); the question's words must be
    in the quotes. The options of an either/or question are not required (one is expected to
    be absent), nor the numbers of its dates."""
    text = "\n".join(quotes)
    around = "\n".join([text, *context])
    dated = {part.lstrip("0") for d in question.days + question.months for part in d.split("-")}
    offered = " ".join(question.options or ())
    missing = [n for n in question.names if not mentions(n, around)]
    missing += [n for n in question.numbers
                if n.lstrip("0") not in dated and not mentions(n, offered) and not mentions(n, around)]
    if missing:
        return "do not mention " + " or ".join(dict.fromkeys(missing))
    terms = content_terms(question.text)
    if terms and len(terms & content_terms(text)) / len(terms) < MIN_COVERAGE:
        return "share too few of its words"
    return None


def fallback(question: Question, sources: Sequence[Source], kept: str | None = None) -> tuple[str | None, bool]:
    """(text, refused): the quotes, after ``kept`` (the model's verdict or name) when given; a
    refusal saying why when, without one, the quotes do not answer; (None, False) when no
    sentence of the sources matched the question at all."""
    picked = best_sentences(sources)
    if not picked:
        return None, False
    if kept is None:
        quoted = {n for _, n in picked}
        why = what_quotes_miss(question, [s for s, _ in picked],
                               [f"{sources[n - 1].title}\n{sources[n - 1].text}" for n in sorted(quoted)])
        if why:
            return NOT_ANSWERED.format(why=why), True
    intro = VERDICT_FALLBACK.format(verdict=kept) if kept else FALLBACK_INTRO
    return intro + "".join("\n\n" + with_marker(sentence, f"[{n}]") for sentence, n in picked), False


def named(name: str, text: str) -> bool:
    """True if ``text`` mentions ``name``: every word of it, or, for a person-like name of
    capitalised words ("Sam Bankman-Fried"), its last word alone, as a second mention
    does ("Bankman-Fried said ..."). A name with a digit ("10 Minute School") needs all
    its words."""
    if mentions(name, text):
        return True
    pieces = name.split()
    last = pieces[-1] if len(pieces) > 1 else ""
    person_like = all(p[:1].isupper() and not any(c.isdigit() for c in p) for p in pieces)
    return person_like and len(last) >= 4 and mentions(last, text)


def unnamed(question: Question, cited: Sequence[Source]) -> str | None:
    """The names the question asks about (" or "-joined) when none of the ``cited``
    sources mentions any of them, or None.

    An answer whose supported claims all rest on articles about something else
    ("Tell me about 10 Minute School's funding round" answered from another
    startup's round, its numbers and names checked against that article) is not
    an answer to the question, however well its words are supported. One name
    is enough: a question that links several stories ("the company that ... Jane
    Street ... Alameda Research") may be answered from the article about one.
    Only names of two words or more count: a one-word name ("NBA", "Google") is
    often the field, not the subject, and an excerpt need not repeat it."""
    names = [n for n in question.names if len(n.split()) > 1]
    texts = [f"{s.title}\n{s.text}" for s in cited]
    if not names or any(named(n, t) for n in names for t in texts):
        return None
    return " or ".join(names)


def unattributed(question: Question, cited: Sequence[Source]) -> str | None:
    """The outlet or speaker the question attributes reporting to ("according to Bloomberg")
    that none of the ``cited`` sources is from or mentions, or None: an answer from sources
    that never name it does not say what it reported."""
    for attribution in question.attributions:
        if not any(mentions(attribution.name, f"{s.source or ''}\n{s.title}\n{s.text}") for s in cited):
            return attribution.name
    return None
