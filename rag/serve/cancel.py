"""Stopping an answer whose client went away.

:class:`CancellableModel` wraps the shared chat model for one request: every piece the
model writes (the answer, a follow-up rewrite, an evidence check) passes through it, and
once the request's ``cancel`` event is set the next piece raises :class:`Cancelled`
instead. The pipeline's stream is then closed, which closes the model's stream, and the
in-process llama.cpp model gives its turn up in its ``finally``
(:mod:`rag.llm.llama_cpp`): the model is free one token after the client left. A model
that can stop inside its own computation (``stops_when_asked``: the llama.cpp model,
through llama.cpp's abort callback) is also handed ``should_stop``, so reading a long
prompt stops too.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Any


class Cancelled(Exception):
    """The client of this answer went away; nothing is left to send it."""


class CancellableModel:
    """``model`` for one request, stopped between two pieces once ``cancel`` is set.

    Everything but :meth:`stream` and :meth:`complete` is the wrapped model's own
    (backend, model name, token counting, capabilities).
    """

    def __init__(self, model: Any, cancel: threading.Event):
        self._model = model
        self._cancel = cancel

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def check(self) -> None:
        """Raise :class:`Cancelled` when the request was cancelled."""
        if self._cancel.is_set():
            raise Cancelled("the client went away")

    def stream(self, messages: list[dict], **options: Any) -> Iterator[str]:
        self.check()
        if getattr(self._model, "stops_when_asked", False):  # stops inside its computation too
            options["should_stop"] = self._cancel.is_set
        with closing(self._model.stream(messages, **options)) as pieces:
            for piece in pieces:
                self.check()
                yield piece

    def complete(self, messages: list[dict], **options: Any) -> str:
        return "".join(self.stream(messages, **options))
