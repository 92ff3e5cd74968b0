"""Safe to share, second pass, in the Streamlit app (AppTest; issue 28).

- An embedder switch made in the sidebar survives what Streamlit's
  ``clear_cache`` message does (``st.cache_resource.clear()`` and
  ``st.cache_data.clear()``, the calls its handler makes) and a restart: the
  index opens with the embedder its manifest records (item 2). The message
  itself, sent by a real websocket client to a real server, is in
  tests/test_ui_browser_safety.py.
- An upload adds to the index and removes nothing; a rebuild syncs the
  articles and uploads folders and keeps articles indexed from elsewhere (item 7).
- A damaged index: the chat reply says what is wrong, and visitors never see
  the server's paths.
"""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

import streamlit as st  # noqa: E402

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


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


@pytest.fixture
def env(tmp_path, monkeypatch):
    articles = write_articles(tmp_path)
    index = tmp_path / "index"
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(index), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive", UI__ADMIN="true")
    return {"articles": articles, "index": index, "tmp": tmp_path}


def last_reply(env, at) -> dict:
    return saved(env, at)[-1]


def test_an_embedder_switch_survives_clear_cache_and_a_restart(env, monkeypatch):
    with FakeOpenAIServer(dim=32) as embeddings:
        for key, value in {"BACKEND": "openai", "BASE_URL": embeddings.base_url, "MODEL": "fake-embed",
                           "DIM": "32"}.items():
            monkeypatch.setenv(f"RAG_EMBEDDING__{key}", value)
        build_index(load_settings())  # built with the configured openai embedder
        at = app()
        no_exceptions(at)
        at.selectbox(key="embedder_choice").set_value("sentence-transformers").run()  # the packaged model
        at.button(key="rebuild").click().run()
        at = wait_for_job(at, "Index rebuilt")
        no_exceptions(at)
        assert "Embedder sentence-transformers/all-MiniLM-L6-v2" in texts(at)
        # What the clear_cache message's handler does, for every session:
        st.cache_resource.clear()
        st.cache_data.clear()
        at = ask(app(), QUESTION)
        no_exceptions(at)
        assert not last_reply(env, at).get("error"), last_reply(env, at)["content"]
        assert "Index rebuilt" in texts(at)  # the build's result, still shared after the clear
        # A restart: nothing of this process is left, the index's manifest still says it.
        clear_streamlit_caches()
        at = ask(app(), QUESTION)
        no_exceptions(at)
        assert not last_reply(env, at).get("error"), last_reply(env, at)["content"]
        assert "Embedder sentence-transformers/all-MiniLM-L6-v2" in texts(at)


def test_an_upload_adds_and_removes_nothing(env):
    other = env["tmp"] / "other"
    other.mkdir()
    (other / "lighthouse.txt").write_text("Lighthouse keeper retires\n\nThe keeper of the Skerry Point "
                                          "lighthouse retired on Friday after forty years.\n")
    build_index(load_settings())
    build_index(load_settings(), [other])  # 3 articles from two folders
    at = app()
    upload = ("ferry.txt", b"Ferry timetable changes\n\nThe ferry leaves at nine from May.\n", "text/plain")
    at.file_uploader[0].set_value([upload]).run()
    at.button(key="add_articles").click().run()
    at = wait_for_job(at, "Index updated")
    no_exceptions(at)
    shown = texts(at).replace("**", "")
    assert "Index updated: 4 articles" in shown and "(1 added, 0 updated, 0 removed)" in shown
    assert "3 articles from other folders kept" in shown
    # A rebuild syncs the articles folder and the uploads folder; the other folder stays.
    at.button(key="rebuild").click().run()
    at = wait_for_job(at, "Index rebuilt")
    shown = texts(at).replace("**", "")
    assert "Index rebuilt: 4 articles" in shown and "0 removed" in shown and "1 article from other folders kept" in shown
    at = ask(at, "When did the lighthouse keeper retire?")
    assert "Lighthouse keeper retires" in texts(at)


def damage(env) -> None:
    build_index(load_settings())
    current = (env["index"] / "CURRENT").read_text().strip()
    (env["index"] / current / "manifest.json").write_text("{broken")


def test_a_damaged_index_is_named_in_the_chat_reply(env):
    damage(env)
    at = ask(app(), QUESTION)
    no_exceptions(at)
    reply = last_reply(env, at)
    assert reply["error"] and "damaged" in reply["content"] and "manifest.json" in reply["content"]
    assert "There is no index" not in reply["content"]


def test_visitors_see_what_is_wrong_but_no_server_path(env, monkeypatch):
    damage(env)
    monkeypatch.setenv("RAG_UI__ADMIN", "false")
    at = ask(app(), QUESTION)
    no_exceptions(at)
    reply = last_reply(env, at)
    assert reply["error"] and "damaged" in reply["content"]
    everything = texts(at) + reply["content"]
    assert str(env["tmp"]) not in everything and "manifest.json" not in everything


def test_a_damaged_conversation_names_no_server_path_to_visitors(env, monkeypatch):
    build_index(load_settings())
    cid = "0123456789abcdef" * 2
    folder = env["index"] / "conversations"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{cid}.json").write_text("{damaged")
    monkeypatch.setenv("RAG_UI__ADMIN", "false")
    at = app(cid)
    no_exceptions(at)
    shown = texts(at)
    assert "could not be read" in shown and str(env["tmp"]) not in shown
    monkeypatch.setenv("RAG_UI__ADMIN", "true")
    at = app(cid)
    assert str(folder) in texts(at)  # the operator sees which file
