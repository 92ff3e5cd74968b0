"""Citation markers in answers: parse, drop, renumber, and check support.

An answer cites the numbered passages it was given with markers such as
``[1]``, ``[1, 2]``, ``[1][2]``, ``[1-3]`` or ``[Passage 2]``. After the
model has answered, :func:`process_citations`

1. drops every number that points at no given passage (and the marker when
   nothing is left of it), counting them;
2. renumbers the kept passages 1, 2, 3 ... in order of first appearance and
   rewrites each marker as single markers (``[1][2]``), so the final text only
   contains ``[n]`` with ``n`` in ``1..len(citations)``;
3. checks, for every sentence that cites a passage, whether that passage
   supports it (:func:`support_score`), and flags the citation when not.

Support is lexical and measurable: the share of the claim's content words
(:func:`rag.index.words.content_terms`: stemmed, stop words and reporting
verbs removed) found in the cited passage
(its header included), and every number in the claim must appear in the
passage. A claim citing several passages at once is judged against their
union, and each of them must carry part of it.

``SUPPORT_THRESHOLD`` (0.5) was measured on the MultiHop-RAG dev questions
over ``index/eval/corpus``. Verbatim claims: each gold evidence fact against
the passage that holds it (2,030 pairs, all score 1.0) versus against the
other top-6 passages retrieved for the same question from other articles
(9,591 topical negatives, the typical mis-citation): at 0.5, 6.1% of the
negatives pass (14% at 0.35, 3.3% at 0.6). Paraphrased claims: each question
(written by GPT-4 from its facts, so reworded) against the union of its gold
passages (751) versus as many retrieved non-gold passages (524): at 0.5, 88%
of the positives pass and 33% of the negatives (96%/63% at 0.35, 70%/12% at
0.6). 0.5 keeps most reworded true claims while flagging most wrong passages;
a lexical check cannot do both perfectly, so "supported" means "the passage
carries at least half of the claim's content words and all its numbers".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.answer.attribution import unattributed_speakers
from rag.index.words import content_terms
from rag.ingest.sentences import sentence_spans

__all__ = ["content_terms"]  # re-exported: the support check's notion of content

SUPPORT_THRESHOLD = 0.5
"""Minimum share of a claim's content words found in the cited passage(s)."""

# A marker: "[3]", "[1, 2]", "[1-3]", "[1 and 2]", "[Passage 2]", "[source 1; 4]".
_MARKER = re.compile(
    r"\[\s*(?:(?:passages?|sources?|articles?|documents?|docs?)\s*)?"
    r"(\d{1,4}(?:\s*(?:,|;|-|–|—|&|and)\s*\d{1,4})*)\s*\]",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")
_RANGE = re.compile(r"(\d+)\s*[-–—]\s*(\d+)")
_MAX_RANGE = 20  # "[1-500]" is not a range of citations; keep its ends only
_DIGITS = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
@dataclass
class Marker:
    """One ``[...]`` marker: its character span and the numbers it names, in order."""

    start: int
    end: int
    numbers: list[int]


@dataclass
class Claim:
    """A piece of the answer that cites a passage, with its support score."""

    text: str
    score: float
    supported: bool


@dataclass
class Citation:
    """A cited passage, numbered as in the final answer text."""

    n: int
    passage_id: str
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    quote: str  # the passage sentence closest to the (first) citing claim
    supported: bool  # every claim citing it is supported by it
    claims: list[Claim] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)  # the sentence closest to each claim, each once
    file: str | None = None  # the article's file name, when it was loaded from a file
    text: str = ""  # the cited text as the model read it (an article's excerpt)
    # When the index keeps earlier versions of the article: {"count", "last_seen_at",
    # "revisions"} (rag.timeline.updates.citation_updates); the cited text is the current one.
    updates: dict | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CitedText:
    """An answer after citation processing."""

    text: str  # renumbered, invalid markers removed
    citations: list[Citation]
    dropped: int  # marker numbers that pointed at no passage
    unsupported: int  # (claim, passage) pairs the passage does not support
    raw_numbers: int  # marker numbers in the raw answer, valid or not

    @property
    def raw_valid_share(self) -> float:
        """Share of the raw marker numbers that pointed at a given passage."""
        return 1.0 if not self.raw_numbers else (self.raw_numbers - self.dropped) / self.raw_numbers


def _numbers(body: str) -> list[int]:
    out: list[int] = []
    pos = 0
    for match in _RANGE.finditer(body):
        out.extend(int(x) for x in _NUMBER.findall(body[pos:match.start()]))
        lo, hi = int(match.group(1)), int(match.group(2))
        out.extend(range(lo, hi + 1) if 0 <= hi - lo <= _MAX_RANGE else (lo, hi))
        pos = match.end()
    out.extend(int(x) for x in _NUMBER.findall(body[pos:]))
    return out


def parse_markers(text: str) -> list[Marker]:
    """Every citation marker in ``text``, in order."""
    return [Marker(m.start(), m.end(), _numbers(m.group(1))) for m in _MARKER.finditer(text)]


def strip_markers(text: str) -> str:
    """``text`` without citation markers (and the spaces before them)."""
    return re.sub(r"[ \t]*" + _MARKER.pattern, "", text, flags=re.IGNORECASE)


def renumber(text: str, n_passages: int) -> tuple[str, list[int], int, int]:
    """Drop invalid marker numbers and renumber the rest by first appearance.

    Returns (new text, passage index (0-based) for each new number 1..k,
    dropped count, raw count).
    """
    order: dict[int, int] = {}  # passage number (1-based) -> new number
    out: list[str] = []
    pos = dropped = raw = 0
    for marker in parse_markers(text):
        raw += len(marker.numbers)
        kept: list[int] = []
        for number in marker.numbers:
            if not 1 <= number <= n_passages:
                dropped += 1
                continue
            new = order.setdefault(number, len(order) + 1)
            if new not in kept:
                kept.append(new)
        before = text[pos:marker.start]
        if kept:
            out.append(before + "".join(f"[{k}]" for k in sorted(kept)))
        else:
            out.append(before.rstrip(" \t"))
        pos = marker.end
    out.append(text[pos:])
    new_text = "".join(out)
    return new_text, [p - 1 for p in sorted(order, key=order.get)], dropped, raw


# -- support ---------------------------------------------------------------------------------


def numbers_in(text: str) -> set[str]:
    """Numbers in ``text``, normalised ("1,000" -> "1000", "2.50" -> "2.5")."""
    out = set()
    for raw in _DIGITS.findall(text):
        value = raw.replace(",", "").rstrip(".")
        if "." in value:
            value = value.rstrip("0").rstrip(".")
        out.add(value)
    return out


def support_score(claim: str, passage_text: str) -> float:
    """Share of the claim's content words found in the passage; 0 when a number
    of the claim is missing from the passage, or when the claim names a speaker the
    passage attributes nothing to (rag.answer.attribution)."""
    terms = content_terms(claim)
    if not terms:
        return 0.0
    if not numbers_in(claim) <= numbers_in(passage_text):
        return 0.0
    if unattributed_speakers(claim, passage_text):  # "Zelensky said ..." where no one says he did
        return 0.0
    return len(terms & content_terms(passage_text)) / len(terms)


def best_quote(claim: str, passage_text: str) -> str:
    """The sentence of the passage sharing the most content words with ``claim``."""
    terms = content_terms(claim)
    best, best_hits = "", -1
    for s, e in sentence_spans(passage_text):
        sentence = passage_text[s:e]
        hits = len(terms & content_terms(sentence))
        if hits > best_hits and len(sentence.split()) >= 3:
            best, best_hits = sentence, hits
    return best or passage_text.strip().split("\n")[-1][:300]


def passage_text(passage: Any) -> str:
    """What a claim citing ``passage`` is checked against: its ``full_text`` (header included), else its text."""
    full = getattr(passage, "full_text", None)
    return full if isinstance(full, str) else str(getattr(passage, "text", passage))


def _shown_text(passage: Any) -> str:
    """The text a reader sees for a cited passage (without its header)."""
    return str(getattr(passage, "text", passage))


@dataclass
class MarkerGroup:
    """Adjacent markers (``[1][2]``) with the claim they cite and their span in the text."""

    claim: str
    numbers: list[int]
    start: int
    end: int


def _claims(text: str) -> list[tuple[str, list[int]]]:
    """(claim text, cited numbers) for each group of adjacent markers in ``text``."""
    return [(g.claim, g.numbers) for g in marker_groups(text)]


def marker_groups(text: str) -> list[MarkerGroup]:
    """Each group of adjacent markers in ``text`` with the claim it cites.

    The claim is the text of the marker's sentence before it, starting after
    the previous marker group of that sentence when that piece says enough on
    its own; a marker opening a sentence ("... done. [1] Next") belongs to the
    sentence before it, except at the start of a line ("[1] Claim."), where it
    labels the sentence it opens.
    """
    spans = sentence_spans(text)
    markers = parse_markers(text)
    groups: list[tuple[int, int, list[int]]] = []
    for m in markers:
        if groups and not text[groups[-1][1]:m.start].strip():
            start, _, numbers = groups[-1]
            groups[-1] = (start, m.end, numbers + m.numbers)
        else:
            groups.append((m.start, m.end, list(m.numbers)))
    out = []
    prev_end_in_sentence: dict[int, int] = {}
    for start, end, numbers in groups:
        group_start = start
        idx = next((i for i, (s, e) in enumerate(spans) if s <= start < e), len(spans) - 1)
        s, e = spans[idx]
        if not strip_markers(text[s:start]).strip():
            if start == 0 or text[:start].rstrip(" \t").endswith("\n") or idx == 0:
                # "[1] Claim." at the start of a line labels what follows it.
                out.append(MarkerGroup(strip_markers(text[end:e]).strip(), numbers, start, end))
                prev_end_in_sentence[idx] = end
                continue
            idx -= 1
            s, e = spans[idx]
            start = e
        piece = strip_markers(text[prev_end_in_sentence.get(idx, s):start])
        if len(content_terms(piece)) < 2:
            piece = strip_markers(text[s:start] if start > s else text[s:e])
        if len(content_terms(piece)) < 2 and idx > 0:  # "He denied it [2]." leans on the sentence before
            ps, _ = spans[idx - 1]
            piece = strip_markers(text[ps:start if start > s else e])
        prev_end_in_sentence[idx] = end
        out.append(MarkerGroup(piece.strip(), numbers, group_start, end))
    return out


def checked_claim(claim: str, question: str | None) -> str:
    """What a claim is checked as: itself, or, when it has no content words of its own
    (a bare "No"), the question's words too."""
    return f"{question} {claim}" if question and not content_terms(claim) else claim


def judge_support(checked: str, texts: Sequence[str], threshold: float = SUPPORT_THRESHOLD
                  ) -> list[tuple[float, bool]]:
    """(score, supported) of each of ``texts`` cited together for the claim ``checked``.

    One passage must carry ``threshold`` of the claim; several cited together
    must carry it as a union, and each at least half of the threshold.
    """
    if len(texts) == 1:
        alone = support_score(checked, texts[0])
        return [(alone, alone >= threshold)]
    together = support_score(checked, "\n".join(texts))
    return [(together, together >= threshold and support_score(checked, t) >= threshold / 2) for t in texts]


def process_citations(text: str, passages: Sequence[Any], threshold: float = SUPPORT_THRESHOLD,
                      question: str | None = None) -> CitedText:
    """Drop, renumber and check the citations of ``text`` against ``passages``
    (numbered 1..n in the order given; objects like :class:`rag.types.Passage`).

    A claim with no content words of its own, such as a bare "No [1][2]." to
    a yes/no ``question``, is a verdict on the question: it is checked as the
    question's words (do the cited passages cover what was asked?), since
    "No" alone can be neither found in a passage nor missing from it.
    """
    new_text, picked, dropped, raw = renumber(text, len(passages))
    texts = [passage_text(passages[i]) for i in picked]
    claims_by_n: dict[int, list[Claim]] = {n: [] for n in range(1, len(picked) + 1)}
    quotes_by_n: dict[int, list[str]] = {n: [] for n in range(1, len(picked) + 1)}
    unsupported = 0
    for claim, numbers in _claims(new_text):
        cited = sorted(set(numbers))
        checked = checked_claim(claim, question)
        for n, (score, ok) in zip(cited, judge_support(checked, [texts[n - 1] for n in cited], threshold)):
            unsupported += not ok
            claims_by_n[n].append(Claim(claim, round(score, 3), ok))
            quote = best_quote(checked, _shown_text(passages[picked[n - 1]]))
            if quote not in quotes_by_n[n]:
                quotes_by_n[n].append(quote)
    citations = []
    for n, index in enumerate(picked, start=1):
        p = passages[index]
        claims = claims_by_n[n]
        citations.append(Citation(
            n=n, passage_id=str(getattr(p, "id", index + 1)), article_id=str(getattr(p, "article_id", "")),
            title=getattr(p, "title", "") or "", source=getattr(p, "source", None),
            published_at=getattr(p, "published_at", None), url=getattr(p, "url", None),
            quote=quotes_by_n[n][0] if quotes_by_n[n] else best_quote("", _shown_text(p)),
            supported=bool(claims) and all(c.supported for c in claims), claims=claims,
            quotes=quotes_by_n[n], file=getattr(p, "file", None), text=_shown_text(p),
        ))
    return CitedText(new_text, citations, dropped, unsupported, raw)
