"""Running `rag serve`'s app for real on a loopback port, for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(app, port: int | None = None, lifespan: str = "off"):
    """``app`` served by uvicorn in a thread; yields the base URL (``http://127.0.0.1:PORT``)."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan=lifespan))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class SlowExtractiveModel:
    """The extractive backend writing one word every ``delay`` seconds: a model slow enough
    to disconnect from mid-answer. ``streaming`` counts its open streams; ``freed_at`` is
    when the last one closed (time.monotonic())."""

    backend = "extractive-slow"
    can_rewrite = False
    calibrates_yes_no = False

    def __init__(self, delay: float = 0.05):
        from rag.llm.extractive import ExtractiveChatModel

        self._inner = ExtractiveChatModel()
        self.model = "extractive-slow"
        self.delay = delay
        self.streaming = 0
        self.freed_at: float | None = None
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def stream(self, messages, **options):
        import re

        with self._lock:
            self.streaming += 1
        try:
            for piece in self._inner.stream(messages, **options):
                for word in re.findall(r"\S+\s*|\s+", piece):
                    time.sleep(self.delay)
                    yield word
        finally:
            with self._lock:
                self.streaming -= 1
                self.freed_at = time.monotonic()

    def complete(self, messages, **options) -> str:
        return "".join(self.stream(messages, **options))
