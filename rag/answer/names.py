"""Names a question asks about, and whether any indexed passage mentions them.

A question about "David Reeder" or "Pets Best Insurance Services" cannot be
answered from articles that never mention them, however topical the rest of
the question sounds. :func:`question_names` takes the capitalised names of a
question (not its first word, publishers, months, or words such as "Which"),
split at possessives and "and" ("Google's Gemini" is "Google" and "Gemini");
:func:`missing_names` keeps those of which no passage holds every word. The
lookup uses the lexical index: the passages that score best for the name
under BM25 are read and checked for all of its words, so a name whose words
are spread over unrelated passages does not count as mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag.search.query_hints import MONTHS, OutletMention

# Capitalised words that are not names: question words, auxiliaries and function words a
# question may capitalise after a comma or a quote.
_NOT_NAMES = frozenset("""the a an which who what does did do is was are were has have had can could will would
    should between after before how in on at when where why whose whom according both while since during
    if or and but yes no""".split())
_DATE_WORDS = frozenset(MONTHS) | frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_EDGE = frozenset({"of", "the", "and", "&"})
# A year written as part of a name ("the 2022 World Cup") belongs to it: a passage about
# the 2023 World Cup does not mention the 2022 one.
_NAME = re.compile(r"\b((?:(?<=[Tt]he )(?:19|20)\d\d\s+)?[A-Z][\w.-]*(?:'s)?(?:\s+(?:of|the|and|de|van|von|&)?\s*[A-Z][\w.-]*(?:'s)?)*)")
_WORDS = re.compile(r"\w+")


def question_names(question: str, outlets: Sequence[OutletMention] = ()) -> list[str]:
    """Capitalised names in ``question`` other than the indexed publishers it names (``outlets``,
    from :func:`rag.search.query_hints.outlet_mentions`; see module doc)."""
    text = question.replace("’", "'")
    for m in sorted(outlets, key=lambda m: m.start, reverse=True):  # the same length: spans stay valid
        text = text[:m.start] + "," + " " * (m.end - m.start - 1) + text[m.end:]
    names: list[str] = []
    for match in _NAME.finditer(text):
        run = match.group(1)
        if match.start() == 0:  # the question's first word is capitalised anyway
            run = run.split(None, 1)[1] if " " in run else ""
        for piece in re.split(r"'s\b|\s+and\s+|\s+&\s+", run):
            words = piece.strip(" .'").split()
            while words and words[0].lower() in _NOT_NAMES | _EDGE:
                words = words[1:]
            while words and words[-1].lower() in _EDGE:
                words = words[:-1]
            name = " ".join(words)
            # Initials alone ("U.S.", "U.K.") are skipped: the lexical index
            # drops one-letter tokens, so it could never find them.
            if max((len(w) for w in _WORDS.findall(name) if not w.isdigit()), default=0) < 2:
                continue
            if len(name) >= 3 and name.lower() not in _DATE_WORDS and name not in names:
                names.append(name)
    return names


def mentions(name: str, text: str) -> bool:
    """True if every word of ``name`` occurs in ``text`` (case-insensitive, whole words)."""
    have = set(_WORDS.findall(text.lower().replace("'s", "")))
    return all(w in have for w in _WORDS.findall(name.lower()))


def missing_names(names: Sequence[str], candidates: Callable[[str], Sequence[str]]) -> list[str]:
    """The ``names`` that no text returned by ``candidates(name)`` mentions.

    ``candidates`` gives the texts most likely to mention a name (for an index:
    the passages that score best for it under BM25).
    """
    return [name for name in names if not any(mentions(name, t) for t in candidates(name))]
