"""Failing backends in the Streamlit chat (``streamlit.testing.v1.AppTest``).

The openai chat backend talks to the loopback FakeOpenAIServer, and the index
is built with the openai embedder against another one that stays up. Each
failure must end as a message that says what went wrong and what to do, with
no traceback, and the next question of the same session is answered normally.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.backend_failures import CONNECTION_REFUSED, FAILURES, LIMITS  # noqa: E402
from tests.openai_server import FakeOpenAIServer, closed_port_url  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    QUESTION,
    SEED_TITLE,
    app,
    ask,
    clear_streamlit_caches,
    no_exceptions,
    rag_env,
    saved,
    texts,
    write_articles,
)


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


GOOD_REPLY = "The victory plan asks the West for long-range weapons [1]."


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An index built with the openai embedder against a loopback server that stays up."""
    tmp = tmp_path_factory.mktemp("served")
    articles = write_articles(tmp)
    with FakeOpenAIServer(dim=32) as embeddings:
        embedding = {"backend": "openai", "base_url": embeddings.base_url, "model": "fake-embed", "dim": "32"}
        build_index(load_settings(index_dir=tmp / "index", articles_dir=articles, embedding=embedding,
                                  llm={"backend": "extractive"}))
        yield {"articles": articles, "index": tmp / "index", "tmp": tmp, "embeddings": embeddings,
               "embedding": embedding}


def served_env(served, monkeypatch, chat_url: str) -> None:
    """The app set to the served index and the openai chat backend at ``chat_url``."""
    served["embeddings"].clear()
    values = {f"EMBEDDING__{k.upper()}": v for k, v in served["embedding"].items()}
    values.update(LLM__BACKEND="openai", LLM__BASE_URL=chat_url, LLM__MODEL="fake-chat", **LIMITS)
    rag_env(monkeypatch, served["tmp"], INDEX_DIR=str(served["index"]), ARTICLES_DIR=str(served["articles"]),
            **values)


def assert_cited_answer(at: AppTest, served) -> None:
    """The last turn is a normal answer from the chat server, with citations."""
    no_exceptions(at)
    last = saved(served, at)[-1]
    assert not last.get("error"), last["content"]
    assert last["backend"] == "openai" and last["citations"]
    assert "long-range weapons" in texts(at) and SEED_TITLE in texts(at)


@pytest.mark.parametrize("failure", [CONNECTION_REFUSED, *FAILURES], ids=lambda f: f.name)
def test_failing_backend_is_a_message_and_the_next_question_is_answered(served, monkeypatch, failure):
    port = urlsplit(closed_port_url()).port
    chat = FakeOpenAIServer(port=port)  # nothing listens there until started
    served_env(served, monkeypatch, chat.base_url)
    try:
        if failure.chat_up:
            chat.start()
        at = app()
        no_exceptions(at)
        failure.script(chat, served["embeddings"])
        at = ask(at, QUESTION)
        no_exceptions(at)
        assert len(at.main.error) == 1, [e.value for e in at.main.error]
        message = str(at.main.error[0].value).replace("\\", "")
        for words in failure.words:
            assert words.lower() in message.lower(), message
        assert message[0].isupper() and message.rstrip()[-1] in ".!?", message  # a sentence
        assert "Traceback" not in texts(at) and "Something went wrong" not in message
        assert len(chat.chat_requests()) == failure.chat_requests
        assert saved(served, at)[-1]["error"] is True

        if not failure.chat_up:  # the server comes back
            chat.start()
        chat.script_reply(GOOD_REPLY)
        at = ask(at, QUESTION)
        assert_cited_answer(at, served)
        messages = saved(served, at)
        assert [m["role"] for m in messages] == ["user", "assistant"] * 2
        assert len(at.main.error) == 1  # the failed turn still shows its message, nothing new
    finally:
        chat.stop()


def test_one_rate_limited_request_is_retried_and_answered(served, monkeypatch):
    with FakeOpenAIServer() as chat:
        served_env(served, monkeypatch, chat.base_url)
        at = app()
        chat.script_rate_limit(retry_after=0.1)
        chat.script_reply(GOOD_REPLY)
        at = ask(at, QUESTION)
        assert_cited_answer(at, served)
        assert not at.main.error
        assert len(chat.chat_requests()) == 2  # the 429, then the retry after retry-after
