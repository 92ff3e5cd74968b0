"""The Streamlit chat driven by ``streamlit.testing.v1.AppTest``.

Each test builds a small index in ``tmp_path`` with the deterministic hashing
embedder and answers with the extractive backend (no language model), or with
the loopback OpenAI-protocol server for the backend switch. The failing-backend
tests at the end use an index built with the openai embedder against that
server. Settings reach the app the way they do in production: ``RAG_*``
environment variables.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("streamlit")
import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from rag.config import load_settings  # noqa: E402
from rag.indexing import build_index  # noqa: E402
from tests.openai_server import FakeOpenAIServer, closed_port_url  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"
SEED = Path("/work/shared/seeds/000_ed08602e7532188b.txt")
if not SEED.is_file():
    SEED = ROOT / "data" / "articles" / "000_ed08602e7532188b.txt"
SEED_TITLE = "Ukraine’s backers want talks with Putin – Bloomberg"
QUESTION = "What does Ukraine's victory plan ask the West for?"

SECOND = """---
title: Harbour bridge repairs approved by the city council
source: Harbour Gazette
published_at: '2024-03-05T09:00:00+00:00'
url: https://example.org/harbour-bridge
---

The city council approved repairs to the harbour bridge on Monday. The repairs will cost two million dollars and take three months, the council said.

Engineers found corrosion in the steel cables during an inspection in January.
"""


@pytest.fixture(autouse=True)
def _fresh_caches():
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


def write_articles(folder: Path) -> Path:
    """The seed and one dated article in ``folder/articles``."""
    articles = folder / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    (articles / "harbour.md").write_text(SECOND, encoding="utf-8")
    return articles


def rag_env(monkeypatch, folder: Path, **values: str) -> None:
    """Only these ``RAG_*`` variables (plus an absent config file) for the app."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_CONFIG", str(folder / "absent.toml"))
    for key, value in values.items():
        monkeypatch.setenv(f"RAG_{key}", value)


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Articles folder with the seed and one dated article, an index built from them."""
    articles = write_articles(tmp_path)
    index = tmp_path / "index"
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(index), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive")
    return {"articles": articles, "index": index, "tmp": tmp_path}


def build(env) -> None:
    build_index(load_settings())


def app(cid: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if cid:
        at.query_params["c"] = cid
    return at.run()


def texts(at: AppTest) -> str:
    """Every text the page shows (Markdown, captions, alerts), unescaped."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts).replace("\\", "")


def ask(at: AppTest, question: str) -> AppTest:
    return at.chat_input(key="question").set_value(question).run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def wait_for_job(at: AppTest, done_text: str = "Index ", timeout: float = 30) -> AppTest:
    """Rerun until the background build's result shows in the sidebar."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        shown = [str(e.value) for e in at.sidebar.success] + [str(e.value) for e in at.sidebar.error]
        if any(done_text in s or "failed" in s for s in shown) and not at.sidebar.get("progress"):
            return at
        time.sleep(0.1)
    raise AssertionError("the index build did not finish")


def saved(env, at: AppTest) -> list[dict]:
    cid = at.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    return json.loads((env["index"] / "conversations" / f"{cid}.json").read_text())["messages"]


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
    assert (env["articles"] / "escape attempt.md").is_file()
    assert not (env["tmp"].parent / "escape attempt.md").exists()
    assert not list(env["articles"].glob(".*"))  # no probe or temporary files left behind

    at = wait_for_job(at, "Index updated")
    no_exceptions(at)
    assert "3 articles" in texts(at).replace("**", "")
    at = ask(at, "What changes to the ferry timetable were approved?")
    no_exceptions(at)
    assert "Ferry timetable changes" in texts(at)


def test_rebuild_in_background_keeps_answering(env, monkeypatch):
    import threading

    from rag.store import IndexStore

    build(env)
    at = app()
    (env["articles"] / "extra.txt").write_text(
        "Lighthouse keepers return to the northern cape\n\nThe lighthouse on the northern cape has "
        "keepers again after twenty years, the maritime office said on Friday.\n", encoding="utf-8")
    # Hold the build just before it publishes, to look at the page meanwhile.
    reached, release = threading.Event(), threading.Event()
    publish = IndexStore._publish

    def held_publish(self, *args, **kwargs):
        reached.set()
        assert release.wait(30)
        return publish(self, *args, **kwargs)

    monkeypatch.setattr(IndexStore, "_publish", held_publish)
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
        server.script_reply("Scripted answer with a key [1].")
        at = app()
        at.selectbox(key="llm_choice").set_value("openai-compatible").run()
        at.text_input(key="llm_base_url").input(server.base_url).run()
        at.text_input(key="api_key_input").input(secret).run()
        no_exceptions(at)
        assert "API key set for this session only" in texts(at)
        assert not any(secret in str(w.value) for w in at.text_input)  # never shown back
        at = ask(at, QUESTION)
        no_exceptions(at)
        assert "Scripted answer with a key" in texts(at)
        assert server.requests[-1].headers.get("authorization") == f"Bearer {secret}"
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


# -- failing backends (issue 5) --------------------------------------------------------
#
# The openai chat backend talks to the loopback FakeOpenAIServer, and the index
# is built with the openai embedder against another one that stays up. Each
# failure must end as a message that says what went wrong and what to do, with
# no traceback, and the next question of the same session is answered normally.

GOOD_REPLY = "The victory plan asks the West for long-range weapons [1]."


@dataclass(frozen=True)
class Failure:
    """One way a backend fails, and what the page must say about it."""

    id: str
    script: Callable[[FakeOpenAIServer, FakeOpenAIServer], None]  # (chat server, embedding server)
    words: tuple[str, ...]  # each must be in the message (case-insensitive)
    chat_requests: int  # requests the chat server got for the failed question: retries are bounded
    chat_up: bool = True  # False: nothing listens at the chat URL until the next question
    env: tuple[tuple[str, str], ...] = ()


FAILURES = [
    Failure("connection-refused", lambda chat, emb: None,
            ("Could not connect to the chat server at http://127.0.0.1:", "is the server running"),
            chat_requests=0, chat_up=False),
    Failure("timeout", lambda chat, emb: chat.script_delay(5.0),
            ("did not answer within 1 s", "RAG_LLM__TIMEOUT"), chat_requests=1,
            env=(("LLM__TIMEOUT", "1"), ("LLM__MAX_RETRIES", "0"))),
    Failure("http-500", lambda chat, emb: chat.script_error(500, times=2),
            ("failed with HTTP 500 after 2 tries", "Scripted error 500", "try again"), chat_requests=2),
    Failure("rate-limited", lambda chat, emb: chat.script_rate_limit(retry_after=0.1, times=2),
            ("rate-limiting requests (HTTP 429)", "after 2 tries", "ask again"), chat_requests=2),
    Failure("stream-cut", lambda chat, emb: chat.script_cut_stream("The victory plan asks", after_chunks=2),
            ("The answer was cut off", "try again"), chat_requests=1),
    Failure("empty-reply", lambda chat, emb: chat.script_empty_reply(),
            ("returned an empty reply", "try another model"), chat_requests=1),
    Failure("bare-citation-marker", lambda chat, emb: chat.script_reply("[1]"),
            ("replied with no answer text", "Ask again"), chat_requests=1),
    Failure("embedding-wrong-dimension", lambda chat, emb: emb.script_wrong_dim(17),
            ("17-dimensional vectors", "this index uses 32", "rebuild"), chat_requests=0),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An index built with the openai embedder against a loopback server that stays up."""
    tmp = tmp_path_factory.mktemp("served")
    articles = write_articles(tmp)
    with FakeOpenAIServer(dim=32) as embeddings:
        embedding = {"backend": "openai", "base_url": embeddings.base_url, "model": "fake-embed",
                     "dim": "32", "max_retries": "0"}
        build_index(load_settings(index_dir=tmp / "index", articles_dir=articles, embedding=embedding,
                                  llm={"backend": "extractive"}))
        yield {"articles": articles, "index": tmp / "index", "tmp": tmp, "embeddings": embeddings,
               "embedding": embedding}


def served_env(served, monkeypatch, chat_url: str, *extra: tuple[str, str]) -> None:
    """The app set to the served index and the openai chat backend at ``chat_url``."""
    served["embeddings"].clear()
    values = {f"EMBEDDING__{k.upper()}": v for k, v in served["embedding"].items()}
    values.update(LLM__BACKEND="openai", LLM__BASE_URL=chat_url, LLM__MODEL="fake-chat", LLM__TIMEOUT="5",
                  LLM__MAX_RETRIES="1")
    values.update(extra)
    rag_env(monkeypatch, served["tmp"], INDEX_DIR=str(served["index"]), ARTICLES_DIR=str(served["articles"]),
            **values)


def chat_requests(server: FakeOpenAIServer) -> int:
    return sum(r.path.endswith("/chat/completions") for r in server.requests)


def assert_cited_answer(at: AppTest, served) -> None:
    """The last turn is a normal answer from the chat server, with citations."""
    no_exceptions(at)
    last = saved(served, at)[-1]
    assert not last.get("error"), last["content"]
    assert last["backend"] == "openai" and last["citations"]
    assert "long-range weapons" in texts(at) and SEED_TITLE in texts(at)


@pytest.mark.parametrize("failure", FAILURES, ids=[f.id for f in FAILURES])
def test_failing_backend_is_a_message_and_the_next_question_is_answered(served, monkeypatch, failure):
    port = urlsplit(closed_port_url()).port
    chat = FakeOpenAIServer(port=port)  # nothing listens there until started
    served_env(served, monkeypatch, chat.base_url, *failure.env)
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
        assert chat_requests(chat) == failure.chat_requests
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
        assert chat_requests(chat) == 2  # the 429, then the retry after retry-after
