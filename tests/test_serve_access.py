"""Who may call `rag serve`: keys from the variables the operator names, visitor vs admin,
loopback only without keys (docs/api.md, docs/security.md)."""

from __future__ import annotations

import httpx
import openai
import pytest
from typer.testing import CliRunner

from rag.cli import app as cli_app
from rag.config import load_settings
from rag.index.building import build_index
from rag.serve.access import Keys
from rag.serve.app import create_app
from tests.serve_helpers import running

CHAT = {"model": "article-rag", "messages": [{"role": "user", "content": "When did the harbour bridge reopen?"}]}


@pytest.fixture
def keyed(settings, monkeypatch):
    build_index(settings)
    monkeypatch.setenv("TEST_VISITOR_KEYS", "visitor-one, visitor-two")
    monkeypatch.setenv("TEST_ADMIN_KEYS", "admin-key")
    s = load_settings(index_dir=settings.index_dir, articles_dir=settings.articles_dir,
                      embedding={"backend": "hashing"}, llm={"backend": "extractive"},
                      serve={"api_keys_env": "TEST_VISITOR_KEYS", "admin_keys_env": "TEST_ADMIN_KEYS"})
    with running(create_app(s)) as base:
        yield base


def test_no_key_or_a_wrong_key_is_a_401(keyed):
    r = httpx.post(f"{keyed}/v1/chat/completions", json=CHAT)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{keyed}/v1", api_key="guess", max_retries=0).models.list()
    # Refused before the body is read: a malformed body without a key is still a 401.
    r = httpx.post(f"{keyed}/v1/chat/completions", content="{bad", headers={"content-type": "application/json"})
    assert r.status_code == 401
    assert httpx.get(f"{keyed}/v1/index", headers={"Authorization": "Basic visitor-one"}).status_code == 401
    assert httpx.get(f"{keyed}/healthz").status_code == 200


def test_each_visitor_key_works_and_only_an_admin_key_rebuilds(keyed):
    for key in ("visitor-one", "visitor-two", "admin-key"):
        c = openai.OpenAI(base_url=f"{keyed}/v1", api_key=key, max_retries=0)
        message = c.chat.completions.create(**CHAT).choices[0].message
        assert message.model_extra["citations"]
    r = httpx.post(f"{keyed}/v1/index/rebuild", headers={"Authorization": "Bearer visitor-one"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "admin_key_required"
    r = httpx.post(f"{keyed}/v1/index/rebuild", json={"full": False}, headers={"Authorization": "Bearer admin-key"},
                   timeout=60)
    assert r.status_code == 200 and r.json()["articles"] == 3 and r.json()["unchanged"] == 3


def test_keyless_loopback_refuses_rebuilds_and_proxied_requests(settings):
    build_index(settings)
    s = load_settings(index_dir=settings.index_dir, embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    with running(create_app(s, keys=Keys())) as base:
        assert httpx.post(f"{base}/v1/chat/completions", json=CHAT).status_code == 200
        r = httpx.post(f"{base}/v1/index/rebuild")
        assert r.status_code == 403 and "RAG_SERVE__ADMIN_KEYS_ENV" in r.json()["error"]["message"]
        r = httpx.post(f"{base}/v1/chat/completions", json=CHAT, headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 401 and "RAG_SERVE__API_KEYS_ENV" in r.json()["error"]["message"]


def test_serve_refuses_a_public_address_without_keys(settings, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    for command in (["serve", "--host", "0.0.0.0"], ["mcp", "--http", "--host", "192.0.2.7"]):
        result = CliRunner().invoke(cli_app, command)
        assert result.exit_code == 1
        assert "without API keys" in result.stderr and "RAG_SERVE__API_KEYS_ENV" in result.stderr
    monkeypatch.setenv("RAG_SERVE__API_KEYS_ENV", "NOT_SET_ANYWHERE")
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "NOT_SET_ANYWHERE" in result.stderr and "not set" in result.stderr
    monkeypatch.setenv("NOT_SET_ANYWHERE", " , ")
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 1 and "holds no key" in result.stderr


def test_keys_are_never_shown():
    keys = Keys(frozenset({"visitor-secret"}), frozenset({"admin-secret"}))
    assert "secret" not in repr(keys)
    assert (keys.role("admin-secret"), keys.role("visitor-secret"), keys.role("other"), keys.role(None)) == (
        "admin", "visitor", None, None)


def test_rag_serve_runs_as_a_command(settings):
    import os
    import subprocess
    import sys
    import time

    from tests.serve_helpers import free_port

    build_index(settings)
    port = free_port()
    env = {**os.environ, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_EMBEDDING__BACKEND": "hashing",
           "RAG_LLM__BACKEND": "extractive", "PYTHONPATH": os.path.dirname(os.path.dirname(__file__))}
    proc = subprocess.Popen([sys.executable, "-c", "from rag.cli import app; app()", "serve", "--port", str(port)],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        c = openai.OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0)
        assert c.chat.completions.create(**CHAT).choices[0].message.model_extra["citations"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "no keys: loopback only" in err
