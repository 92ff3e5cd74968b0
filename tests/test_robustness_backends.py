"""Failing model servers through the command line: every failure mode gives one
clear message (no traceback), retries stay bounded, and a chat session goes on
answering the next question.

Both servers are real HTTP servers on loopback speaking the OpenAI protocol
(tests/openai_server.py): one for chat, one for embeddings, so that the chat
server can go down and come back while the embedding server stays up. The UI
side of the same failures (tests/backend_failures.py) is in tests/test_ui_failures.py.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import load_settings
from rag.index.building import build_index
from tests.backend_failures import FAILURES, LIMITS
from tests.conftest import REPO, write_article
from tests.openai_server import FakeOpenAIServer, closed_port_url

QUESTION = "What does Ukraine's victory plan ask the West for?"
GOOD_REPLY = "The plan asks for long-range weapons [1]."


@pytest.fixture(scope="module")
def servers():
    with FakeOpenAIServer(dim=32) as chat, FakeOpenAIServer(dim=32) as embeddings:
        yield chat, embeddings


@pytest.fixture(scope="module")
def env(servers, tmp_path_factory) -> dict[str, str]:
    """RAG_* settings for an index built with the loopback embedding server."""
    chat, embeddings = servers
    root = tmp_path_factory.mktemp("backends")
    folder = root / "articles"
    folder.mkdir()
    write_article(folder, "kyiv.md", "Ukraine presents its victory plan",
                  "Ukraine's victory plan asks the West for long-range weapons and an invitation to join NATO. "
                  "Moscow dismissed the plan as unrealistic.", source="Wire Service", published_at="2024-10-16")
    write_article(folder, "tokyo.md", "Tokyo stocks slide", "Stocks in Tokyo fell after the Bank of Japan "
                  "raised interest rates.", source="Market Daily", published_at="2023-09-26")
    values = {
        "RAG_INDEX_DIR": str(root / "index"),
        "RAG_EMBEDDING__BACKEND": "openai", "RAG_EMBEDDING__MODEL": "fake-embed",
        "RAG_EMBEDDING__BASE_URL": embeddings.base_url,
        "RAG_LLM__BACKEND": "openai", "RAG_LLM__MODEL": "fake-chat", "RAG_LLM__BASE_URL": chat.base_url,
        **{f"RAG_{key}": value for key, value in LIMITS.items()},
        "RAG_ANSWER__REWRITE_FOLLOWUPS": "false",  # keep one chat request per question
        "OPENAI_API_KEY": "not-needed",
    }
    os.environ.update(values)
    try:
        build_index(load_settings(), [folder])
    finally:
        for key in values:
            os.environ.pop(key, None)
    return values


def ask(env: dict[str, str], *extra: str):
    return CliRunner().invoke(app, ["ask", QUESTION, *extra], env=env)


def assert_clean_error(result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an uncaught exception
    assert result.stderr.startswith("error: ") and all(w in result.stderr for w in words), result.stderr
    assert "Traceback" not in result.output and result.stdout.strip() == ""


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_ask_reports_each_failure_plainly_with_bounded_retries(failure, servers, env):
    chat, embeddings = servers
    chat.clear()
    embeddings.clear()
    failure.script(chat, embeddings)
    assert_clean_error(ask(env), *failure.words)
    assert len(chat.chat_requests()) == failure.chat_requests
    chat.clear()
    embeddings.clear()
    ok = ask(env)  # the same settings answer once the server behaves
    assert ok.exit_code == 0 and "long-range weapons" in ok.stdout


def test_ask_429_with_retry_after_is_retried_and_answers(servers, env):
    chat, _ = servers
    chat.clear()
    chat.script_rate_limit(retry_after=0.2)
    chat.script_reply(GOOD_REPLY)
    result = ask(env, "--json")
    assert result.exit_code == 0, result.output
    assert '"answer": "The plan asks for long-range weapons [1]."' in result.stdout
    assert len(chat.chat_requests()) == 2


def test_ask_reply_of_bare_markers_is_answered_from_the_sources(servers, env):
    chat, _ = servers
    chat.clear()
    chat.script_reply("[1]")  # says nothing: the sources' best sentences answer instead, no error
    result = ask(env, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["repairs"]["fallback"] == 1 and not data["refused"]
    assert "long-range weapons" in data["answer"] and data["citations"][0]["supported"]


@pytest.mark.parametrize("which", ["chat", "embeddings"])
def test_ask_with_server_down_names_the_address(which, env):
    down = closed_port_url()
    key = "RAG_LLM__BASE_URL" if which == "chat" else "RAG_EMBEDDING__BASE_URL"
    expected = "Could not connect to the chat server" if which == "chat" else "Could not connect to the embedding server"
    result = ask({**env, key: down})
    assert_clean_error(result, expected)
    assert down in result.stderr


class ChatSession:
    """`rag chat` in a child process, driven one question at a time."""

    PROMPT = "you> "

    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from rag.cli import app; app()", "chat"], cwd=REPO, text=True, bufsize=1,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._chunks: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.buffer = ""
        self._read_until_prompt(timeout=60)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read(1):
            self._chunks.put(chunk)

    def _read_until_prompt(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        start = len(self.buffer)
        while not self.buffer[start:].endswith(self.PROMPT):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None and self._chunks.empty():
                raise AssertionError(f"no prompt from rag chat; output so far:\n{self.buffer}")
            try:
                self.buffer += self._chunks.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
        return self.buffer[start:len(self.buffer) - len(self.PROMPT)]

    def ask(self, question: str, timeout: float = 60) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(question + "\n")
        self.proc.stdin.flush()
        return self._read_until_prompt(timeout)

    def close(self) -> int:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("/quit\n")
            self.proc.stdin.flush()
        return self.proc.wait(timeout=30)


def test_chat_session_survives_every_failure_and_a_server_restart(servers, env):
    """One `rag chat` process lives through every failure mode in turn, with a
    good answer after each; then the chat server goes down and comes back."""
    chat, embeddings = servers
    own_chat = FakeOpenAIServer(dim=32).start()  # this one is stopped and restarted below
    session = ChatSession({**env, "RAG_LLM__BASE_URL": own_chat.base_url})
    try:
        for failure in FAILURES:
            embeddings.clear()
            failure.script(own_chat, embeddings)
            reply = session.ask(QUESTION)
            assert "error: " in reply and all(w in reply for w in failure.words), (failure.name, reply)
            assert "Traceback" not in reply
            own_chat.clear()
            embeddings.clear()
            own_chat.script_reply(GOOD_REPLY)
            reply = session.ask(QUESTION)
            assert "long-range weapons" in reply and "Sources:" in reply, (failure.name, reply)

        port = own_chat.port
        own_chat.stop(hold_port=True)  # refused until it comes back; nobody else can take the port
        reply = session.ask(QUESTION)
        assert "Could not connect to the chat server" in reply and str(port) in reply, reply
        own_chat = FakeOpenAIServer(dim=32, port=port).start()  # the server is back
        own_chat.script_reply(GOOD_REPLY)
        reply = session.ask(QUESTION)
        assert "long-range weapons" in reply and "Sources:" in reply, reply
        assert session.close() == 0
    finally:
        if session.proc.poll() is None:
            session.proc.kill()
        own_chat.stop()
