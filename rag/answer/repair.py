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

Markers naming no source are left for :func:`process_citations` to drop.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rag.answer.citations import SUPPORT_THRESHOLD, parse_markers, strip_markers, support_score
from rag.index.words import content_terms
from rag.ingest.sentences import sentence_spans

_CLOSING = re.compile(r"([.!?…]+[\"'”’)\]]*)\s*$")


@dataclass
class Repairs:
    """What the repair changed."""

    cited: int = 0  # uncited sentences given the marker of the source supporting them
    recited: int = 0  # citations moved to the source that supports the sentence
    uncited: int = 0  # sentences with content that no source supports, left uncited

    def to_dict(self) -> dict[str, int]:
        return {"cited": self.cited, "recited": self.recited, "uncited": self.uncited}


def _text(source: Any) -> str:
    full = getattr(source, "full_text", None)
    return full if isinstance(full, str) else str(getattr(source, "text", source))


def _with_marker(sentence: str, markers: str) -> str:
    """``sentence`` with ``markers`` placed before its closing punctuation."""
    match = _CLOSING.search(sentence)
    if match:
        return f"{sentence[: match.start()].rstrip()} {markers}{match.group(1)}"
    return f"{sentence.rstrip()} {markers}"


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
    texts = [_text(s) for s in sources]
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
                    unit = _with_marker(unit, "".join(f"[{n}]" for n in covering))
                    repairs.cited += 1
            out.append(unit)
            continue
        if numbers:
            union = "\n".join(texts[n - 1] for n in sorted(set(numbers)))
            if support_score(claim, union) < threshold:
                better = _best(claim, texts, threshold, top=1)
                if better:
                    unit = _with_marker(strip_markers(unit).rstrip(), f"[{better[0]}]")
                    repairs.recited += 1
            out.append(unit)
            continue
        best = _best(claim, texts, threshold, top=1)
        if best:
            unit = _with_marker(unit, f"[{best[0]}]")
            repairs.cited += 1
        else:
            repairs.uncited += 1
        out.append(unit)
    out.append(text[pos:])
    return "".join(out), repairs


def _best(claim: str, texts: Sequence[str], threshold: float, top: int) -> list[int]:
    """Numbers (1-based) of the ``top`` sources supporting ``claim`` best, at ``threshold`` or above."""
    scored = [(support_score(claim, t), n) for n, t in enumerate(texts, start=1)]
    good = sorted((x for x in scored if x[0] >= threshold), key=lambda x: (-x[0], x[1]))
    return [n for _, n in good[:top]]
