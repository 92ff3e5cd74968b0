"""The question, parsed once: what kind of answer it wants and what it names.

Every later step reads one :class:`Question` instead of parsing the text again:
retrieval hints (the indexed publishers it names, its dates), the refusal
checks (the names it asks about, the outlets it attributes reporting to), the
prompt and the answer's shape (its kind, the options of an either/or
question), the calibrated verdict (only for a yes/no question) and the
reading of the reply.

The kinds, tried in this order (the first that fits wins):

- ``choice``: it offers options joined by "or" ("Is the summit on Monday or
  Tuesday?", "Did OpenAI or Google release Gemini?", "Was it consistent or
  inconsistent?"); answered with one of them (or both/neither), never Yes/No;
- ``yes_no``: its first clause opens with a verb ("Did ...", "Is ...");
- ``comparison``: "compare", "difference between", "how does X differ", "versus";
- ``timeline``: "how did X develop / evolve / unfold", "timeline", "chronology";
- ``list``: "list ...", "name the ...", "what are the ...", "which ... are";
- ``explanation``: "why ...", "how did/does ...", "what caused / led to ...", "explain";
- ``summary``: "summarise ...", "tell me about ...", "what's the story with ...",
  "what happened with ...", "what did X say / report about ...";
- ``fact``: anything else (who, what, when, where, which, how many).

The rules are about English questions, not about any benchmark's templates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rag.answer.names import question_names
from rag.answer.outlets import Attribution, attributions
from rag.search.query_hints import OutletMention, find_dates, outlet_mentions

KINDS = ("fact", "explanation", "summary", "comparison", "choice", "yes_no", "list", "timeline")
PARAGRAPH_KINDS = frozenset({"explanation", "summary", "comparison", "timeline"})
"""Kinds answered with a short cited paragraph (or bullets), not a phrase."""

_CLAUSE_START = re.compile(
    r"(?:^|[,;:]\s*)(?:and\s+|but\s+|so\s+)?(?P<word>is|are|was|were|do|does|did|has|have|had|can|could|will|would|"
    r"should|shall|may|might|must|isn't|aren't|wasn't|weren't|doesn't|didn't|hasn't|haven't|"
    r"who|whom|whose|what|which|where|when|why|how)\b", re.I)
_WH = frozenset("who whom whose what which where when why how".split())
_AUX = frozenset("""is are was were do does did has have had can could will would should shall may might must
    isn't aren't wasn't weren't don't doesn't didn't hasn't haven't""".split())
# Words an option does not run into: "after the vote" is the option "after".
_OPTION_STOP = frozenset("""the a an of in on at to for from by with about than that which who whose when where
    while as into over under between during since until this these those it its their his her they he she
    we you i""".split()) | _AUX
_NOT_OPTIONS = frozenset({"not", "no", "so", "more", "less", "other", "others", "else", "otherwise", "any",
                          "anything", "somewhere", "something", "someone", "later", "never", "none"})
_OPTION_WORD = re.compile(r"[\w'’&.$%-]+|\"[^\"]*\"|'[^']*'")
MAX_OPTION_WORDS = 4

_COMPARISON = re.compile(r"^\s*(?:please\s+)?(?:compare|contrast)\b"
                         r"|^\s*how (?:does|do|did|is|are|was|were) .*\b(?:compare|differ|stack up)"
                         r"|^\s*(?:what|where) (?:is|are|were|was) the (?:main |key |biggest )?(?:differences?|similarit(?:y|ies)|contrast)\b"
                         r"|^\s*in what ways?\b|^\s*what (?:do|did) .* have in common"
                         r"|^\s*(?!which|who|whom|whose|when)\w+\b.*\b(?:versus|vs\.?)\s", re.I)
_TIMELINE = re.compile(r"\b(?:timeline|chronology|sequence of events)\b|^\s*how (?:did|has|have|is|was) .*\b(?:develop|evolve|unfold|progress|"
                       r"change|play out)(?:ed|d|s)?\b", re.I)
_LIST = re.compile(r"^\s*(?:please\s+)?(?:list|name (?:all|the|every|some|three|two|four|five)|enumerate)\b"
                   r"|^\s*(?:what|which) (?:are|were) (?:the|some|all)\b"
                   r"|^\s*which (?:\w+ ){1,3}(?:are|were|have)\b"
                   r"|^\s*what (?:\w+ ){0,2}(?:steps|measures|demands|asks|reasons|factors|changes|features|"
                   r"products|companies|teams|countries|options|ways|risks|items|things|problems|issues|"
                   r"players|games|deals|charges|conditions|requests|proposals|points)\b"
                   # "What does the plan ask the West for?": what a plan, a deal or a bill holds is a list
                   r"|^\s*what (?:does|do|did|will|would) .{1,80}? (?:ask|call|demand|include|propose|require|"
                   r"contain|offer|want|promise|cover)s?(?:\s+\S+){0,3}?\s*\??$"
                   # "Which infections does it screen for?", "What charges does he face?": a plural thing asked for
                   r"|^\s*(?:which|what) (?:\w+ )?\w+[^s\W]s (?:are|were|have|has|do|does|did|will|can|could)\b", re.I)
_EXPLANATION = re.compile(r"^\s*(?:please\s+)?(?:why\b|how come\b|explain\b|what (?:caused|causes|led to|"
                          r"leads to|drove|drives|is behind|was behind|explains|prompted|triggered)\b"
                          r"|what (?:is|was|are|were) the (?:reasons?|causes?|impact|effects?|consequences?|"
                          r"significance|point)\b"
                          r"|how (?:did|does|do|has|have|is|was|are|were|will|would|can|could)\b)", re.I)
_HOW_MUCH = re.compile(r"^\s*how (?:many|much|long|old|far|often|big|large|tall|high|fast|soon)\b", re.I)
_SUMMARY = re.compile(r"^\s*(?:please\s+)?(?:summari[sz]e|sum up|recap|describe|overview|"
                      r"give (?:me )?(?:an? )?(?:summary|overview|rundown|recap)|tell me (?:about|what)|"
                      r"what(?:'s|’s| is| was) (?:the (?:story|latest|news|deal|situation|state of play)|"
                      r"going on|happening)|what (?:has )?happened (?:with|to|at|in|on|after|during)|"
                      r"what (?:do|did|does) (?:the )?(?:articles?|sources?|reports?|coverage) say"
                      r"|what (?:did|does|do|has|have) .{1,80}? (?:say|said|report|reported|write|wrote|"
                      r"find|found|conclude|reveal|claim|argue|warn)(?:ed)?\b)"
                      r"|\b(?:summary of|overview of|coverage of)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")


@dataclass
class Question:
    """One question, parsed once (see module doc)."""

    text: str
    kind: str = "fact"
    options: tuple[str, ...] | None = None  # a choice question's options, as written
    outlets: list[OutletMention] = field(default_factory=list)  # indexed publishers it names
    attributions: list[Attribution] = field(default_factory=list)  # other names it attributes reporting to
    names: list[str] = field(default_factory=list)  # capitalised names other than publishers
    days: list[str] = field(default_factory=list)  # "YYYY-MM-DD" it names
    months: list[str] = field(default_factory=list)  # "YYYY-MM" it names
    numbers: list[str] = field(default_factory=list)  # numbers and years, as written

    @property
    def sources(self) -> list[str]:
        """The indexed publishers the question names, each once, in order."""
        out: list[str] = []
        for mention in self.outlets:
            out.extend(s for s in mention.sources if s not in out)
        return out

    @property
    def is_yes_no(self) -> bool:
        return self.kind == "yes_no"

    @property
    def wants_paragraph(self) -> bool:
        return self.kind in PARAGRAPH_KINDS

    @property
    def asks_for_a_phrase(self) -> bool:
        """A fact or list question: answered with the name, number or phrase it asks for."""
        return self.kind in ("fact", "list")


def parse_question(text: str, known_sources: Iterable[str] = ()) -> Question:
    """The :class:`Question` of ``text`` over an index whose publishers are ``known_sources``."""
    text = " ".join(text.split())
    mentions = outlet_mentions(text, list(known_sources))
    days, months = find_dates(text)
    options = answer_options(text)
    # An option is one of two possibilities, not a name the articles must hold: one of
    # "OpenAI or Google" is expected to be absent.
    offered = {w.lower() for o in options or () for w in o.split()}
    names = [n for n in question_names(text, mentions) if not {w.lower() for w in n.split()} <= offered]
    return Question(
        text=text, kind=question_kind(text, options), options=options, outlets=mentions,
        attributions=attributions(text, mentions), names=names,
        days=days, months=months, numbers=_NUMBER.findall(text))


def opens_with_a_verb(text: str) -> bool:
    """True when the first clause that opens with a verb or a question word opens with a verb
    ("Did ...", "Between A and B, was there ..."): a yes/no question unless it offers options."""
    match = _CLAUSE_START.search(text.strip())
    return bool(match) and match.group("word").lower() not in _WH


def question_kind(text: str, options: tuple[str, ...] | None = None) -> str:
    """The kind of ``text`` (module doc), ``options`` being its :func:`answer_options`."""
    if options:
        return "choice"
    if opens_with_a_verb(text):
        return "yes_no"
    if _COMPARISON.search(text) and not _HOW_MUCH.match(text):
        return "comparison"
    if _TIMELINE.search(text):
        return "timeline"
    if _LIST.search(text):
        return "list"
    if _EXPLANATION.match(text) and not _HOW_MUCH.match(text):
        return "explanation"
    if _SUMMARY.search(text):
        return "summary"
    return "fact"


def answer_options(text: str) -> tuple[str, str] | None:
    """The two options a question offers, as written, or None.

    The words on each side of an "or" that joins two like things: two names ("OpenAI or
    Google", "The Verge or TechCrunch"), two words ("Monday or Tuesday", "consistent or
    inconsistent", "rising or falling"), or two short phrases that open alike ("a tax cut or a
    tax increase"). Only in a question that opens with a verb ("Is it ...", "Did ...") or asks
    "which"; "or" between clauses ("..., or do they ...?"), "or not" and "or more" offer none.
    """
    match = _CLAUSE_START.search(text.strip())
    if not match:
        return None
    word = match.group("word").lower()
    if word in _WH and word != "which":
        return None
    for found in re.finditer(r"\s+or\s+", text):
        left = _OPTION_WORD.findall(text[:found.start()])
        right = _OPTION_WORD.findall(re.split(r"[?,;:!]", text[found.end():], maxsplit=1)[0])
        pair = _pair(left, right)
        if pair:
            return pair
    return None


def _pair(left: list[str], right: list[str]) -> tuple[str, str] | None:
    if not left or not right or right[0].lower() in _NOT_OPTIONS | _AUX or left[-1].lower() in _NOT_OPTIONS:
        return None
    if right[0].lower() == "the" and len(right) > 1 and _capitalised(right[1]) and _capitalised(left[-1]):
        right = right[1:]  # "the Boks or the All Blacks": two names, each with its "the"
    if _capitalised(right[0]) and _capitalised(left[-1]):  # two names
        b = _name_run(right)
        a = _name_run(left[::-1])[::-1]
        if left[-len(a) - 1:-len(a)] and left[-len(a) - 1].lower() == "the" and not a[0].lower() == "the":
            a = ["the", *a]
        return (" ".join(a), " ".join(b)) if a and b and a != b else None
    if right[0].lower() in _OPTION_STOP - _AUX or right[0][:1].isdigit():
        # "a tax cut or a tax increase", "a 51% or a 25% stake", "7.4 inches or 7 inches": two
        # phrases that open alike, the left one as long as the words since its opening word
        n = next((k for k in range(1, min(MAX_OPTION_WORDS, len(left)) + 1)
                  if _shape(left[-k]) == _shape(right[0])), None)
        if n is None or any(w.lower() in _AUX or w.lower() in _WH for w in left[-n:]):
            return None
        a, b = left[-n:], right[:n]
        if any(w.lower() in _OPTION_STOP for w in b[1:]):
            return None
    else:  # one word each, as in "rising or falling", "before or after the vote"
        a, b = left[-1:], right[:1]
        if a[0].lower() in _OPTION_STOP or _capitalised(b[0]) != _capitalised(a[0]):
            return None
        strong = _negates(a[0], b[0]) or {a[0].lower(), b[0].lower()} <= _PLACE_OR_TIME
        # two words that merely share an ending are answers only where the choice ends its
        # clause ("rising or falling?"), not where they describe a noun ("legal or promotional events")
        ends = len(right) == 1 or right[1].lower() in _OPTION_STOP
        if not strong and not (ends and _alike(a[0], b[0])):
            return None
    if [w.lower() for w in a] == [w.lower() for w in b]:
        return None
    return " ".join(a), " ".join(b)


def _alike(a: str, b: str) -> bool:
    """Two words offered as the two answers rather than listed together: one negates the other
    ("consistent or inconsistent", "agree or disagree"), both are words of place or time
    ("before or after"), or they share an ending of two letters or more that is not the plural
    "-s" of two nouns ("rising or falling", "higher or lower"; not "guides or opportunities")."""
    a, b = a.lower(), b.lower()
    if _negates(a, b) or (a in _PLACE_OR_TIME and b in _PLACE_OR_TIME):
        return True
    if a.endswith("s") and b.endswith("s") and not (a.endswith("ss") or b.endswith("ss")):
        return False
    shared = 0
    while shared < min(len(a), len(b)) and a[-1 - shared] == b[-1 - shared]:
        shared += 1
    return shared >= 2


def _shape(word: str) -> str:
    """What two options' opening words must share: the same function word, or both numbers."""
    return "#" if word[:1].isdigit() else word.lower()


def _negates(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return any(b == p + a or a == p + b for p in ("in", "un", "dis", "non", "non-", "im", "il", "ir"))


_PLACE_OR_TIME = frozenset("before after above below up down over under earlier later inside outside".split())


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or word[:1].isdigit() or word[:1] in "\"'"


def _name_run(words: list[str]) -> list[str]:
    """The leading words of ``words`` that make a name ("Google", "The New York Times")."""
    out: list[str] = []
    for w in words[:MAX_OPTION_WORDS + 1]:
        if w.lower() in _AUX or w.lower() in _WH:
            break
        if _capitalised(w) or (out and w.lower() in ("of", "and", "&", "de")):
            out.append(w)
        else:
            break
    while out and out[-1].lower() in ("of", "and", "&", "de"):
        out.pop()
    return out if len(out) <= MAX_OPTION_WORDS else []
