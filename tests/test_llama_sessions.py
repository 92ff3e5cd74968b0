"""Two sessions sharing one llama.cpp model (as the UI's sessions share its
cached model), on the real SmolLM2-135M GGUF: the first stops reading its
answer mid-way, and the second must still be answered.

Session threads are joined with a generous limit only to turn a deadlock into
a failure instead of a hung suite; no timing is asserted.
"""

from __future__ import annotations

import threading

import pytest

from rag.answer.pipeline import Answer, Answerer
from rag.config import LLMSettings
from rag.errors import BackendError
from rag.index.building import build_index
from rag.llm.llama_cpp import LlamaCppChatModel

pytestmark = pytest.mark.slow  # the real GGUF, as the other SmolLM2 tests

QUESTION = "When did the harbour bridge reopen after the repairs?"
DEADLOCK = 600  # seconds: far beyond any answer here on a loaded 2-core machine


@pytest.fixture(scope="module")
def gguf(smollm2_gguf):
    return smollm2_gguf


def model_for(gguf, idle: float) -> LlamaCppChatModel:
    return LlamaCppChatModel(LLMSettings(backend="llama-cpp", model=str(gguf), context_tokens=1024, threads=2,
                                         temperature=0.0, max_answer_tokens=48, idle_stream_seconds=idle))


def first_delta(stream) -> str:
    """Read the stream until the model has written something (it holds the model now)."""
    for item in stream:
        assert not isinstance(item, Answer), "the answer ended before it was abandoned"
        if item.strip():
            return item
    raise AssertionError("no text")


def answer_in_thread(answerer: Answerer) -> tuple[threading.Thread, dict]:
    out: dict = {}

    def run() -> None:
        try:
            out["answer"] = answerer.answer(QUESTION)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def assert_answered(thread: threading.Thread, out: dict) -> None:
    thread.join(DEADLOCK)
    assert not thread.is_alive(), "the second session never got the model"
    assert "error" not in out, out.get("error")
    assert out["answer"].text.strip() and out["answer"].backend == "llama-cpp"


def test_an_unread_abandoned_stream_gives_the_model_to_the_next_session(gguf, settings):
    build_index(settings)
    model = model_for(gguf, idle=1.0)
    first = Answerer(settings, chat_model=model).stream(QUESTION)
    first_delta(first)  # session 1 stops reading here, and keeps its stream object
    thread, out = answer_in_thread(Answerer(settings, chat_model=model))
    assert_answered(thread, out)
    with pytest.raises(BackendError, match="left unread"):
        list(first)  # the abandoned answer cannot resume on a model another answer used


def test_a_closed_stream_frees_the_model_at_once(gguf, settings):
    build_index(settings)
    model = model_for(gguf, idle=3600.0)  # only closing can free it within the test
    first = Answerer(settings, chat_model=model).stream(QUESTION)
    first_delta(first)
    first.close()  # what the UI does when a new question stops the page mid-answer
    thread, out = answer_in_thread(Answerer(settings, chat_model=model))
    assert_answered(thread, out)
