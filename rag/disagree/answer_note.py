"""The answer's "Outlets differ" line: flags among the sources the answer relies on.

The answer pipeline calls :func:`note_disagreements` on the finished answer text
(markers still numbered as the sources 1..n), before its citations are checked
and renumbered, and :func:`settle_disagreements` after, which gives each value
its final ``[n]``:

- a flag is kept when the answer cites one of its sources for something the flag's
  sentence says (the answer states the value, or shares at least
  :data:`MIN_SHARED` of the sentence's content words);
- each kept flag adds one line, "Outlets differ on <slot>: 30 [1] vs 35 [3]." (or
  "Updated by <outlet> ...: 30 [1] (October 3, 2023), then 35 [3] (October 5, 2023)."),
  so both values and both sources are in the text and the answer cannot be read as
  settling on one, let alone an average of the two;
- the line's own claims are not the support check's business (it would find the
  words "Outlets differ" in no passage): they are taken out of the citations'
  claims, and the cited sentence of each value becomes its citation's quote. The
  flag itself passed the disagreement citation check (:func:`rag.disagree.flags.checked`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from rag.disagree.flags import Disagreement, Embed, find_disagreements
from rag.index.words import content_terms
from rag.types import human_date

MIN_SHARED = 0.4
"""Share of a flag sentence's content words the answer must carry to rely on it."""
_MARKER = re.compile(r"\[\s*(\d{1,4}(?:\s*[,;–-]\s*\d{1,4})*)\s*\]")
_LINE_START = ("Outlets differ", "Updated by")


def _cited(text: str) -> set[int]:
    out: set[int] = set()
    for m in _MARKER.finditer(text):
        out.update(int(x) for x in re.findall(r"\d+", m.group(1)))
    return out


def _plain(text: str) -> str:
    return re.sub(r"\s*" + _MARKER.pattern, "", text)


def relies_on(text: str, flag: Disagreement) -> bool:
    """True when the answer ``text`` cites a source of ``flag`` for what it says there."""
    cited = _cited(text)
    words = content_terms(_plain(text))
    for v in flag.values:
        if v.source + 1 not in cited:
            continue
        if v.stated and v.stated in text:
            return True
        terms = content_terms(v.sentence)
        if terms and len(terms & words) / len(terms) >= MIN_SHARED:
            return True
    return False


def shown_value(kind: str, value: str, stated: str) -> str:
    """A value as the line shows it: a date in words ("October 3, 2023"), else as stated."""
    if kind == "date" and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return human_date(value)
    if kind == "date" and re.fullmatch(r"\d{4}-\d\d", value):
        return date.fromisoformat(value + "-01").strftime("%B %Y")
    return stated or value


def flag_line(flag: Disagreement, numbers: dict[int, int] | None = None) -> str:
    """One sentence naming every value with its marker (``numbers``: source index -> n)."""
    def n(v) -> int:
        return (numbers or {}).get(v.source, v.source + 1)

    shown = [f"{shown_value(flag.kind, v.value, v.stated)} [{n(v)}]" for v in flag.values]
    about = "who said it" if flag.kind == "attribution" else flag.slot
    if flag.status == "updated":
        outlet = flag.values[0].outlet or "the same outlet"
        timed = [f"{s} ({human_date(v.published_at)})" for s, v in zip(shown, flag.values)]
        return f"Updated by {outlet} on {about}: " + ", then ".join(timed) + "."
    return f"Outlets differ on {about}: " + " vs ".join(shown) + "."


def note_disagreements(text: str, sources: Sequence[Any], embed: Embed | None = None
                       ) -> tuple[str, list[Disagreement]]:
    """``text`` with one line per flag it relies on (see module doc), and those flags."""
    if not text.strip() or len(sources) < 2:
        return text, []
    flags = [f for f in find_disagreements(sources, embed) if relies_on(text, f)]
    if not flags:
        return text, []
    return text.rstrip() + "\n\n" + "\n".join(flag_line(f) for f in flags), flags


def settle_disagreements(cited: Any, flags: Sequence[Disagreement], sources: Sequence[Any]) -> list[dict]:
    """After the citation check: the flags as JSON with their final ``[n]``; the lines' own
    claims taken out of ``cited`` (a :class:`rag.answer.citations.CitedText`)."""
    if not flags:
        return []
    by_passage = {c.passage_id: c for c in cited.citations}
    numbers = {i: by_passage[str(s.id)].n for i, s in enumerate(sources) if str(getattr(s, "id", "")) in by_passage}
    lines = [_plain(line) for line in cited.text.splitlines() if line.startswith(_LINE_START)]
    sentences: dict[int, list[str]] = {}
    for flag in flags:
        for v in flag.values:
            if v.source in numbers:
                sentences.setdefault(numbers[v.source], []).append(v.sentence)
    for c in cited.citations:
        mine = [cl for cl in c.claims if cl.text and any(cl.text in line for line in lines)]
        if not mine:
            continue
        cited.unsupported -= sum(not cl.supported for cl in mine)
        c.claims = [cl for cl in c.claims if cl not in mine]
        c.supported = all(cl.supported for cl in c.claims)
        quotes = [q for q in c.quotes if c.claims] + [s for s in sentences.get(c.n, []) if s not in c.quotes]
        c.quotes = list(dict.fromkeys(quotes)) or c.quotes
        c.quote = c.quotes[0] if c.quotes else c.quote
    return [f.to_dict(numbers) for f in flags]
