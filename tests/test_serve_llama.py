"""`rag serve` over the real in-process llama.cpp model (the SmolLM2-135M test GGUF): one
answer at a time, and a client that hangs up mid-stream frees the model within a second."""

from __future__ import annotations

import time

import httpx
import pytest

from rag.config import load_settings
from rag.index.building import build_index
from rag.llm.llama_cpp import LlamaCppChatModel
from rag.serve.access import Keys
from rag.serve.app import create_app
from rag.serve.service import Service
from tests.serve_helpers import running

pytestmark = pytest.mark.slow  # the real GGUF, as the other SmolLM2 tests

QUESTION = "When did the harbour bridge reopen after the repairs?"


def test_a_hang_up_mid_stream_frees_the_model_within_a_second(smollm2_gguf, settings):
    build_index(settings)
    s = load_settings(index_dir=settings.index_dir, embedding={"backend": "hashing"}, serve={"max_queue": 0},
                      llm={"backend": "llama-cpp", "model": str(smollm2_gguf), "context_tokens": 1024,
                           "threads": 2, "max_answer_tokens": 300})
    service = Service(s)
    model: LlamaCppChatModel = service.chat_model
    body = {"model": "article-rag", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
    with running(create_app(s, service, keys=Keys())) as base:
        with httpx.Client(timeout=120) as client:
            with client.stream("POST", f"{base}/v1/chat/completions", json=body) as r:
                lines = r.iter_lines()
                next(lines)
                deadline = time.monotonic() + 120
                while model._owner is None and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert model._owner is not None, "the model never started the answer"
                time.sleep(0.3)  # writing tokens now
                busy = httpx.post(f"{base}/v1/chat/completions", json={**body, "stream": False})
                assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
                left = time.monotonic()
        while (model._owner is not None or service.answer_gate.running) and time.monotonic() - left < 30:
            time.sleep(0.01)
        freed = time.monotonic() - left
        assert model._owner is None and service.answer_gate.running == 0
        assert freed < 1.0, f"the model stayed busy {freed:.2f} s after the client left"
        answer = httpx.post(f"{base}/v1/chat/completions", json={**body, "stream": False}, timeout=300)
        assert answer.status_code == 200 and answer.json()["choices"][0]["message"]["backend"] == "llama-cpp"
