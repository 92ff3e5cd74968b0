"""The failing-backend cases shared by the CLI tests (test_robustness_backends.py)
and the UI tests (test_ui_failures.py): what to script on the loopback chat and
embedding servers, the phrases the user must read, and the chat requests the
failure may cost with one retry allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.openai_server import FakeOpenAIServer

TIMEOUT_S = 1.0
RETRIES = 1  # one retry: 500, 429 and timeouts are tried twice, then reported
LIMITS = {"LLM__TIMEOUT": str(TIMEOUT_S), "LLM__MAX_RETRIES": str(RETRIES),
          "EMBEDDING__TIMEOUT": str(TIMEOUT_S), "EMBEDDING__MAX_RETRIES": str(RETRIES)}
"""The timeout and retry settings these cases assume, as ``RAG_``-less variable names."""

_TRIES = RETRIES + 1


@dataclass(frozen=True)
class Failure:
    """One way a backend fails, and what the user must be told."""

    name: str
    script: Callable[[FakeOpenAIServer, FakeOpenAIServer], None]  # (chat server, embedding server)
    words: tuple[str, ...]  # phrases the message must contain
    chat_requests: int  # requests the chat server gets for the failed question: retries are bounded
    chat_up: bool = True  # False: nothing listens at the chat URL until the next question


FAILURES = [
    Failure("http-500", lambda chat, emb: chat.script_error(500, times=_TRIES),
            ("failed with HTTP 500 after 2 tries", "Scripted error 500", "try again"), 2),
    Failure("rate-limited", lambda chat, emb: chat.script_rate_limit(0.1, times=_TRIES),
            ("rate-limiting requests (HTTP 429)", "after 2 tries", "ask again"), 2),
    Failure("timeout", lambda chat, emb: chat.script_delay(TIMEOUT_S + 1.5, times=_TRIES),
            (f"did not answer within {TIMEOUT_S:g} s (2 tries)", "RAG_LLM__TIMEOUT"), 2),
    Failure("stream-cut", lambda chat, emb: chat.script_cut_stream("The victory plan asks", after_chunks=2),
            ("The answer was cut off", "Try again"), 1),
    Failure("empty-reply", lambda chat, emb: chat.script_empty_reply(),
            ("returned an empty reply", "try another model"), 1),
    Failure("embedding-wrong-dimension", lambda chat, emb: emb.script_wrong_dim(17),
            ("17-dimensional vectors but this index uses 32", "rebuild"), 0),
    Failure("embedding-http-503", lambda chat, emb: emb.script_error(503, endpoint="embeddings", times=_TRIES),
            ("failed with HTTP 503 after 2 tries", "model fake-embed", "try again"), 0),
    Failure("embedding-timeout", lambda chat, emb: emb.script_delay(TIMEOUT_S + 1.5, endpoint="embeddings",
                                                                     times=_TRIES),
            (f"did not answer within {TIMEOUT_S:g} s (2 tries)", "RAG_EMBEDDING__TIMEOUT"), 0),
]

CONNECTION_REFUSED = Failure("connection-refused", lambda chat, emb: None,
                             ("Could not connect to the chat server at http://127.0.0.1:", "is the server running"),
                             0, chat_up=False)
"""The chat server is not running; a test that uses it starts the server before the next question."""
