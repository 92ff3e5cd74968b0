"""The numbered sources inside an answer prompt: written by the pipeline, read by any model.

A prompt lists its sources as blocks separated by a blank line, each opened
by a label line ``[n] title — publisher, date`` and followed by the source's
text, then the question on a line ``Question: ...``. Language models read the
blocks as text; the extractive model reads them back with
:func:`read_sources` and :func:`read_question`, so every backend gets the
same messages and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

QUESTION_PREFIX = "Question: "
_CLOSING = re.compile(r"([.!?…]+[\"'”’)\]]*)\s*$")
_LABEL = re.compile(r"^\[(\d{1,3})\] [^\n]*\n", re.MULTILINE)


@dataclass(frozen=True)
class SourceBlock:
    """One numbered source as the model sees it."""

    n: int
    label: str  # the label line without "[n] "
    text: str


def format_source(n: int, label: str, text: str) -> str:
    """The block of source ``n``: its label line, then its text."""
    return f"[{n}] {label}\n{text.strip()}"


def format_sources(blocks: Sequence[str]) -> str:
    """Source blocks joined as they appear in the prompt."""
    return "\n\n".join(blocks)


def read_sources(prompt: str) -> list[SourceBlock]:
    """The numbered source blocks of ``prompt``, in order.

    Labels are accepted only in sequence (1, 2, 3 ...) at the start of a line
    after a blank line (or at the start), so a line of a source's own text that
    happens to start with ``[7]`` does not open a block.
    """
    head, sep, _ = prompt.rpartition(f"\n{QUESTION_PREFIX}")
    body = head if sep else prompt
    starts: list[tuple[int, int, int, str]] = []  # (n, label start, text start, label)
    expected = 1
    for match in _LABEL.finditer(body):
        n = int(match.group(1))
        at_block_start = match.start() == 0 or body[max(0, match.start() - 2):match.start()] == "\n\n"
        if n != expected or not at_block_start:
            continue
        label = match.group(0)[len(f"[{n}] "):].rstrip("\n")
        starts.append((n, match.start(), match.end(), label))
        expected += 1
    blocks = []
    for i, (n, _, text_start, label) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(body)
        blocks.append(SourceBlock(n, label, body[text_start:end].strip()))
    return blocks


def read_question(prompt: str) -> str:
    """The question of ``prompt`` (the text after its last ``Question:``), else the whole prompt."""
    head, sep, tail = prompt.rpartition(f"\n{QUESTION_PREFIX}")
    if not sep:
        return prompt.removeprefix(QUESTION_PREFIX).strip() if prompt.startswith(QUESTION_PREFIX) else prompt.strip()
    return tail.split("\n", 1)[0].strip()


def with_marker(sentence: str, markers: str) -> str:
    """``sentence`` with citation ``markers`` ("[2]", "[1][3]") placed before its closing
    punctuation: how the extractive model, the pipeline's fallback and the citation repair
    all cite a sentence."""
    match = _CLOSING.search(sentence)
    if match:
        return f"{sentence[: match.start()].rstrip()} {markers}{match.group(1)}"
    return f"{sentence.rstrip()} {markers}"
