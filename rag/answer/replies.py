"""Reading the model's reply: a refusal, the verdict or option it opens with, the phrase it names.

Each reads the parsed :class:`rag.answer.question.Question`, not the question's text, so
the kind that shaped the prompt is the kind the reply is read as.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.answer.citations import strip_markers
from rag.answer.question import Question
from rag.index.words import STOPWORDS
from rag.ingest.sentences import sentence_spans, split_sentences

_REFUSAL = re.compile(
    r"insufficient information|not enough information|no (?:relevant )?information"
    r"|(?:do|does|did) not (?:appear to |seem to )?(?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:don't|doesn't) (?:answer|contain|provide|mention|say|include|cover|specify|address)"
    r"|(?:cannot|can't|can not|unable to) (?:be )?(?:answer|determine|find|tell)",
    re.IGNORECASE)
YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_BOTH = re.compile(r"^\W*(both|neither)\b", re.IGNORECASE)
# The phrase a reply to "the name, number or phrase asked for first" opens with: up to the
# first marker, comma, full stop or verb ("Sam Bankman-Fried is the individual ...").
_LEADING_PHRASE = re.compile(
    r"^\W*?(?P<phrase>[\w$][^\[\],.;:!?]*?)\s*(?=\[|[,.;:!?](?:\s|$)|\s(?:is|was|are|were|has|had|have|will|"
    r"would|can|could|did|does|do)\b|$)")
MAX_LEADING_WORDS = 6


def is_refusal(text: str) -> bool:
    """True if the first sentence of ``text`` says the passages do not answer."""
    plain = strip_markers(text).strip()
    if not plain:
        return False
    sentences = split_sentences(plain)
    return bool(_REFUSAL.search(sentences[0] if sentences else plain))


def leading_verdict(text: str, question: Question) -> str | None:
    """The verdict ``text`` opens with: "Yes" or "No" on a yes/no question; on a choice question
    the option it opens with, as the question writes it, or "Both" / "Neither"."""
    if question.kind == "choice" and question.options:
        opening = re.sub(r"^[\W_]+", "", text).lower()
        for option in sorted(question.options, key=len, reverse=True):
            bare = re.sub(r"^(?:the|a|an)\s+", "", option.lower())
            for form in (option.lower(), bare):
                if opening.startswith(form) and not opening[len(form):len(form) + 1].isalnum():
                    return option[:1].upper() + option[1:]
        match = _BOTH.match(text)
        return match.group(1).capitalize() if match else None
    if question.kind != "yes_no":
        return None
    match = YES_NO.match(text)
    return match.group(1).capitalize() if match else None


def leading_answer(text: str, question: Question, sources: Sequence[Any]) -> str | None:
    """The name, number or phrase ``text`` opens with, on a fact or list question, when it is
    short and one of ``sources`` says it word for word: what was asked, kept in front of the
    quoted sentences like a verdict. A phrase no source's text contains (a name from an
    article's title only, a guess), or one that opens with a function word ("The plan"), is
    not kept."""
    if not question.asks_for_a_phrase:
        return None
    match = _LEADING_PHRASE.match(text)
    phrase = match.group("phrase").strip().rstrip("\"'”’") if match else ""
    words = phrase.split()
    if not words or len(words) > MAX_LEADING_WORDS or words[0].lower() in STOPWORDS:
        return None  # "The plan was ...", "It is ...": a sentence, not the thing asked for
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.I)
    return phrase if any(pattern.search(s.text) for s in sources) else None


_LEADING_YES_NO = re.compile(r"^\W*(?:yes|no)\b[\s,.;:!—–-]*", re.IGNORECASE)


def without_yes_no(text: str, question: Question) -> str:
    """A choice question's reply without a leading "Yes," / "No,": its answer is one of the
    options, and "Yes, the Boks won" answers nothing that was asked (a reply that is only
    "Yes" or "No" is left as it is, for the fallback to judge)."""
    if question.kind != "choice":
        return text
    match = _LEADING_YES_NO.match(text)
    rest = text[match.end():] if match else ""
    if not match or not rest.strip() or rest.lstrip().startswith("["):
        return text
    return rest[:1].upper() + rest[1:]


def _said(sentence: str) -> str:
    """What a sentence or list line says, for spotting repeats: words only, lower-cased."""
    return " ".join(re.findall(r"\w+", strip_markers(sentence).lower()))


def without_repeats(text: str) -> str:
    """``text`` without the sentences and list lines that say again what an earlier one said.

    A small model decoding greedily can loop ("Wang said he brought this to
    Bankman-Fried's attention several times [1]. Wang said ..." until the token
    limit), and a list can name an item twice; a repeat adds nothing to read or to
    check. A last sentence cut off at the token limit that begins an earlier one
    goes too."""
    spans = sentence_spans(text)
    seen: list[str] = []
    drop: list[tuple[int, int]] = []
    for i, (start, end) in enumerate(spans):
        said = _said(text[start:end])
        cut_off = i == len(spans) - 1 and said and any(k.startswith(said) for k in seen)
        if len(said.split()) >= 2 and (said in seen or cut_off):
            drop.append((start, end))
        elif said:
            seen.append(said)
    for start, end in reversed(drop):
        while start > 0 and text[start - 1] in " \t\n":
            start -= 1
        text = text[:start] + text[end:]
    return text
