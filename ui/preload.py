"""The chat model, loaded in a background thread as soon as the page first runs.

No Streamlit here. ``rag ui`` opens the index while it draws the welcome page;
the chat model (for llama.cpp: the GGUF read into memory, and the answer
prompt's opening read once, as every answer reads it) loads meanwhile in a
:class:`BackgroundLoad`, so the first question does not wait for it unless it
comes before the load is done. ``ui.preload = false`` turns this off (the model
then loads at the first question, as before).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("article_rag.ui")


class BackgroundLoad:
    """``make()`` run once in a daemon thread; :meth:`get` waits for it.

    A load that failed is tried again by the next :meth:`get`, in the caller's
    thread, so its error reaches the person who asked (and a fixed setting is
    picked up without restarting the server).
    """

    def __init__(self, make: Callable[[], Any], start: bool = True) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: Any = None
        self._done = threading.Event()
        if start:
            threading.Thread(target=self._background, daemon=True, name="rag-ui-preload").start()

    @property
    def ready(self) -> bool:
        """True once the value is there (get() will not wait)."""
        return self._value is not None

    def _background(self) -> None:
        try:
            with self._lock:
                if self._value is None:
                    self._value = self._make()
        except Exception:  # noqa: BLE001 - get() tries again and shows the error
            log.warning("loading the chat model in the background failed; the first question "
                        "will try again", exc_info=True)
        finally:
            self._done.set()

    def get(self) -> Any:
        """The value, waiting for the background load or loading it here if that failed."""
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value


def warm_chat_model(model: Any) -> Any:
    """Load ``model``'s weights now instead of at the first question.

    The in-process llama.cpp model reads its GGUF on first use and then the
    answer prompt's opening (chat template and system message), which every
    answer keeps in its cache (rag.llm.llama_cpp): a one-token reply to an
    answer prompt does both. Remote backends are not called.
    """
    if getattr(model, "backend", None) != "llama-cpp":
        return model
    from rag.answer.prompts import answer_messages

    for _ in model.stream(answer_messages("Is this a warm-up?", []), max_tokens=1):
        pass
    return model
