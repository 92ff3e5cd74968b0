"""Sanity checks of the loopback OpenAI server with the real ``openai`` client."""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from tests.openai_server import FakeOpenAIServer, closed_port_url, hash_embedding

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def _client(srv: FakeOpenAIServer, **kw) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    return openai.OpenAI(base_url=srv.base_url, api_key="sk-test-123", **kw)


def test_models_and_embeddings(server):
    client = _client(server)
    assert [m.id for m in client.models.list()] == ["fake-chat", "fake-embed"]

    resp = client.embeddings.create(model="fake-embed", input=["the cat sat", "the cat sat down", "stock markets fell"])
    vecs = [d.embedding for d in resp.data]
    assert all(len(v) == 32 for v in vecs)
    assert all(math.isclose(sum(x * x for x in v), 1.0, rel_tol=1e-4) for v in vecs)
    cos = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    assert cos(vecs[0], vecs[1]) > cos(vecs[0], vecs[2])
    assert resp.usage.prompt_tokens > 0
    # float encoding, single string input, same deterministic vector
    single = client.embeddings.create(model="fake-embed", input="the cat sat", encoding_format="float")
    assert single.data[0].embedding == pytest.approx(hash_embedding("the cat sat"), abs=1e-6)

    server.script_wrong_dim(7)
    assert len(client.embeddings.create(model="x", input="hi").data[0].embedding) == 7

    path, body, headers = server.requests[-1]
    assert path == "/v1/embeddings" and body["input"] == "hi"
    assert headers["authorization"] == "Bearer sk-test-123"


def test_chat_plain_and_streamed(server):
    client = _client(server)
    server.script_reply("Hello there [1].", "Streamed words come in pieces.")
    msgs = [{"role": "user", "content": "hi"}]
    resp = client.chat.completions.create(model="fake-chat", messages=msgs)
    assert resp.choices[0].message.content == "Hello there [1]."
    assert resp.choices[0].finish_reason == "stop"

    stream = client.chat.completions.create(model="fake-chat", messages=msgs, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Streamed words come in pieces."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 5

    # empty queue: default reply
    resp = client.chat.completions.create(model="fake-chat", messages=msgs)
    assert resp.choices[0].message.content == server.default_reply


def test_failures(server):
    client = _client(server)
    msgs = [{"role": "user", "content": "hi"}]

    server.script_error(500)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=msgs)

    server.script_rate_limit(retry_after=0.2)
    server.script_reply("after the wait")
    t0 = time.monotonic()
    resp = _client(server, max_retries=1).chat.completions.create(model="m", messages=msgs)
    assert resp.choices[0].message.content == "after the wait"
    assert time.monotonic() - t0 >= 0.15  # the client honoured retry-after

    server.script_delay(2.0)
    with pytest.raises(openai.APITimeoutError):
        _client(server, timeout=0.3).chat.completions.create(model="m", messages=msgs)

    server.script_cut_stream("one two three four five", after_chunks=2)
    stream = client.chat.completions.create(model="m", messages=msgs, stream=True)
    got = []
    with pytest.raises(Exception):
        for chunk in stream:
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "one two "

    server.script_empty_reply()
    assert client.chat.completions.create(model="m", messages=msgs).choices[0].message.content == ""

    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=closed_port_url(), api_key="k", max_retries=0, timeout=2).models.list()


def test_auth_and_strict_models():
    with FakeOpenAIServer(api_key="right", strict_models=True) as srv:
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=srv.base_url, api_key="wrong", max_retries=0).models.list()
        client = openai.OpenAI(base_url=srv.base_url, api_key="right", max_retries=0)
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])


def test_command_line_server():
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.openai_server", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/models", timeout=5) as resp:
            assert json.load(resp)["data"][0]["id"] == "fake-chat"
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_closed_port_stays_closed_to_others_until_a_server_takes_it_over():
    url = closed_port_url()
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as other, pytest.raises(OSError):  # no other process can take it meanwhile
        other.bind(("127.0.0.1", port))
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=2).models.list()
    with FakeOpenAIServer(port=port) as srv:  # the server "comes back" on the same URL
        assert srv.base_url == url
        assert openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=5).models.list().data


def test_stopped_server_holds_its_port_until_it_comes_back():
    srv = FakeOpenAIServer().start()
    url, port = srv.base_url, srv.port
    assert openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=5).models.list().data
    srv.stop(hold_port=True)
    with socket.socket() as other, pytest.raises(OSError):
        other.bind(("127.0.0.1", port))
    with pytest.raises(openai.APIConnectionError):
        openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=2).models.list()
    with FakeOpenAIServer(port=port) as back:
        assert back.base_url == url
        assert openai.OpenAI(base_url=url, api_key="k", max_retries=0, timeout=5).models.list().data
