"""Optional one-line event summaries by a language model, checked like an answer.

The model reads only the event's cited sentences, numbered as the event's
citations, and writes one sentence with ``[n]`` markers (a missing or wrong
marker is repaired as in an answer, rag.answer.repair). The summary is kept
only when every marker names one of those sentences' sources and each
source supports the sentence (:func:`rag.answer.citations.process_citations`,
the answer's check); otherwise the event keeps showing its best sentence.
Dates, outlets and delays are never asked of the model.
"""

from __future__ import annotations

from typing import Any

from rag.answer.citations import process_citations, strip_markers
from rag.answer.repair import repair_citations
from rag.ingest.sentences import split_sentences
from rag.timeline.build import Timeline

SYSTEM = ("You summarise one development of a news story in ONE short sentence, using only the numbered "
          "sentences given. Cite them with their numbers in square brackets, like [1]. Do not add facts, "
          "dates or outlets that the sentences do not state.")


def summarize_events(timeline: Timeline, chat_model: Any, max_tokens: int = 80) -> int:
    """Give each event of ``timeline`` a checked one-line summary where the model writes one;
    returns how many were kept. A backend that writes no free text (extractive) writes none."""
    if not getattr(chat_model, "can_rewrite", False):
        return 0
    kept = 0
    for event in timeline.events:
        numbered = "\n".join(f"[{c.n}] {c.quote}" for c in event.citations)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": numbered}]
        reply = " ".join(chat_model.complete(messages, max_tokens=max_tokens).split())
        if len(split_sentences(strip_markers(reply))) != 1:
            continue
        # Repaired as an answer is: a small model often writes the sentence without its
        # marker ("Sam Bankman-Fried's criminal trial begins."), which the sentence's source
        # supports; the repair cites it, and the check below still decides.
        reply, _ = repair_citations(reply, event.sources)
        cited = process_citations(reply, event.sources)
        if cited.citations and not cited.dropped and all(c.supported for c in cited.citations):
            event.summary = reply  # markers as the model wrote them: the event's own numbering
            kept += 1
    return kept
