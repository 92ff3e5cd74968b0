"""Safe to share (docs/security.md): where API keys go, which links survive in
answers and in the Markdown export, conversation ids, and when the UI offers
the operator controls.

Keys are checked against a real loopback server speaking the OpenAI protocol
(tests/openai_server.py) that records each request's ``Authorization`` header,
through the library and through the ``rag`` command. The UI's side is in
tests/test_ui_access.py.
"""

from __future__ import annotations

import json
import re

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from rag.answer.conversations import ConversationError, ConversationStore
from rag.cli import app
from rag.config import (
    EmbeddingSettings,
    LLMSettings,
    Settings,
    UISettings,
    load_settings,
    updated,
)
from rag.embed.openai_compatible import OpenAIEmbedder
from rag.errors import ConfigError
from rag.index.building import build_index
from rag.llm.openai_compatible import OpenAIChatModel
from rag.openai_api import is_openai_endpoint, server_key
from rag.ui.access import ui_admin
from rag.ui.markdown_text import answer_markdown, md_escape, safe_url
from rag.ui.messages import conversation_markdown
from tests.openai_server import FakeOpenAIServer

PROCESS_KEY = "sk-process-OPENAI-key-0123456789"  # the operator's OpenAI key
OWN_KEY = "sk-own-key-for-this-server-4567"
MESSAGES = [{"role": "user", "content": "What reopened?"}]


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def operator_env(monkeypatch):
    """The process holds an OpenAI key (and organisation), as on an operator's machine."""
    monkeypatch.setenv("OPENAI_API_KEY", PROCESS_KEY)
    monkeypatch.setenv("OPENAI_ORG_ID", "org-operator")
    monkeypatch.setenv("OWN_SERVER_KEY", OWN_KEY)
    monkeypatch.delenv("RAG_LLM__API_KEY_ENV", raising=False)
    monkeypatch.delenv("RAG_EMBEDDING__API_KEY_ENV", raising=False)


def sent_nothing_secret(srv: FakeOpenAIServer) -> bool:
    return all(PROCESS_KEY not in json.dumps(r.headers) and "org-operator" not in json.dumps(r.headers)
               for r in srv.requests)


# -- keys: the library ---------------------------------------------------------------


def test_another_server_never_gets_the_process_key(server, operator_env):
    chat = OpenAIChatModel(LLMSettings(backend="openai", base_url=server.base_url, model="fake-chat"))
    assert chat.complete(MESSAGES).strip()
    OpenAIEmbedder(EmbeddingSettings(backend="openai", base_url=server.base_url, model="fake-embed"))
    paths = [r.path for r in server.requests]
    assert "/v1/chat/completions" in paths and "/v1/embeddings" in paths
    assert server.authorizations() == [None] * len(paths)  # no Authorization header at all
    assert sent_nothing_secret(server)


def test_a_key_variable_named_for_the_server_is_sent_to_it(server, operator_env):
    chat = OpenAIChatModel(LLMSettings(backend="openai", base_url=server.base_url, model="fake-chat",
                                       api_key_env="OWN_SERVER_KEY"))
    chat.complete(MESSAGES)
    OpenAIEmbedder(EmbeddingSettings(backend="openai", base_url=server.base_url, model="fake-embed",
                                     api_key_env="OWN_SERVER_KEY"))
    assert set(server.authorizations()) == {f"Bearer {OWN_KEY}"}
    assert sent_nothing_secret(server)


def test_a_key_given_in_code_is_sent_and_never_dumped(server, operator_env):
    settings = LLMSettings(backend="openai", base_url=server.base_url, model="fake-chat",
                           api_key=SecretStr(OWN_KEY))
    OpenAIChatModel(settings).complete(MESSAGES)
    assert server.authorizations() == [f"Bearer {OWN_KEY}"]
    for shown in (repr(settings), str(settings), settings.model_dump_json(), json.dumps(settings.model_dump()),
                  Settings(llm=settings).model_dump_json(), repr(OpenAIChatModel(settings))):
        assert OWN_KEY not in shown


def test_key_rule_table(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", PROCESS_KEY)
    monkeypatch.setenv("OWN_SERVER_KEY", OWN_KEY)
    local = "http://127.0.0.1:11434/v1"
    assert server_key(None, None, None, "RAG_LLM").value == PROCESS_KEY  # OpenAI's own endpoint
    assert server_key("https://api.openai.com/v1", None, None, "RAG_LLM").value == PROCESS_KEY
    for other in (local, "https://api.openai.com.evil.example/v1", "https://api.openai.com@evil.example/v1",
                  "http://api.openai.com/v1", "https://evil.example/api.openai.com/v1"):
        assert not is_openai_endpoint(other), other
        assert server_key(other, None, None, "RAG_LLM").value is None, other
    assert server_key(local, None, "OWN_SERVER_KEY", "RAG_LLM").value == OWN_KEY
    assert server_key(local, SecretStr(OWN_KEY), None, "RAG_LLM").value == OWN_KEY
    monkeypatch.delenv("OWN_SERVER_KEY")
    with pytest.raises(ConfigError, match="OWN_SERVER_KEY"):
        server_key(local, None, "OWN_SERVER_KEY", "RAG_LLM")
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        server_key(None, None, None, "RAG_EMBEDDING")


def test_a_new_url_does_not_inherit_the_configured_key(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "rag.toml"))
    (tmp_path / "rag.toml").write_text('[llm]\nbackend = "openai"\nbase_url = "http://configured:8080/v1"\n'
                                       'api_key_env = "OWN_SERVER_KEY"\n')
    for key in ("RAG_LLM__BASE_URL", "RAG_LLM__API_KEY_ENV"):
        monkeypatch.delenv(key, raising=False)
    assert load_settings().llm.api_key_env == "OWN_SERVER_KEY"
    assert load_settings(llm={"model": "m"}).llm.api_key_env == "OWN_SERVER_KEY"  # same server
    assert load_settings(llm={"base_url": "http://configured:8080/v1"}).llm.api_key_env == "OWN_SERVER_KEY"
    moved = load_settings(llm={"base_url": "http://elsewhere:9/v1"}).llm
    assert moved.api_key_env is None and moved.api_key is None
    named = load_settings(llm={"base_url": "http://elsewhere:9/v1", "api_key_env": "OTHER"}).llm
    assert named.api_key_env == "OTHER"
    keyed = LLMSettings(base_url="http://a/v1", api_key=SecretStr(OWN_KEY))
    assert updated(keyed, model="m").api_key.get_secret_value() == OWN_KEY
    assert updated(keyed, base_url="http://b/v1").api_key is None


# -- keys: the `rag` command ----------------------------------------------------------


@pytest.fixture
def cli_env(settings, operator_env, monkeypatch):
    build_index(settings)
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    monkeypatch.setenv("RAG_LLM__MAX_RETRIES", "0")
    return settings


def test_cli_base_url_gets_no_process_key_unless_a_variable_is_named(cli_env, server):
    server.script_reply("The harbour bridge reopened on Monday [1].", "It reopened on Monday [1].")
    ask = ["ask", "When did the harbour bridge reopen?", "--llm", "openai", "--base-url", server.base_url,
           "--model", "fake-chat", "--json"]
    result = CliRunner().invoke(app, ask)
    assert result.exit_code == 0, result.output
    assert "reopened on Monday" in json.loads(result.stdout)["answer"]
    assert server.authorizations() == [None] * len(server.requests) and sent_nothing_secret(server)

    server.clear()
    result = CliRunner().invoke(app, [*ask, "--api-key-env", "OWN_SERVER_KEY"])
    assert result.exit_code == 0, result.output
    assert server.authorizations() and set(server.authorizations()) == {f"Bearer {OWN_KEY}"}


# -- links in answers and in the export ------------------------------------------------

HOSTILE = ("Read the [full budget](javascript:alert(document.cookie)) or [this](data:text/html,<b>x</b>) "
           "or [that](vbscript:msgbox) or [there](/etc/passwd) or [up](JavaScript:x) or [img](http://x/y.png) "
           "![pixel](https://tracker.example/p.gif) [ref]: javascript:z and [see][ref] mail evil@example.org "
           "<a href='javascript:y'>a</a> [good](https://example.org/report) [1]")


def links(markdown: str) -> list[str]:
    """Link targets a CommonMark/GFM renderer would see: [text](target) not preceded by a backslash."""
    return re.findall(r"(?<!\\)\]\(([^)]*)\)", markdown)


def test_answer_keeps_only_http_links_and_source_anchors():
    out = answer_markdown(HOSTILE, "ab12", 1)
    # The image becomes a plain link after a literal "!": nothing is fetched.
    assert links(out) == ["http://x/y.png", "https://tracker.example/p.gif", "https://example.org/report",
                          "#src-ab12-1"]
    assert "\\[full budget\\](javascript:alert(document.cookie))" in out  # shown as text
    assert re.search(r"(?<!\\)[<>!@]", out) is None  # no HTML, image or mailto: autolink
    assert re.search(r"(?<!\\)\[(?!good\]|img\]|pixel\]|\\\[1)", out) is None  # no other bracket opens a link


def test_export_keeps_only_http_links():
    messages = [
        {"role": "user", "content": "Why [click](javascript:alert(1)) <img src=x onerror=alert(2)>?"},
        {"role": "assistant", "content": HOSTILE, "backend": "extractive", "model": "extractive",
         "citations": [
             {"n": 1, "title": "Budget [x](javascript:1) <script>s()</script>", "source": "Gazette",
              "published_at": "2024-03-05", "url": "javascript:alert(3)", "quote": "<b>quoted</b> [q](data:x)"},
             {"n": 2, "title": "Fine", "url": "https://example.org/fine?a=1&b=<2>", "quote": "ok"}]},
        {"role": "assistant", "error": True, "content": "failed [e](javascript:e) <i>"},
    ]
    md = conversation_markdown(messages)
    # An image is not even a link in the export: nothing is fetched, nothing points at the tracker.
    assert links(md) == ["http://x/y.png", "https://example.org/report"]
    assert re.findall(r"(?<!\\)<([^>]*)>", md) == ["https://example.org/fine?a=1&b=%3C2%3E"]  # autolinks
    for tag in ("script", "img", "b", "i", "a"):
        assert re.search(rf"(?<!\\)<{tag}\b", md) is None, tag  # every one escaped
    assert re.search(r"(?<!\\)!\[", md) is None  # no image
    assert re.search(r"^\s{0,3}(?<!\\)\[[^\]]*\]:", md, re.MULTILINE) is None  # no reference definition
    assert "(javascript:alert(3))" in md  # the unsafe source URL shown as text, not a link


def test_safe_url_and_escaped_mail_addresses():
    assert safe_url("https://example.org/a b") == "https://example.org/a%20b"
    for bad in ("javascript:alert(1)", " JAVASCRIPT:x", "data:text/html,x", "vbscript:x", "/relative",
                "//host/path", "example.org", "https://", None, ""):
        assert safe_url(bad) is None, bad
    # A backslash alone does not stop remark-gfm's address links (the browser test shows it):
    # a word joiner after "@" does.
    assert md_escape("write to evil@example.org") == "write to evil\\@\u2060example\\.org"
    assert "\\@\u2060example" in answer_markdown("write to evil@example.org", "m", 0)


# -- conversation ids ------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["0" * 32 + "\n", "0" * 32 + "\r\n", "\n" + "0" * 32, "0" * 31 + "\n"])
def test_conversation_id_must_match_whole(tmp_path, bad):
    store = ConversationStore(tmp_path)
    assert not store.is_valid_id(bad)
    with pytest.raises(ConversationError):
        store.save(bad, [])
    assert list(tmp_path.iterdir()) == []


# -- operator controls -----------------------------------------------------------------


@pytest.mark.parametrize("address, admin", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.0.2", True),
    (None, False), ("", False), ("0.0.0.0", False), ("::", False), ("192.168.1.20", False),
    ("example.org", False),
])
def test_operator_controls_default_to_loopback_only(address, admin):
    for setting, expected in ((None, admin), (True, True), (False, False)):
        assert ui_admin(Settings(ui=UISettings(admin=setting)), address) is expected
    # Through a reverse proxy on the same machine, visitors are not the operator.
    assert ui_admin(Settings(ui=UISettings(admin=None)), address, forwarded=True) is False
    assert ui_admin(Settings(ui=UISettings(admin=True)), address, forwarded=True) is True


@pytest.mark.parametrize("host, admin", [
    ("localhost:8501", True), ("127.0.0.1:8501", True), ("[::1]:8501", True), ("localhost", True),
    ("evil.example:8501", False), ("evil.example", False), ("foo.localhost:8501", False),
    ("localhost.:8501", False), ("127.0.0.1.nip.io:8501", False), ("localhost@evil.example", False),
    ("", False),
])
def test_operator_controls_need_a_loopback_host_header(host, admin):
    """DNS rebinding: a page under a name that resolves to 127.0.0.1 is a visitor."""
    from rag.ui.access import PageRequest

    default = Settings(ui=UISettings(admin=None))
    assert ui_admin(default, "127.0.0.1", request=PageRequest(host=host)) is admin
    assert ui_admin(default, "127.0.0.1", request=PageRequest(host=host, peer="192.168.1.20")) is False
    assert ui_admin(default, "127.0.0.1", request=PageRequest(host=host, forwarded=True)) is False
    assert ui_admin(Settings(ui=UISettings(admin=True)), "127.0.0.1", request=PageRequest(host=host)) is True


def test_a_server_that_wants_a_key_says_how_to_name_one(operator_env):
    from rag.errors import BackendError

    with FakeOpenAIServer(api_key=OWN_KEY) as srv:
        chat = OpenAIChatModel(LLMSettings(backend="openai", base_url=srv.base_url, model="fake-chat",
                                           max_retries=0))
        with pytest.raises(BackendError, match="RAG_LLM__API_KEY_ENV") as err:
            chat.complete(MESSAGES)
        assert "none is sent" in str(err.value) and sent_nothing_secret(srv)


# -- redirects ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [307, 302])
def test_a_redirect_to_another_server_is_not_followed(operator_env, status):
    """A server answering with a redirect never gets the prompt re-sent elsewhere (chat and embedder)."""
    from rag.errors import BackendError, EmbedderError

    with FakeOpenAIServer() as first, FakeOpenAIServer() as elsewhere:
        first.script_redirect(elsewhere.base_url + "/chat/completions", status)
        chat = OpenAIChatModel(LLMSettings(backend="openai", base_url=first.base_url, model="fake-chat",
                                           max_retries=0))
        with pytest.raises(BackendError, match=f"redirect \\(HTTP {status}\\)") as err:
            chat.complete([{"role": "user", "content": "What did the secret article say?"}])
        assert elsewhere.base_url in str(err.value) and "RAG_LLM__BASE_URL" in str(err.value)
        first.script_redirect(elsewhere.base_url + "/embeddings", status, endpoint="embeddings")
        with pytest.raises(EmbedderError, match="redirect"):
            OpenAIEmbedder(EmbeddingSettings(backend="openai", base_url=first.base_url, model="fake-embed",
                                             max_retries=0)).embed(["the secret article"])
        assert elsewhere.requests == [], [r.path for r in elsewhere.requests]
