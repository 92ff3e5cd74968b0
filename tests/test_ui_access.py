"""Safe to share, in the Streamlit chat (``streamlit.testing.v1.AppTest``):
where keys go from the sidebar, what visitors can and cannot do, the
conversation id in the URL, and a rebuild that reuses the server's embedder.

Keys are checked against real loopback servers speaking the OpenAI protocol
(tests/openai_server.py) that record each request's ``Authorization`` header;
the process holds an OpenAI key throughout, as on an operator's machine.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager

import pytest

pytest.importorskip("streamlit")

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.openai_server import FakeOpenAIServer  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    QUESTION,
    app,
    ask,
    clear_streamlit_caches,
    no_exceptions,
    rag_env,
    saved,
    texts,
    wait_for_job,
    write_articles,
)

PROCESS_KEY = "sk-process-OPENAI-key-0123456789"
SESSION_KEY = "sk-typed-in-this-session-4567"
OPERATOR_WIDGETS = ("rebuild", "embedder_choice", "add_articles", "llm_choice", "llm_base_url",
                    "api_key_input", "llm_model_llama-cpp", "llm_model_openai-compatible")


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An index of two articles, the extractive backend configured, an OpenAI key in the process."""
    articles = write_articles(tmp_path)
    index = tmp_path / "index"
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(index), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive", LLM__MAX_RETRIES="0")
    monkeypatch.setenv("OPENAI_API_KEY", PROCESS_KEY)
    build_index(load_settings())
    return {"articles": articles, "index": index, "tmp": tmp_path}


def operator(monkeypatch, on: bool = True) -> None:
    monkeypatch.setenv("RAG_UI__ADMIN", "true" if on else "false")


def widget_keys(at) -> set[str]:
    return {w.key for kind in ("button", "selectbox", "text_input", "checkbox", "slider", "multiselect",
                               "chat_input") for w in getattr(at, kind) if w.key}


@contextmanager
def server_address(address: str | None):
    """Streamlit's ``server.address`` as ``streamlit run --server.address`` would set it."""
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", address)
    try:
        yield
    finally:
        config.set_option("server.address", before)


def point_at(at, url: str):
    at.selectbox(key="llm_choice").set_value("openai-compatible").run()
    at.text_input(key="llm_model_openai-compatible").input("fake-chat").run()
    return at.text_input(key="llm_base_url").input(url).run()


# -- keys -------------------------------------------------------------------------------


def test_a_url_typed_in_the_sidebar_gets_no_process_key(env, monkeypatch):
    operator(monkeypatch)
    with FakeOpenAIServer() as server:
        server.script_reply("The plan asks the West for long-range weapons [1].")
        at = ask(point_at(app(), server.base_url), QUESTION)
        no_exceptions(at)
        assert "long-range weapons" in texts(at)
        assert server.chat_requests(), "the typed server answered"
        assert server.authorizations() == [None] * len(server.requests)
        assert PROCESS_KEY not in json.dumps([r.headers for r in server.requests])


def test_a_typed_session_key_goes_only_to_the_url_it_was_typed_for(env, monkeypatch):
    operator(monkeypatch)
    with FakeOpenAIServer(api_key=SESSION_KEY) as keyed, FakeOpenAIServer() as other:
        keyed.script_reply("Scripted answer with a key [1].")
        other.script_reply("Answer from the other server [1].")
        at = point_at(app(), keyed.base_url)
        at.text_input(key="api_key_input").input(SESSION_KEY).run()
        assert "API key set for this session only" in texts(at)
        at = ask(at, QUESTION)
        no_exceptions(at)
        assert keyed.chat_requests(), "the keyed server answered"
        assert set(keyed.authorizations()) == {f"Bearer {SESSION_KEY}"}

        # Another URL: the key is forgotten and not sent there.
        at = at.text_input(key="llm_base_url").input(other.base_url).run()
        told = "The API key was forgotten" in texts(at)
        at = ask(at, "How much will the harbour bridge repairs cost?")
        no_exceptions(at)
        assert other.chat_requests(), "the other server answered"
        assert other.authorizations() == [None] * len(other.requests) and other.requests
        assert set(keyed.authorizations()) == {f"Bearer {SESSION_KEY}"}
        assert told, "the page says the key was forgotten"
    everything = json.dumps(saved(env, at)) + texts(at) + "".join(os.environ.values())
    assert SESSION_KEY not in everything
    assert all(SESSION_KEY not in p.read_text(errors="ignore")
               for p in env["tmp"].rglob("*") if p.is_file() and p.stat().st_size < 5_000_000)


# -- visitors and the operator ------------------------------------------------------------


def test_visitors_get_no_operator_controls_and_their_state_is_ignored(env, monkeypatch):
    operator(monkeypatch, on=False)
    with FakeOpenAIServer() as server:
        at = app()
        no_exceptions(at)
        shown = widget_keys(at)
        assert not shown & set(OPERATOR_WIDGETS), shown & set(OPERATOR_WIDGETS)
        assert not at.get("file_uploader")
        assert {"new_chat", "k", "f_sources", "question"} <= shown  # what visitors keep
        assert at.get("download_button")  # the export too
        # State a client could hold for the missing controls changes nothing.
        for key, value in {"llm_choice": "openai-compatible", "llm_base_url": server.base_url,
                           "llm_model_openai-compatible": "fake-chat"}.items():
            at.session_state[key] = value
        at = ask(at, QUESTION)
        no_exceptions(at)
        assert saved(env, at)[-1]["backend"] == "extractive"
        at.session_state["llm_choice"] = "llama-cpp"
        at.session_state["llm_model_llama-cpp"] = "/etc/passwd"
        at = ask(at, "How much will the harbour bridge repairs cost?")
        no_exceptions(at)
        assert [m.get("backend") for m in saved(env, at) if m["role"] == "assistant"] == ["extractive"] * 2
        assert "/etc/passwd" not in texts(at)
        assert server.requests == []
        assert "Answered by extractive" in texts(at)


def test_controls_default_to_on_for_loopback_only(env, monkeypatch):
    for address, on in (("127.0.0.1", True), ("0.0.0.0", False), (None, False)):
        with server_address(address):
            at = app()
            no_exceptions(at)
            assert ("rebuild" in widget_keys(at)) is on, address
    monkeypatch.setenv("RAG_UI__ADMIN", "false")
    with server_address("127.0.0.1"):
        assert "rebuild" not in widget_keys(app())
    monkeypatch.setenv("RAG_UI__ADMIN", "true")
    with server_address("0.0.0.0"):
        assert "rebuild" in widget_keys(app())


# -- the conversation id in the URL --------------------------------------------------------


def test_conversation_id_with_a_trailing_newline_starts_a_new_chat(env):
    bad = "0" * 32 + "\n"
    at = ask(app(bad), QUESTION)
    no_exceptions(at)
    cid = at.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    assert cid != bad and re.fullmatch(r"[0-9a-f]{32}", cid)
    names = [p.name for p in (env["index"] / "conversations").iterdir()]
    assert names == [f"{cid}.json"], names


# -- rebuilds reuse the server's embedder -----------------------------------------------


def test_rebuild_and_upload_reuse_the_loaded_embedder(env, monkeypatch):
    from rag.embed.hashing import HashingEmbedder

    operator(monkeypatch)
    made = []
    init = HashingEmbedder.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(HashingEmbedder, "__init__", counted)
    at = app()
    assert len(made) == 1  # the index was opened with one embedder
    (env["articles"] / "extra.txt").write_text(
        "Lighthouse keepers return\n\nThe lighthouse on the northern cape has keepers again.\n")
    at.button(key="rebuild").click().run()
    at = wait_for_job(at, "Index rebuilt")
    no_exceptions(at)
    assert "3 articles" in texts(at).replace("**", "")
    upload = ("ferry.txt", b"Ferry timetable changes\n\nThe ferry leaves at nine from May.\n", "text/plain")
    at.file_uploader[0].set_value([upload]).run()
    at.button(key="add_articles").click().run()
    at = wait_for_job(at, "Index updated")
    assert "4 articles" in texts(at).replace("**", "")
    assert len(made) == 1, f"{len(made)} embedders were made"
