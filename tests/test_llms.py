"""Chat models: the OpenAI backend against a loopback server, the extractive
model, the llama.cpp backend on SmolLM2, the default-model assembly, and one
contract that every ChatModel implementation must pass."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from rag.config import LLMSettings
from rag.errors import BackendError, ConfigError
from rag.llm import packaged_gguf
from rag.llm.base import ChatModel
from rag.llm.extractive import ExtractiveChatModel
from rag.llm.openai_compatible import OpenAIChatModel
from rag.llm.registry import CHAT_MODELS, make_chat_model
from rag.llm.sources import QUESTION_PREFIX, format_source, format_sources, read_question, read_sources
from rag.testing.chat_model import PASSAGES, ChatModelContract, prompt_messages
from tests.conftest import SMOLLM2_FILE, smollm2_path  # noqa: F401
from tests.openai_server import FakeOpenAIServer, closed_port_url

KEY_ENV = "RAG_TEST_LLM_KEY"
SECRET = "sk-test-SECRET-0123456789"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SECRET


def openai_settings(srv_or_url, **kw) -> LLMSettings:
    url = srv_or_url if isinstance(srv_or_url, str) else srv_or_url.base_url
    kw.setdefault("timeout", 5.0)
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key_env", KEY_ENV)
    return LLMSettings(backend="openai", base_url=url, **kw)


# -- OpenAI-compatible backend ---------------------------------------------------------


def test_openai_streams_and_completes(server, key):
    model = OpenAIChatModel(openai_settings(server, model="fake-chat", max_answer_tokens=50))
    server.script_reply("Paris is the capital [1].", "Plain reply.")
    deltas = list(model.stream(MESSAGES))
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    assert "".join(deltas) == "Paris is the capital [1]."
    assert model.complete(MESSAGES, max_tokens=7) == "Plain reply."
    first, second = server.chat_requests()
    assert first.body["stream"] is True and first.body["model"] == "fake-chat"
    assert first.body["messages"] == MESSAGES and first.body["max_tokens"] == 50
    assert second.body["max_tokens"] == 7
    assert first.headers["authorization"] == f"Bearer {SECRET}"


def test_openai_model_picked_from_server(server, monkeypatch):
    model = OpenAIChatModel(openai_settings(server, api_key_env=None))  # a local server needs no key
    assert model.model == "fake-chat"
    assert server.requests[0].path == "/v1/models"
    assert "authorization" not in server.requests[0].headers
    assert model.complete(MESSAGES) == server.default_reply


def test_openai_hosted_defaults_and_missing_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ConfigError, match=KEY_ENV):
        OpenAIChatModel(LLMSettings(backend="openai", api_key_env=KEY_ENV))
    monkeypatch.setenv(KEY_ENV, SECRET)
    model = OpenAIChatModel(LLMSettings(backend="openai", api_key_env=KEY_ENV))
    assert model.model == "gpt-4o-mini"  # no request made
    assert SECRET not in repr(model) and SECRET not in str(model)


def test_openai_bad_key_names_env_var_not_value(key):
    with FakeOpenAIServer(api_key="the-right-key") as srv:
        model = OpenAIChatModel(openai_settings(srv, model="fake-chat"))
        with pytest.raises(BackendError) as err:
            model.complete(MESSAGES)
    msg = str(err.value)
    assert "401" in msg and KEY_ENV in msg and SECRET not in msg
    assert SECRET not in repr(err.value) and err.value.__cause__ is None


def test_openai_server_error_message_is_scrubbed(server, key):
    server.script_error(500, message=f"upstream said key {SECRET} is odd")
    with pytest.raises(BackendError) as err:
        OpenAIChatModel(openai_settings(server, model="m")).complete(MESSAGES)
    assert "500" in str(err.value) and server.base_url in str(err.value)
    assert SECRET not in str(err.value)


def test_openai_500_bounded_retries(server, key):
    server.script_error(500, retry_after=0.01, times=10)
    with pytest.raises(BackendError, match="HTTP 500 after 3 tries"):
        OpenAIChatModel(openai_settings(server, model="m", max_retries=2)).complete(MESSAGES)
    assert len(server.chat_requests()) == 3


def test_openai_429_retry_after_then_success(server, key):
    server.script_rate_limit(retry_after=0.2)
    server.script_reply("after waiting")
    model = OpenAIChatModel(openai_settings(server, model="m", max_retries=2))
    t0 = time.monotonic()
    assert model.complete(MESSAGES) == "after waiting"
    assert time.monotonic() - t0 >= 0.15
    assert len(server.chat_requests()) == 2


def test_openai_429_exhausted(server, key):
    server.script_rate_limit(retry_after=0.01, times=5)
    with pytest.raises(BackendError, match="429"):
        OpenAIChatModel(openai_settings(server, model="m", max_retries=1)).complete(MESSAGES)


def test_openai_timeout(server, key):
    server.script_delay(5.0)
    model = OpenAIChatModel(openai_settings(server, model="m", timeout=0.3))
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="did not answer within 0.3 s"):
        model.complete(MESSAGES)
    assert time.monotonic() - t0 < 3


def test_openai_cut_stream(server, key):
    server.script_cut_stream("one two three four five", after_chunks=2)
    got = []
    with pytest.raises(BackendError, match="cut off"):
        for delta in OpenAIChatModel(openai_settings(server, model="m")).stream(MESSAGES):
            got.append(delta)
    assert "".join(got) == "one two "


def test_openai_empty_reply(server, key):
    server.script_empty_reply()
    with pytest.raises(BackendError, match="empty reply"):
        OpenAIChatModel(openai_settings(server, model="m")).complete(MESSAGES)


def test_openai_connection_refused(key):
    url = closed_port_url()
    model = OpenAIChatModel(openai_settings(url, model="m"))
    with pytest.raises(BackendError, match="is the server running at") as err:
        model.complete(MESSAGES)
    assert url in str(err.value)
    with pytest.raises(BackendError, match="is the server running"):
        OpenAIChatModel(openai_settings(url)).model  # auto-pick needs the server too


def test_openai_unknown_model_lists_available(key):
    with FakeOpenAIServer(strict_models=True) as srv:
        with pytest.raises(BackendError, match="no model 'nope'") as err:
            OpenAIChatModel(openai_settings(srv, model="nope")).complete(MESSAGES)
    assert "fake-chat" in str(err.value) and "RAG_LLM__MODEL" in str(err.value)


# -- extractive ---------------------------------------------------------------------------


def test_extractive_quotes_best_sentences_with_markers():
    model = ExtractiveChatModel(LLMSettings(backend="extractive"))
    assert model.can_rewrite is False
    text = model.complete(prompt_messages("Which city is the capital of France?"))
    assert text.startswith("No language model was used")
    assert "Paris is the capital of France and its largest city [1]." in text
    assert "Tokyo" not in text and "Article 1" not in text  # label lines are not quoted
    other = model.complete(prompt_messages("Why did stock markets fall in Tokyo?"))
    assert "[2]." in other and "[1]" not in other


def test_extractive_says_when_nothing_matches():
    text = ExtractiveChatModel().complete(prompt_messages("Who won the cricket?"))
    assert "do not appear to answer" in text and "[" not in text
    assert "do not appear to answer" in ExtractiveChatModel().complete(MESSAGES)  # no sources at all


def test_sources_read_back_from_the_prompt():
    tricky = ["First line.\n\n[3] looks like a label but is text.", "Second [1] source.\nQuestion: not this one"]
    prompt = prompt_messages("What is it?", tricky)[-1]["content"]
    blocks = read_sources(prompt)
    assert [(b.n, b.text) for b in blocks] == [(1, tricky[0]), (2, tricky[1])]
    assert blocks[0].label == "Article 1 — Wire, October 1, 2023"
    assert read_question(prompt) == "What is it?"
    assert read_sources("no sources here") == [] and read_question("Question: Why?") == "Why?"


# -- registry -------------------------------------------------------------------------


def test_registry(server, key):
    assert set(CHAT_MODELS) == {"openai", "llama-cpp", "extractive"}
    assert isinstance(make_chat_model(LLMSettings(backend="extractive")), ExtractiveChatModel)
    assert isinstance(make_chat_model(openai_settings(server)), OpenAIChatModel)
    with pytest.raises(ConfigError, match="extractive, llama-cpp, openai"):
        make_chat_model(LLMSettings(backend="gpt5"))
    with pytest.raises(ConfigError, match="not a file"):
        make_chat_model(LLMSettings(backend="llama-cpp", model="/nonexistent/model.gguf"))


def test_llama_default_model_not_installed(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(packaged_gguf, "_PART_MODULE", "rag_test_no_such_part_{}")
    with pytest.raises(ConfigError, match=r"pip install 'article-rag\[local\]'.*RAG_LLM__MODEL"):
        make_chat_model(LLMSettings(backend="llama-cpp"))


# -- default model assembly -------------------------------------------------------------


def _parts(tmp_path, n=3):
    paths = []
    for i in range(n):
        p = tmp_path / f"part{i}"
        p.write_bytes(os.urandom(1000 + i))
        paths.append(p)
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
    return paths, digest


def test_assemble_good_hash_and_reuse(tmp_path, monkeypatch, capsys):
    parts, digest = _parts(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    assert packaged_gguf.assemble_gguf(parts, target, digest) == target
    assert target.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert "Assembling" in capsys.readouterr().err
    assert sorted(x.name for x in target.parent.iterdir()) == ["model.gguf", "model.gguf.verified"]

    hashed = []
    real = packaged_gguf._sha256_file
    monkeypatch.setattr(packaged_gguf, "_sha256_file", lambda p: hashed.append(p) or real(p))
    for p in parts:
        p.unlink()  # reuse must not need the parts...
    assert packaged_gguf.assemble_gguf(parts, target, digest) == target
    assert hashed == []  # ...nor rehash an unchanged file

    os.utime(target, ns=(1, 1))  # mtime changed: rehash once, still valid
    assert packaged_gguf.is_verified(target, digest) and len(hashed) == 1
    assert packaged_gguf.is_verified(target, digest) and len(hashed) == 1


def test_assemble_bad_hash(tmp_path):
    parts, _ = _parts(tmp_path)
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ConfigError, match="damaged or of another version"):
        packaged_gguf.assemble_gguf(parts, target, "0" * 64, progress=False)
    assert list(target.parent.iterdir()) == []  # no target, no temp file left
    with pytest.raises(ConfigError, match="missing"):
        packaged_gguf.assemble_gguf([tmp_path / "nope"], target, "0" * 64, progress=False)


def test_assemble_replaces_corrupt_cache(tmp_path):
    parts, digest = _parts(tmp_path)
    target = tmp_path / "model.gguf"
    target.write_bytes(b"stale")
    packaged_gguf.assemble_gguf(parts, target, digest, progress=False)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest


# -- contract: every ChatModel -------------------------------------------------------------




@pytest.fixture(scope="module")
def contract_server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def smollm2(smollm2_gguf):
    assert packaged_gguf._sha256_file(smollm2_gguf) == SMOLLM2_SHA256
    settings = LLMSettings(backend="llama-cpp", model=str(smollm2_gguf), context_tokens=512,
                           threads=2, temperature=0.0, max_answer_tokens=16)
    return make_chat_model(settings)


class TestEveryChatModel(ChatModelContract):
    """rag.testing's chat-model contract over every backend here (llama.cpp on SmolLM2: slow)."""

    @pytest.fixture(params=["openai", pytest.param("llama-cpp", marks=pytest.mark.slow), "extractive"])
    def chat_model(self, request, contract_server) -> ChatModel:
        if request.param == "openai":  # a local server that needs no key
            return make_chat_model(openai_settings(contract_server, api_key_env=None))
        if request.param == "llama-cpp":
            return request.getfixturevalue("smollm2")
        return make_chat_model(LLMSettings(backend="extractive"))


def test_llama_counts_with_its_own_tokenizer(smollm2):
    text = "Paris is the capital of France."
    llm = smollm2._load()
    assert smollm2.count_tokens(text) == len(llm.tokenize(text.encode(), add_bos=False, special=True))
    assert smollm2.can_rewrite is True


def test_llama_count_tokens_waits_for_the_model_lock(smollm2):
    smollm2._load()
    counted = threading.Event()
    with smollm2._lock:  # as a generation in another thread holds it
        worker = threading.Thread(target=lambda: (smollm2.count_tokens("Paris"), counted.set()))
        worker.start()
        assert not counted.wait(0.3)
    assert counted.wait(10)
    worker.join()


@pytest.mark.slow
def test_llama_prompt_too_long_is_backend_error(smollm2):
    with pytest.raises(BackendError, match="RAG_LLM__CONTEXT_TOKENS"):
        smollm2.complete([{"role": "user", "content": "word " * 2000}])
