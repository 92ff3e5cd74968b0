"""Citation repair, in code, before the citations are checked and shown.

A small model often writes a true sentence without a marker, or cites the
wrong one of two sources. For each sentence of the raw answer (markers still
numbered as the sources were given):

- a sentence with content words and no marker gets the marker of the source
  that best supports it (:func:`rag.answer.citations.support_score` at the
  support threshold), counted as ``cited``; when no source supports it, it is
  left alone and counted as ``uncited``;
- a sentence whose cited sources do not support it, while another source
  does, is re-pointed at that source, counted as ``recited``;
- a bare verdict ("Yes.") with no marker is left alone when a later sentence
  cites; if it is the whole answer, it cites the sources that cover the
  question's words (at most two), as :func:`process_citations` checks a
  verdict against the question.

Then each group of adjacent markers is judged as :func:`process_citations`
will judge it (:func:`rag.answer.citations.judge_support`). When it fails:

- sources of the group that carry too little of its claim are dropped if the
  rest then support it, counted as ``trimmed`` ("Sam Bankman-Fried [1][2][3]"
  where [3] never names him);
- otherwise the group is pointed at the one source that supports the claim
  best or, when no single one does, the pair that does ("A says X while B
  says Y" cited to A alone), counted as ``recited``;
- when neither exists it is left for the check to flag.

Markers naming no source are left for :func:`process_citations` to drop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rag.answer.citations import (
    SUPPORT_THRESHOLD,
    checked_claim,
    judge_support,
    marker_groups,
    parse_markers,
    passage_text,
    strip_markers,
    support_score,
)
from rag.index.words import content_terms
from rag.ingest.sentences import sentence_spans
from rag.llm.sources import with_marker

_BETWEEN_GROUPS = re.compile(r"[\s,;]*")


@dataclass
class Repairs:
    """What the repair changed."""

    cited: int = 0  # uncited sentences given the marker of the source supporting them
    recited: int = 0  # citations moved to the source(s) that support the sentence or claim
    uncited: int = 0  # sentences with content that no source supports, left uncited
    trimmed: int = 0  # marker groups that dropped a source carrying too little of their claim

    def to_dict(self) -> dict[str, int]:
        return {"cited": self.cited, "recited": self.recited, "uncited": self.uncited,
                "trimmed": self.trimmed}


def _units(text: str) -> list[tuple[int, int]]:
    """Sentence spans, with a span made only of markers ("[2]") joined to the sentence before."""
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        if units and not strip_markers(text[s:e]).strip():
            units[-1] = (units[-1][0], e)
        else:
            units.append((s, e))
    return units


def repair_citations(text: str, sources: Sequence[Any], question: str = "",
                     threshold: float = SUPPORT_THRESHOLD) -> tuple[str, Repairs]:
    """``text`` with uncited or mis-cited sentences repaired (see module doc)."""
    texts = [passage_text(s) for s in sources]
    repairs = Repairs()
    units = _units(text)
    any_marker = bool(parse_markers(text))
    out: list[str] = []
    pos = 0
    for s, e in units:
        out.append(text[pos:s])
        pos = e
        unit = text[s:e]
        claim = strip_markers(unit).strip()
        numbers = [n for m in parse_markers(unit) for n in m.numbers if 1 <= n <= len(texts)]
        if not content_terms(claim):
            if not numbers and not any_marker and question and len(units) == 1:
                covering = _best(question, texts, threshold, top=2)
                if covering:
                    unit = with_marker(unit, "".join(f"[{n}]" for n in covering))
                    repairs.cited += 1
            out.append(unit)
            continue
        if numbers:
            union = "\n".join(texts[n - 1] for n in sorted(set(numbers)))
            if support_score(claim, union) < threshold:
                better = _best(claim, texts, threshold, top=1)
                if better:
                    unit = with_marker(strip_markers(unit).rstrip(), f"[{better[0]}]")
                    repairs.recited += 1
            out.append(unit)
            continue
        best = _best(claim, texts, threshold, top=1)
        if best:
            unit = with_marker(unit, f"[{best[0]}]")
            repairs.cited += 1
        else:
            repairs.uncited += 1
        out.append(unit)
    out.append(text[pos:])
    return _repair_groups("".join(out), texts, question, threshold, repairs), repairs


def _repair_groups(text: str, texts: Sequence[str], question: str, threshold: float,
                   repairs: Repairs) -> str:
    """Trim or re-point each marker group its sources do not support (module doc)."""
    for group in reversed(marker_groups(text)):  # from the end, so earlier spans stay valid
        cited = sorted({n for n in group.numbers if 1 <= n <= len(texts)})
        checked = checked_claim(group.claim, question)
        if not cited or not content_terms(checked) or _supports(checked, texts, cited, threshold):
            continue
        carrying = [n for n in cited if support_score(checked, texts[n - 1]) >= threshold / 2]
        if carrying and carrying != cited and _supports(checked, texts, carrying, threshold):
            better, repairs.trimmed = carrying, repairs.trimmed + 1
        else:
            better = _best_support(checked, texts, threshold)
            if not better or better == cited:
                continue
            repairs.recited += 1
        text = text[:group.start] + "".join(f"[{n}]" for n in better) + text[group.end:]
    return _drop_repeated_groups(text)


def _drop_repeated_groups(text: str) -> str:
    """"X [1][2], [1]." -> "X [1][2].": a group that repeats the one just before it, with only
    commas or spaces between them, says nothing more (left behind when both were re-pointed)."""
    groups = marker_groups(text)
    for before, group in reversed(list(zip(groups, groups[1:]))):
        if _BETWEEN_GROUPS.fullmatch(text[before.end:group.start]) and set(group.numbers) <= set(before.numbers):
            text = text[:before.end] + text[group.end:]
    return text


def _supports(checked: str, texts: Sequence[str], numbers: Sequence[int], threshold: float) -> bool:
    return all(ok for _, ok in judge_support(checked, [texts[n - 1] for n in numbers], threshold))


def _best_support(checked: str, texts: Sequence[str], threshold: float) -> list[int] | None:
    """The single source supporting ``checked`` best or, when none does, the best supporting pair."""
    numbers = range(1, len(texts) + 1)
    for size in (1, 2):
        scored = [(judge_support(checked, [texts[n - 1] for n in pick], threshold), list(pick))
                  for pick in combinations(numbers, size)]
        good = [(verdicts[0][0], pick) for verdicts, pick in scored if all(ok for _, ok in verdicts)]
        if good:
            return max(good, key=lambda x: (x[0], [-n for n in x[1]]))[1]
    return None


def _best(claim: str, texts: Sequence[str], threshold: float, top: int) -> list[int]:
    """Numbers (1-based) of the ``top`` sources supporting ``claim`` best, at ``threshold`` or above."""
    scored = [(support_score(claim, t), n) for n, t in enumerate(texts, start=1)]
    good = sorted((x for x in scored if x[0] >= threshold), key=lambda x: (-x[0], x[1]))
    return [n for _, n in good[:top]]
