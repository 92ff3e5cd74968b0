"""What an answer is doing while the person waits: the stages the answer pipeline reports.

:meth:`rag.answer.pipeline.Answerer.stream` takes ``on_stage(stage, **info)`` and
calls it as each step starts: :data:`LOADING` (the embedder, the index and the
chat model, first use only; ``model="chat"``: the chat model alone),
:data:`SEARCHING`, :data:`READING` (``sources=n``: the model reads the prompt, the
long wait on a CPU) and :data:`WRITING` (the first word has come). The CLI and
the UI show :func:`describe`'s words for them; a caller that passes nothing
hears nothing.
"""

from __future__ import annotations

from collections.abc import Callable

LOADING = "loading"
SEARCHING = "searching"
READING = "reading"
WRITING = "writing"

StageCallback = Callable[..., None]


def describe(stage: str, **info: object) -> str:
    """The words shown for ``stage``, e.g. "Reading 4 sources…"."""
    if stage == LOADING:  # model="chat": only the chat model is missing (the UI's wait)
        what = "the chat model" if info.get("model") == "chat" else "the models"
        return f"Loading {what} (first time only)…"
    if stage == SEARCHING:
        return "Searching the articles…"
    if stage == READING:
        n = info.get("sources")
        if isinstance(n, int):
            return f"Reading {n} source{'' if n == 1 else 's'}…"
        return "Reading the sources…"
    if stage == WRITING:
        return "Writing…"
    return f"{stage.capitalize()}…"
