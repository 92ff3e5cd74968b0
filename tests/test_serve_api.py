"""`rag serve` through real clients on loopback: the `openai` Python client and plain HTTP
against uvicorn, with the extractive backend and with the loopback OpenAI-protocol test
server behind it (docs/api.md)."""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest
from typer.testing import CliRunner

from rag.cli import app as cli_app
from rag.config import load_settings
from rag.index.building import build_index
from rag.serve.access import Keys
from rag.serve.app import create_app
from rag.serve.service import Service
from tests.openai_server import FakeOpenAIServer
from tests.serve_helpers import SlowExtractiveModel, running

QUESTION = "When did the harbour bridge reopen?"


def make_settings(settings, **sections):
    return load_settings(index_dir=settings.index_dir, articles_dir=settings.articles_dir,
                         embedding={"backend": "hashing"}, **sections)


@pytest.fixture
def built(settings):
    build_index(settings)
    return settings


@pytest.fixture
def extractive(built):
    s = make_settings(built, llm={"backend": "extractive"})
    with running(create_app(s, keys=Keys())) as base:
        yield base, s


def client(base: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=30)


def ask(c: openai.OpenAI, content: str = QUESTION, **kw):
    return c.chat.completions.create(model="article-rag", messages=[{"role": "user", "content": content}], **kw)


def test_answer_carries_the_citations_and_fields_of_rag_ask_json(extractive, monkeypatch):
    base, s = extractive
    message = ask(client(base)).choices[0].message
    extra = message.model_extra
    assert "harbour bridge reopened on Monday" in message.content and "[1]" in message.content
    citation = extra["citations"][0]
    assert (citation["n"], citation["title"], citation["supported"]) == (1, "Harbour bridge reopens", True)
    assert citation["url"] == "https://example.org/a" and "reopened on Monday" in citation["quote"]
    assert extra["refused"] is False and extra["refusal_reason"] is None
    # The same object as `rag ask --json` over the same index (timings aside).
    monkeypatch.setenv("RAG_INDEX_DIR", str(s.index_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    result = CliRunner().invoke(cli_app, ["ask", QUESTION, "--llm", "extractive", "--json"])
    cli = json.loads(result.stdout)
    api = {"answer": message.content, **extra}
    for d in (cli, api):
        d.pop("timings")
    assert api == cli


def test_stream_sends_the_same_checked_text_then_citations_and_done(extractive):
    base, _ = extractive
    c = client(base)
    whole = ask(c).choices[0].message
    text, last, usage = "", None, None
    for chunk in ask(c, stream=True, stream_options={"include_usage": True}):
        if not chunk.choices:
            usage = chunk.usage
            continue
        text += chunk.choices[0].delta.content or ""
        if chunk.choices[0].finish_reason:
            last = chunk.choices[0]
    assert text == whole.content
    assert last.finish_reason == "stop"
    assert last.delta.model_extra["citations"] == whole.model_extra["citations"]
    assert usage.prompt_tokens > 0
    with httpx.stream("POST", f"{base}/v1/chat/completions", json={
            "model": "article-rag", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["object"] == "chat.completion.chunk"


def test_refusal_is_typed(extractive):
    base, _ = extractive
    extra = ask(client(base), "What did the Financial Times report about the election?").choices[0].message.model_extra
    assert extra["refused"] is True and extra["refusal_reason"] == "unknown_outlet"
    assert extra["citations"] == []


def test_filters_in_extra_body_reach_the_search(extractive):
    base, _ = extractive
    c = client(base)
    extra = ask(c, "striker contract", extra_body={"filters": {"sources": ["Tech Wire"]}}).choices[0].message.model_extra
    assert {p["source"] for p in extra["passages"]} <= {"Tech Wire"}
    with pytest.raises(openai.BadRequestError) as err:
        ask(c, extra_body={"filters": {"since": "last week"}})
    assert "filters.since" in str(err.value)


def test_search_index_and_article_match_the_cli(extractive, monkeypatch):
    base, s = extractive
    monkeypatch.setenv("RAG_INDEX_DIR", str(s.index_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    rows = httpx.post(f"{base}/v1/search", json={"query": "striker contract", "k": 2,
                                                 "filters": {"since": "2023-11-01"}}).json()
    cli = CliRunner().invoke(cli_app, ["search", "striker contract", "-k", "2", "--since", "2023-11-01", "--json"])
    assert rows == json.loads(cli.stdout) and rows
    info = httpx.get(f"{base}/v1/index").json()
    assert info == json.loads(CliRunner().invoke(cli_app, ["index", "info", "--json"]).stdout)
    article = httpx.get(f"{base}/v1/articles/{rows[0]['article_id']}").json()
    assert article["title"] == rows[0]["title"] and "four-year contract" in article["text"]
    assert article["file"] == "b.md"  # the name only, never the server's path
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert [m.id for m in client(base).models.list()] == ["article-rag"]


BAD_BODIES = [
    ("{bad json", 400, "invalid_json", None),
    ("[1, 2]", 400, "invalid_body", None),
    ('{"model": "article-rag", "messages": []}', 400, "invalid_value", "messages"),
    ('{"model": "article-rag", "messages": [{"role": "user", "content": 5}]}', 400, "invalid_value",
     "messages.0.content"),
    ('{"model": "article-rag", "messages": [{"role": "user", "content": "  "}]}', 400, "invalid_value",
     "messages.0.content"),
    ('{"model": "article-rag", "messages": [{"role": "assistant", "content": "hi"}]}', 400, "invalid_value",
     "messages.0.role"),
    ('{"model": "article-rag", "stream": "yes please", "messages": [{"role": "user", "content": "q"}]}', 400,
     "invalid_value", "stream"),
    ('{"model": "article-rag", "messages": [{"role": "user", "content": "q"}], "base_url": "http://x"}', 400,
     "unknown_field", "base_url"),
    ('{"model": "article-rag", "messages": [{"role": "user", "content": "q"}], "backend": "openai"}', 400,
     "unknown_field", "backend"),
    ('{"model": "/models/other.gguf", "messages": [{"role": "user", "content": "q"}]}', 404,
     "model_not_found", "model"),
    (json.dumps({"model": "article-rag", "messages": [{"role": "user", "content": "x" * 100_000}]}), 413,
     "question_too_long", "messages.0.content"),
]


@pytest.mark.parametrize("body,status,code,param", BAD_BODIES)
def test_bad_input_gets_a_4xx_naming_the_field_and_the_server_keeps_serving(extractive, body, status, code, param):
    base, _ = extractive
    r = httpx.post(f"{base}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert (error["code"], error["param"]) == (code, param) and error["message"]
    assert ask(client(base)).choices[0].message.model_extra["citations"]


def test_errors_through_the_openai_client(extractive):
    base, _ = extractive
    c = client(base)
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": QUESTION}])
    with pytest.raises(openai.APIStatusError) as err:
        ask(c, "x" * 100_000)
    assert err.value.status_code == 413
    with pytest.raises(openai.BadRequestError) as err:
        ask(c, extra_body={"model_path": "/etc/passwd"})
    assert "model_path" in err.value.message
    r = httpx.get(f"{base}/v1/articles/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "article_not_found"
    r = httpx.post(f"{base}/v1/search", json={"query": "x", "k": "many"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "k"


def test_a_failing_backend_is_a_502_and_a_crash_a_500_without_traceback(built):
    with FakeOpenAIServer() as srv:
        s = make_settings(built, llm={"backend": "openai", "base_url": srv.base_url, "model": "fake-chat",
                                      "max_retries": 0})
        with running(create_app(s, keys=Keys())) as base:
            srv.script_error(500, message="upstream exploded", times=5)
            with pytest.raises(openai.APIStatusError) as err:
                ask(client(base))
            assert err.value.status_code == 502 and "500" in err.value.message
            with pytest.raises(openai.APIError) as err:  # mid-stream: an error event, then [DONE]
                list(ask(client(base), stream=True))
            assert "500" in err.value.message

    class Broken(SlowExtractiveModel):
        def stream(self, messages, **options):
            raise ZeroDivisionError("secret internals")
            yield ""

    s = make_settings(built, llm={"backend": "extractive"})
    with running(create_app(s, Service(s, chat_model=Broken()), keys=Keys())) as base:
        r = httpx.post(f"{base}/v1/chat/completions",
                       json={"model": "article-rag", "messages": [{"role": "user", "content": QUESTION}]})
        assert r.status_code == 500
        assert "ZeroDivisionError" in r.json()["error"]["message"]
        assert "Traceback" not in r.text and "secret internals" not in r.text
        assert httpx.get(f"{base}/healthz").status_code == 200


def test_the_openai_compatible_server_behind_it_and_a_follow_up_rewrite(built):
    with FakeOpenAIServer() as srv:
        s = make_settings(built, llm={"backend": "openai", "base_url": srv.base_url, "model": "fake-chat"})
        with running(create_app(s, keys=Keys())) as base:
            c = client(base)
            srv.script_reply("The harbour bridge reopened on Monday [1].")
            first = ask(c).choices[0].message
            assert first.model_extra["citations"][0]["title"] == "Harbour bridge reopens"
            srv.clear()
            srv.script_reply("When did engineers replace the harbour bridge cables?",
                             "Engineers replaced the cables [1].")
            chunks = list(c.chat.completions.create(model="article-rag", stream=True, messages=[
                {"role": "system", "content": "ignored"},
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": first.content},
                {"role": "user", "content": "And the cables?"}]))
            text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
            extra = next(ch.choices[0].delta.model_extra for ch in chunks if ch.choices and ch.choices[0].finish_reason)
            assert extra["standalone_question"] == "When did engineers replace the harbour bridge cables?"
            assert "replaced the cables [1]" in text and extra["citations"][0]["supported"]
            rewrite_prompt = json.dumps(srv.chat_requests()[0].body["messages"])
            assert "harbour bridge reopen" in rewrite_prompt and "And the cables?" in rewrite_prompt
            assert all("ignored" not in json.dumps(r.body) for r in srv.chat_requests())


def test_a_full_queue_is_a_503_with_retry_after_and_a_disconnect_frees_the_model(built):
    s = make_settings(built, serve={"max_queue": 0})  # llama-cpp backend named: one answer at a time
    model = SlowExtractiveModel(delay=0.05)
    service = Service(s, chat_model=model)
    body = {"model": "article-rag", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with running(create_app(s, service, keys=Keys())) as base:
        with httpx.Client(timeout=30) as first:
            with first.stream("POST", f"{base}/v1/chat/completions", json=body) as r:
                lines = r.iter_lines()
                next(lines)  # the role chunk: the answer is being written
                deadline = time.monotonic() + 5
                while not model.streaming and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert model.streaming == 1
                busy = httpx.post(f"{base}/v1/chat/completions", json={**body, "stream": False})
                assert busy.status_code == 503 and int(busy.headers["retry-after"]) >= 1
                assert busy.json()["error"]["code"] == "server_busy"
                left = time.monotonic()
        # The client went away mid-answer: the model stops within a second.
        while model.streaming and time.monotonic() - left < 5:
            time.sleep(0.01)
        assert model.streaming == 0 and model.freed_at - left < 1.0
        deadline = time.monotonic() + 2
        while service.answer_gate.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert service.answer_gate.running == 0
        assert ask(client(base)).choices[0].message.model_extra["citations"]


def test_answers_run_in_parallel_up_to_max_concurrency(built):
    s = make_settings(built, llm={"backend": "extractive"}, serve={"max_concurrency": 3, "max_queue": 10})
    model = SlowExtractiveModel(delay=0.02)
    service = Service(s, chat_model=model)
    peak = []
    with running(create_app(s, service, keys=Keys())) as base:
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak.append(model.streaming)
                time.sleep(0.005)

        watcher = threading.Thread(target=watch)
        watcher.start()
        results = []
        threads = [threading.Thread(target=lambda: results.append(ask(client(base)))) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        watcher.join()
    assert len(results) == 6 and max(peak) == 3
