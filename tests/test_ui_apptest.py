"""The Streamlit chat driven by ``streamlit.testing.v1.AppTest``.

Each test builds a small index in ``tmp_path`` with the deterministic hashing
embedder and answers with the extractive backend (no language model), or with
the loopback OpenAI-protocol server for the backend switch. Settings reach the
app the way they do in production: ``RAG_*`` environment variables. Failing
backends are in ``tests/test_ui_failures.py``.
"""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("streamlit")

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.openai_server import FakeOpenAIServer, closed_port_url  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    QUESTION,
    SECOND,
    SEED_TITLE,
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
    """Articles folder with the seed and one dated article, an index built from them;
    the operator controls on (visitors: tests/test_ui_access.py)."""
    articles = write_articles(tmp_path)
    index = tmp_path / "index"
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(index), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive", UI__ADMIN="true")
    return {"articles": articles, "index": index, "tmp": tmp_path}


def build(env) -> None:
    build_index(load_settings())


# -- tests ---------------------------------------------------------------------------


def test_welcome_then_ask_follow_up_and_reload(env):
    build(env)
    at = app()
    no_exceptions(at)
    page = texts(at)
    assert "2 articles" in page and "Try one of these" in page
    examples = [b for b in at.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 2  # only two articles: one example each
    assert any("Ukraine’s backers want talks with Putin" in b.label.replace("\\", "") for b in examples)

    at = ask(at, QUESTION)
    no_exceptions(at)
    page = texts(at)
    assert "No language model was used" in page
    assert "(#src-" in page  # [n] markers link to the source entries
    assert SEED_TITLE in page  # the source card names the seed
    assert "Answered by extractive" in page
    assert ":orange-background[" in page  # the cited sentence is highlighted

    at = ask(at, "and what did Moscow say?")
    no_exceptions(at)
    messages = saved(env, at)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    follow_up = messages[2]
    assert follow_up["standalone"] != follow_up["content"]  # rewritten with the history
    assert "Ukraine" in follow_up["standalone"]
    assert messages[3]["citations"], "the follow-up is answered from the articles"

    # A reload (same ?c=) shows the conversation again.
    cid = at.query_params["c"]
    again = app(cid[0] if isinstance(cid, list) else cid)
    no_exceptions(again)
    assert "what did Moscow say" in texts(again)
    assert SEED_TITLE in texts(again)

    # New chat: the welcome again, under a new id.
    again.button(key="new_chat").click().run()
    assert "Try one of these" in texts(again)
    assert again.query_params["c"] != cid


def test_example_question_is_asked_when_clicked(env):
    build(env)
    at = app()
    example = next(b for b in at.button if b.key == "example-0")
    example.click().run()
    no_exceptions(at)
    assert len(at.chat_message) == 2  # the question and its answer
    assert "Answered by" in texts(at)


def test_refused_answer_is_marked(env):
    build(env)
    at = ask(app(), "What is the capital of Peru?")
    no_exceptions(at)
    messages = saved(env, at)
    assert messages[-1]["refused"] is True
    assert "Not covered by the articles" in texts(at)


def test_search_filters_restrict_sources(env):
    build(env)
    at = app()
    at.multiselect(key="f_sources").set_value(["Harbour Gazette"]).run()
    at = ask(at, QUESTION)
    no_exceptions(at)
    citations = saved(env, at)[-1]["citations"]
    assert all(c["source"] == "Harbour Gazette" for c in citations)
    at.slider(key="k").set_value(1).run()
    at.multiselect(key="f_sources").set_value([]).run()
    at = ask(at, "How much will the harbour bridge repairs cost?")
    assert len(saved(env, at)[-1]["citations"]) <= 1


def test_no_index_yet_then_upload_and_index(env):
    at = app()
    no_exceptions(at)
    assert "No articles are indexed yet" in texts(at)
    at = ask(at, QUESTION)
    no_exceptions(at)
    assert "There is no index to answer from yet" in texts(at)

    third = SECOND.replace("harbour-bridge", "ferry").replace("Harbour bridge repairs approved", "Ferry timetable changes")
    uploads = [
        ("../../escape attempt.md", third.encode(), "text/markdown"),
        ("notes.pdf", b"%PDF-1.4", "application/pdf"),
        ("empty.txt", b"", "text/plain"),
        ("broken.json", b"{not json", "application/json"),
    ]
    at.file_uploader[0].set_value(uploads).run()
    at.button(key="add_articles").click().run()
    no_exceptions(at)
    errors = "\n".join(str(e.value) for e in at.sidebar.error).replace("\\", "")
    assert "notes.pdf rejected: unsupported file type .pdf" in errors
    assert "empty.txt rejected: the file is empty" in errors
    assert "broken.json rejected: no article could be read" in errors
    from rag.config import load_settings
    from rag.ui.uploads import uploads_folder

    folder = uploads_folder(load_settings())  # the user's data folder, never the articles folder
    assert (folder / "escape attempt.md").is_file() and not (env["articles"] / "escape attempt.md").exists()
    assert not (env["tmp"].parent / "escape attempt.md").exists()
    assert not list(folder.glob(".*"))  # no probe or temporary files left behind

    at = wait_for_job(at, "Index updated")
    no_exceptions(at)
    assert "1 articles" in texts(at).replace("**", "")  # an upload indexes what was uploaded, only that
    assert "Store: faiss, in the index folder" in texts(at)  # the sidebar names the passage store
    at = ask(at, "What did the city council approve, and what will the repairs cost?")  # the uploaded body answers it
    no_exceptions(at)
    assert "Ferry timetable changes" in texts(at)


def test_rebuild_in_background_keeps_answering(env, monkeypatch):
    import threading

    from rag.index.embedded.versions import VersionFolders

    build(env)
    at = app()
    (env["articles"] / "extra.txt").write_text(
        "Lighthouse keepers return to the northern cape\n\nThe lighthouse on the northern cape has "
        "keepers again after twenty years, the maritime office said on Friday.\n", encoding="utf-8")
    # Hold the build just before it publishes, to look at the page meanwhile.
    reached, release = threading.Event(), threading.Event()
    publish = VersionFolders.publish

    def held_publish(self, *args, **kwargs):
        reached.set()
        assert release.wait(30)
        return publish(self, *args, **kwargs)

    monkeypatch.setattr(VersionFolders, "publish", held_publish)
    at.button(key="rebuild").click().run()
    no_exceptions(at)
    assert reached.wait(30)
    at.run()
    assert at.sidebar.get("progress"), "a progress bar shows while the build runs"
    assert at.button(key="rebuild").disabled
    at = ask(at, "What happened at the lighthouse on the northern cape?")
    no_exceptions(at)
    assert "Answered by extractive" in texts(at)  # answered from the old index meanwhile
    assert not any("extra.txt" == c.get("file") for c in saved(env, at)[-1].get("citations", []))
    release.set()
    at = wait_for_job(at, "Index rebuilt")
    assert "3 articles" in texts(at).replace("**", "")
    at = ask(at, "What happened at the lighthouse on the northern cape?")
    assert "Lighthouse keepers return" in texts(at)


def test_embedder_change_says_rebuild_needed(env):
    build(env)
    at = app()
    at.selectbox(key="embedder_choice").set_value("openai").run()
    no_exceptions(at)
    assert "takes effect after a rebuild" in texts(at)
    assert at.checkbox(key="full_forced").value is True


def test_backend_switch_to_openai_compatible_server(env, monkeypatch):
    build(env)
    with FakeOpenAIServer() as server:
        server.script_reply("The plan asks the West for long-range weapons [1].")
        at = app()
        at.selectbox(key="llm_choice").set_value("openai-compatible").run()
        at.text_input(key="llm_base_url").input(server.base_url).run()
        at = ask(at, QUESTION)
        no_exceptions(at)
        page = texts(at)
        assert "long-range weapons" in page
        assert "Answered by OpenAI-compatible server 127.0.0.1:" in page and "· fake-chat" in page
        assert any(r.path.endswith("/chat/completions") for r in server.requests)

        # Back to the extractive backend: the next answer says so.
        at.selectbox(key="llm_choice").set_value("extractive").run()
        at = ask(at, "How much will the harbour bridge repairs cost?")
        messages = saved(env, at)
        assert [m.get("backend") for m in messages if m["role"] == "assistant"] == ["openai", "extractive"]
        # The server URL typed before is still there when switching back.
        at.selectbox(key="llm_choice").set_value("openai-compatible").run()
        assert at.text_input(key="llm_base_url").value == server.base_url


def test_api_key_is_used_for_the_session_only(env):
    build(env)
    secret = "sk-test-not-for-disk-123"
    with FakeOpenAIServer(api_key=secret) as server:
        server.script_reply("The plan asks for long-range weapons [1].")  # supported: shown as is
        at = app()
        at.selectbox(key="llm_choice").set_value("openai-compatible").run()
        at.text_input(key="llm_base_url").input(server.base_url).run()
        at.text_input(key="api_key_input").input(secret).run()
        no_exceptions(at)
        assert "API key set for this session only" in texts(at)
        assert not any(secret in str(w.value) for w in at.text_input)  # never shown back
        at = ask(at, QUESTION)
        no_exceptions(at)
        answered = [m for m in saved(env, at) if m["role"] == "assistant"]
        assert answered and not answered[-1].get("error") and answered[-1]["backend"] == "openai"
        assert server.chat_requests() and server.requests[-1].headers.get("authorization") == f"Bearer {secret}"
    assert secret not in json.dumps(saved(env, at))
    assert all(secret not in p.read_text(errors="ignore")
               for p in env["tmp"].rglob("*") if p.is_file() and p.stat().st_size < 5_000_000)
    assert secret not in "".join(os.environ.values())
    assert secret not in texts(at)


def test_backend_down_shows_message_and_app_keeps_working(env, monkeypatch):
    build(env)
    monkeypatch.setenv("RAG_LLM__MAX_RETRIES", "0")
    at = app()
    at.selectbox(key="llm_choice").set_value("openai-compatible").run()
    at.text_input(key="llm_base_url").input(closed_port_url()).run()
    at.text_input(key="llm_model_openai-compatible").input("fake-chat").run()
    at = ask(at, QUESTION)
    no_exceptions(at)
    errors = " ".join(str(e.value) for e in at.main.error).replace("\\", "")
    assert "Could not connect to the chat server" in errors
    assert "Traceback" not in texts(at)

    at.selectbox(key="llm_choice").set_value("extractive").run()
    at = ask(at, QUESTION)
    no_exceptions(at)
    assert "No language model was used" in texts(at)
    messages = saved(env, at)
    assert messages[1].get("error") is True and "citations" in messages[3]
    # The failed turn is not given to the model as history.
    assert len(messages) == 4


def test_broken_index_is_a_message_not_a_traceback(env):
    build(env)
    current = (env["index"] / "CURRENT").read_text().strip()
    (env["index"] / current / "manifest.json").write_text("{broken")
    at = app()
    no_exceptions(at)
    assert "damaged" in " ".join(str(e.value) for e in at.error)


def test_invalid_conversation_id_in_url_starts_a_new_chat(env):
    build(env)
    at = app("../../etc/passwd")
    no_exceptions(at)
    cid = at.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    assert len(cid) == 32 and cid != "../../etc/passwd"
    assert "Try one of these" in texts(at)
