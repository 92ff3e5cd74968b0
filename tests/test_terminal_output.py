"""Control sequences from articles and models never reach the terminal (issue 28 item 5).

Articles whose title, publisher, body and file name carry window-title
(``ESC ] 0;``), hyperlink (``ESC ] 8;;``), clipboard (``ESC ] 52;``) and
screen-clearing (``ESC [ 2J``) sequences, an 8-bit CSI and a right-to-left
override, go through real builds and real commands (typer's CliRunner, which
like a pipe gets no colours, so any control byte in the output came from the
data); the model reply comes from the loopback OpenAI-protocol server.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.cli_output import json_text, terminal_safe
from tests.openai_server import FakeOpenAIServer

TITLE = "\x1b]0;pwned\x07Harbour \x1b]8;;https://evil.example\x1b\\bridge\x1b]8;;\x1b\\ reopens"
SOURCE = "Coast\x1b]52;c;ZWNobyBwd25lZA==\x07 Herald"
BODY = ("\x1b[2JThe harbour bridge reopened on Monday after repairs \x9b31m with new cables. "
        "Engineers replaced the cables \u202eslebac and traffic returned by noon.")
BAD_NAME = "bad\x1b]0;title\x07.json"
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\r")


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


def run(*args, stdin: str | None = None):
    result = CliRunner().invoke(app, list(args), input=stdin)
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    record = {"title": TITLE, "body": BODY, "source": SOURCE, "published_at": "2023-10-02",
              "url": "https://example.org/a"}
    (folder / "harbour\x1b[2J.json").write_text(json.dumps(record))  # JSON escapes: real ESC bytes
    (folder / BAD_NAME).write_text("[1, 2")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(folder))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    return folder


def test_escapes_are_shown_not_sent():
    shown = terminal_safe("a\x1b]0;x\x07b\r\nc\td\x9be\u202ef\x00")
    assert shown == "a\\x1b]0;x\\x07b\\x0d\nc\td\\x9be\\u202ef\\x00"
    assert json.loads(json_text({"t": "x\x1b\x9b\u202e"})) == {"t": "x\x1b\x9b\u202e"}
    assert clean(json_text({"t": "x\x1b\x9b\u202e"}))


def test_index_build_search_ask_chat_and_info_print_no_control_characters(hostile):
    code, out = run("index", "build")
    assert code == 0, out
    assert "skipped" in out and "\\x1b]0;title\\x07" in out and clean(out)
    code, out = run("search", "harbour bridge cables")
    assert code == 0 and "Harbour" in out and "\\x1b]0;pwned" in out and clean(out), out
    code, out = run("ask", "When did the harbour bridge reopen?", "--llm", "extractive")
    assert code == 0 and "Sources" in out and clean(out), out
    code, out = run("chat", "--llm", "extractive", stdin="When did the harbour bridge reopen?\n/quit\n")
    assert code == 0 and "reopened" in out and clean(out), out
    code, out = run("chat", "--llm", "extractive", "--json", stdin="When did the harbour bridge reopen?\n")
    assert code == 0 and clean(out) and json.loads(out.splitlines()[0])["citations"]
    code, out = run("index", "info")
    assert code == 0 and clean(out)
    code, out = run("search", "harbour", "--json")
    assert code == 0 and clean(out) and json.loads(out)[0]["title"] == TITLE


def test_a_model_reply_with_control_sequences_is_escaped(hostile):
    assert run("index", "build")[0] == 0
    with FakeOpenAIServer() as server:
        server.script_reply("\x1b]0;owned\x07The bridge reopened on Monday \x1b[2J[1].")
        code, out = run("ask", "When did the harbour bridge reopen?", "--llm", "openai", "--base-url",
                        server.base_url, "--model", "fake-chat")
    assert code == 0, out
    assert "reopened on Monday" in out and "\\x1b]0;owned" in out and clean(out)


def test_an_error_naming_a_hostile_path_is_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    code, out = run("index", "build", str(tmp_path / "gone\x1b]0;x\x07"), "--index", str(tmp_path / "i"))
    assert code == 1 and "no article found" in out and clean(out)
