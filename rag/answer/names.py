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
from collections.abc import Callable, Iterable, Sequence

_MONTHS = frozenset("""january february march april may june july august september october november
    december""".split())
_NOT_NAMES = frozenset("""the a an considering based which who what does did do is was has have had between after
    before how in when where why whose whom according following given both while since during""".split())
_EDGE = frozenset({"of", "the", "and", "&"})
_NAME = re.compile(r"\b([A-Z][\w.-]*(?:'s)?(?:\s+(?:of|the|and|de|van|von|&)?\s*[A-Z][\w.-]*(?:'s)?)*)")
_WORDS = re.compile(r"\w+")


def question_names(question: str, known_sources: Iterable[str] = ()) -> list[str]:
    """Capitalised names in ``question`` other than publishers (see module doc)."""
    text = question.replace("’", "'")
    for source in sorted((s for s in known_sources if s), key=len, reverse=True):
        text = re.sub(re.escape(source), " , ", text, flags=re.IGNORECASE)
    names: list[str] = []
    for match in _NAME.finditer(text):
        if match.start() == 0:
            continue  # the question's first word is capitalised anyway
        for piece in re.split(r"'s\b|\s+and\s+|\s+&\s+", match.group(1)):
            words = piece.strip(" .'").split()
            while words and words[0].lower() in _NOT_NAMES | _EDGE:
                words = words[1:]
            while words and words[-1].lower() in _EDGE:
                words = words[:-1]
            name = " ".join(words)
            # Initials alone ("U.S.", "U.K.") are skipped: the lexical index
            # drops one-letter tokens, so it could never find them.
            if max(map(len, _WORDS.findall(name)), default=0) < 2:
                continue
            if len(name) >= 3 and name.lower() not in _MONTHS and name not in names:
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
