"""Content words: the one list of words that name no topic, and the words that remain.

Three places need to know which words of a question or a claim carry its
content: the citation support check (does the cited passage hold the claim's
words?), the extractive model (which sentences match the question?) and the
keyword rewrite of follow-ups (which words of the previous question does the
new one lack?). They share :data:`STOPWORDS`: bm25s' 179-word English list
(function words; the lexical index itself uses the 33-word Lucene list) plus
words that say how a question is asked or where a claim comes from ("tell",
"reported", "according", "article", "passage") rather than what it is about.
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

from rag.index.lexical import tokenize

FRAMING_WORDS = frozenset("""
    said says say told tell report reported reports reporting according article articles news passage
    passages source sources mention mentioned mentions note noted also however
    information provided given text indicates indicated highlighted suggests would could many much one
    yes please know done whose
""".split())
"""Words about asking, reporting or sourcing, not about the subject. ("state" is not one: it
is also a noun, as in "state media" or "the Islamic State".)"""

STOPWORDS = frozenset(w.lower() for w in STOPWORDS_EN_PLUS) | FRAMING_WORDS
"""Every word that is not content (lower case, unstemmed)."""

_STEMS = frozenset(tokenize([" ".join(sorted(STOPWORDS))])[0])
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")


def content_terms(text: str) -> set[str]:
    """Stemmed content words of ``text`` (the lexical tokenizer's stems, :data:`STOPWORDS` removed)."""
    return {t for t in tokenize([text])[0] if t not in _STEMS}


def content_words(text: str) -> list[str]:
    """The words of ``text`` as written (case kept, in order) that carry content."""
    return [w for w in _WORD.findall(text) if content_terms(w)]
