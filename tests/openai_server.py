"""A real HTTP server on loopback that speaks the OpenAI protocol, for tests.

Standard library only. Use it as a context manager::

    with FakeOpenAIServer() as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="k")
        srv.script_reply("Paris is the capital [1].")
        client.chat.completions.create(model="fake-chat", messages=[...])
        path, body, headers = srv.requests[-1]

or from the command line (for UI tests that need a separate process)::

    python -m tests.openai_server --port 8765

Endpoints: ``GET /v1/models``, ``POST /v1/embeddings`` (deterministic hashed
bag-of-words vectors, L2-normalised, float or base64 encoding) and
``POST /v1/chat/completions`` (plain or streamed as SSE chunks ending with
``data: [DONE]``).

Replies and failures are queued per endpoint ("chat" or "embeddings") and each
queued item is used by exactly one request; with an empty queue the chat
endpoint answers ``default_reply`` and embeddings are computed normally.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

DEFAULT_REPLY = "This is a scripted answer from the fake server [1]."
CHAT_MODEL = "fake-chat"
EMBED_MODEL = "fake-embed"

_WORD = re.compile(r"\w+", re.UNICODE)
_PIECE = re.compile(r"\S+\s*|\s+")


class RecordedRequest(NamedTuple):
    """One request the server received: unpacks as ``(path, body, headers)``."""

    path: str
    body: Any  # parsed JSON, or None for GET / unparsable bodies
    headers: dict[str, str]  # header names lower-cased


@dataclass
class _Action:
    """One scripted behaviour for one request."""

    kind: str  # reply | error | redirect | cut | empty | wrong_dim | delay
    text: str | None = None
    status: int = 500
    message: str | None = None
    retry_after: float | None = None
    delay: float = 0.0
    after_chunks: int = 2
    dim: int | None = None
    finish_reason: str = "stop"
    extra: dict = field(default_factory=dict)


def hash_embedding(text: str, dim: int = 32) -> list[float]:
    """Deterministic bag-of-words vector: texts sharing words are close.

    Each lower-cased word adds +-1 at a position chosen by its blake2b hash;
    the result is L2-normalised (a text with no words maps to a unit vector
    on the first axis).
    """
    vec = [0.0] * dim
    for word in _WORD.findall(text.lower()):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        vec[value % dim] += 1.0 if (value >> 40) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec[0] = 1.0
        return vec
    return [v / norm for v in vec]


def _count_tokens(text: str) -> int:
    return len(_WORD.findall(text)) or (1 if text else 0)


# Ports handed out by closed_port_url, held bound (never listening) so that no
# other process can take them; a FakeOpenAIServer started on one adopts it.
_HELD: dict[int, socket.socket] = {}
_HELD_LOCK = threading.Lock()


def closed_port_url() -> str:
    """A ``/v1`` base URL on a loopback port where nothing listens.

    The port stays bound by this process without listening, so connecting is
    refused for as long as the tests run, and no other process can start
    listening there in between. ``FakeOpenAIServer(port=that_port).start()``
    takes the same socket over: a server "coming back" on the URL.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    with _HELD_LOCK:
        _HELD[port] = sock
    return f"http://127.0.0.1:{port}/v1"


class _QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Lets stop(hold_port=True) bind a holder socket before the listener closes.
    allow_reuse_port = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, cut streams) are part of the tests.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class FakeOpenAIServer:
    """OpenAI-compatible loopback server with scripted replies and failures."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        dim: int = 32,
        default_reply: str = DEFAULT_REPLY,
        models: tuple[str, ...] = (CHAT_MODEL, EMBED_MODEL),
        api_key: str | None = None,
        strict_models: bool = False,
        embed_delay: float = 0.0,
    ) -> None:
        """``api_key``: when set, requests must carry ``Authorization: Bearer
        <api_key>`` or get a 401. ``strict_models``: unknown model ids get a 404
        like the real API (``model_not_found``). ``embed_delay``: seconds every
        embeddings request waits before answering, like a busy server (requests
        are served in parallel, so concurrent ones wait side by side)."""
        self.host = host
        self.port = port
        self.dim = dim
        self.default_reply = default_reply
        self.models = tuple(models)
        self.api_key = api_key
        self.strict_models = strict_models
        self.embed_delay = embed_delay
        # Embeddings requests being served now, and the most there ever were at once.
        self.embed_in_flight = 0
        self.embed_peak_in_flight = 0
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[_Action]] = {"chat": deque(), "embeddings": deque()}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> "FakeOpenAIServer":
        handler = type("_BoundHandler", (_Handler,), {"server_state": self})
        with _HELD_LOCK:
            held = _HELD.pop(self.port, None) if self.port else None
        if held is None:  # port 0: the OS picks one while binding, no race
            self._httpd = _QuietHTTPServer((self.host, self.port), handler)
        else:  # the port closed_port_url holds: listen on that very socket
            self._httpd = _QuietHTTPServer((self.host, self.port), handler, bind_and_activate=False)
            self._httpd.socket.close()
            self._httpd.socket = held
            self._httpd.server_address = held.getsockname()
            self._httpd.server_name, self._httpd.server_port = self._httpd.server_address[:2]
            self._httpd.server_activate()
        self.port = self._httpd.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self, hold_port: bool = False) -> None:
        """Stop serving. ``hold_port``: keep the port bound without listening, like
        ``closed_port_url`` (connecting is refused, no other process can take
        it), so that ``FakeOpenAIServer(port=...).start()`` comes back on it."""
        self._stopping.set()  # wakes handlers that sleep in a scripted delay
        if self._httpd is not None:
            if hold_port:  # bound beside the listener (SO_REUSEPORT), before it closes
                holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                holder.bind(self._httpd.server_address)
                with _HELD_LOCK:
                    _HELD[self.port] = holder
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_forever(self) -> None:
        """Serve in the foreground until interrupted (used by ``__main__``)."""
        self.start()
        print(f"fake OpenAI server listening on {self.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # -- scripting -----------------------------------------------------------------

    def _push(self, endpoint: str, action: _Action, times: int = 1) -> None:
        if endpoint not in self._queues:
            raise ValueError(f"endpoint must be one of {sorted(self._queues)}")
        with self._lock:
            for _ in range(times):
                self._queues[endpoint].append(action)

    def _pop(self, endpoint: str) -> _Action | None:
        with self._lock:
            queue = self._queues[endpoint]
            return queue.popleft() if queue else None

    def pending(self, endpoint: str = "chat") -> int:
        """How many scripted actions are still queued for ``endpoint``."""
        with self._lock:
            return len(self._queues[endpoint])

    def chat_requests(self) -> list[RecordedRequest]:
        """The recorded requests to ``/chat/completions``, in order (retries included)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def authorizations(self) -> list[str | None]:
        """The ``Authorization`` header of every recorded request, in order
        (None where a request carried none): what keys this server was sent."""
        with self._lock:
            return [r.headers.get("authorization") for r in self.requests]

    def clear(self) -> None:
        """Drop queued actions, recorded requests and the in-flight peak."""
        with self._lock:
            for queue in self._queues.values():
                queue.clear()
            self.requests.clear()
            self.embed_peak_in_flight = self.embed_in_flight

    def embedding_requests(self) -> list[RecordedRequest]:
        """The recorded requests to ``/embeddings``, in order (retries included)."""
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/embeddings")]

    def script_reply(self, *texts: str, finish_reason: str = "stop") -> None:
        """Queue chat replies, one per request, in order."""
        for text in texts:
            self._push("chat", _Action("reply", text=text, finish_reason=finish_reason))

    def script_error(
        self,
        status: int = 500,
        *,
        message: str | None = None,
        retry_after: float | None = None,
        endpoint: str = "chat",
        times: int = 1,
    ) -> None:
        """Queue HTTP errors (e.g. 500, or 429 with a ``retry-after`` header)."""
        self._push(
            endpoint,
            _Action("error", status=status, message=message, retry_after=retry_after),
            times,
        )

    def script_redirect(self, location: str, status: int = 307, *, endpoint: str = "chat", times: int = 1) -> None:
        """Queue redirects (``status`` with a ``Location`` header) to ``location``."""
        self._push(endpoint, _Action("redirect", status=status, message=location), times)

    def script_rate_limit(self, retry_after: float = 0.1, *, endpoint: str = "chat", times: int = 1) -> None:
        """Queue 429 responses carrying ``retry-after: <seconds>``."""
        self.script_error(429, retry_after=retry_after, endpoint=endpoint, times=times)

    def script_delay(
        self, seconds: float, *, text: str | None = None, endpoint: str = "chat", times: int = 1
    ) -> None:
        """Queue requests that wait ``seconds`` before answering (longer than a
        client timeout makes the client time out). ``text``: the chat reply sent
        after the wait (default reply if None)."""
        self._push(endpoint, _Action("delay", text=text, delay=seconds), times)

    def script_cut_stream(self, text: str = "The answer starts and then", *, after_chunks: int = 2) -> None:
        """Queue a streamed reply that sends ``after_chunks`` content chunks, then
        closes the connection without finishing the body or sending ``[DONE]``.
        (Non-streamed requests get the connection closed with no response.)"""
        self._push("chat", _Action("cut", text=text, after_chunks=after_chunks))

    def script_empty_reply(self, *, times: int = 1) -> None:
        """Queue a chat reply whose content is empty."""
        self._push("chat", _Action("empty", text=""), times)

    def script_wrong_dim(self, dim: int, *, times: int = 1) -> None:
        """Queue an embeddings response whose vectors have ``dim`` dimensions."""
        self._push("embeddings", _Action("wrong_dim", dim=dim), times)

    closed_port_url = staticmethod(closed_port_url)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state: FakeOpenAIServer  # set on the bound subclass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # quiet in tests

    # -- helpers -------------------------------------------------------------------

    def _record(self, body: Any) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        with self.server_state._lock:
            self.server_state.requests.append(RecordedRequest(self.path, body, headers))

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def _send_error(self, status: int, message: str, err_type: str, code: str | None = None,
                    headers: dict[str, str] | None = None) -> None:
        payload = {"error": {"message": message, "type": err_type, "param": None, "code": code}}
        self._send_json(status, payload, headers)

    def _route(self) -> str | None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.startswith("/v1"):
            path = path[3:]
        return path

    def _check_auth(self) -> bool:
        key = self.server_state.api_key
        if key is None:
            return True
        if self.headers.get("Authorization") == f"Bearer {key}":
            return True
        self._send_error(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key")
        return False

    def _check_model(self, body: dict) -> bool:
        state = self.server_state
        model = body.get("model")
        if not state.strict_models or model in state.models:
            return True
        self._send_error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "invalid_request_error",
            "model_not_found",
        )
        return False

    def _apply_common(self, action: _Action | None) -> bool:
        """Handle error/delay actions shared by all endpoints; False = done."""
        if action is None:
            return True
        if action.kind == "delay":
            if self.server_state._stopping.wait(action.delay):
                self.close_connection = True
                return False
            return True
        if action.kind == "redirect":
            self.send_response(action.status)
            self.send_header("Location", action.message or "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        if action.kind == "error":
            headers = {}
            if action.retry_after is not None:
                headers["retry-after"] = f"{action.retry_after:g}"
            err_type = {429: "rate_limit_exceeded", 401: "invalid_request_error",
                        404: "invalid_request_error"}.get(action.status, "server_error")
            message = action.message or f"Scripted error {action.status}."
            self._send_error(action.status, message, err_type, headers=headers)
            return False
        return True

    # -- verbs ---------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802
        self._record(None)
        if not self._check_auth():
            return
        if self._route() == "/models":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                    for m in self.server_state.models]
            self._send_json(200, {"object": "list", "data": data})
            return
        self._send_error(404, f"Unknown path {self.path}", "invalid_request_error")

    def do_POST(self) -> None:  # noqa: N802
        body = self._read_body()
        self._record(body)
        if not self._check_auth():
            return
        route = self._route()
        if not isinstance(body, dict):
            self._send_error(400, "Request body must be a JSON object.", "invalid_request_error")
            return
        if route == "/embeddings":
            self._embeddings(body)
        elif route == "/chat/completions":
            self._chat(body)
        else:
            self._send_error(404, f"Unknown path {self.path}", "invalid_request_error")

    # -- endpoints -------------------------------------------------------------------

    def _embeddings(self, body: dict) -> None:
        state = self.server_state
        with state._lock:
            state.embed_in_flight += 1
            state.embed_peak_in_flight = max(state.embed_peak_in_flight, state.embed_in_flight)
        try:
            if state.embed_delay and state._stopping.wait(state.embed_delay):
                self.close_connection = True
                return
            self._embeddings_reply(body)
        finally:
            with state._lock:
                state.embed_in_flight -= 1

    def _embeddings_reply(self, body: dict) -> None:
        state = self.server_state
        action = state._pop("embeddings")
        if not self._apply_common(action) or not self._check_model(body):
            return
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        if not isinstance(inputs, list) or not inputs or not all(isinstance(t, str) for t in inputs):
            self._send_error(400, "'input' must be a string or a non-empty list of strings.",
                             "invalid_request_error")
            return
        dim = state.dim
        if action is not None and action.kind == "wrong_dim" and action.dim:
            dim = action.dim
        b64 = body.get("encoding_format") == "base64"
        data = []
        for i, text in enumerate(inputs):
            vec = hash_embedding(text, dim)
            emb: Any = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode("ascii") if b64 else vec
            data.append({"object": "embedding", "index": i, "embedding": emb})
        tokens = sum(_count_tokens(t) for t in inputs)
        self._send_json(200, {
            "object": "list",
            "data": data,
            "model": body.get("model") or EMBED_MODEL,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })

    def _chat(self, body: dict) -> None:
        state = self.server_state
        action = state._pop("chat")
        if not self._apply_common(action) or not self._check_model(body):
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._send_error(400, "'messages' must be a non-empty list.", "invalid_request_error")
            return
        if action is None or action.text is None:
            text = state.default_reply
        else:
            text = action.text
        finish = action.finish_reason if action is not None else "stop"
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if max_tokens:
            pieces = _PIECE.findall(text)
            if len(pieces) > int(max_tokens):
                text, finish = "".join(pieces[: int(max_tokens)]), "length"
        model = body.get("model") or CHAT_MODEL
        prompt_tokens = sum(_count_tokens(str(m.get("content") or "")) for m in messages
                            if isinstance(m, dict))
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        cut = action is not None and action.kind == "cut"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(cid, created, model, text, finish, prompt_tokens, include_usage,
                         cut_after=action.after_chunks if cut else None)
            return
        if cut:
            self.close_connection = True  # no response at all
            return
        completion_tokens = _count_tokens(text)
        self._send_json(200, {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": finish,
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        })

    def _write_chunk(self, payload: bytes) -> None:
        self.wfile.write(f"{len(payload):x}\r\n".encode("ascii") + payload + b"\r\n")
        self.wfile.flush()

    def _stream(self, cid: str, created: int, model: str, text: str, finish: str,
                prompt_tokens: int, include_usage: bool, cut_after: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def event(delta: dict, finish_reason: str | None, usage: Any = None,
                  no_choices: bool = False) -> None:
            chunk = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_fake",
                "choices": [] if no_choices else [{
                    "index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason,
                }],
            }
            if include_usage:
                chunk["usage"] = usage
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode("utf-8"))

        try:
            event({"role": "assistant", "content": "", "refusal": None}, None)
            pieces = _PIECE.findall(text)
            for i, piece in enumerate(pieces):
                if cut_after is not None and i >= cut_after:
                    break
                event({"content": piece}, None)
            if cut_after is not None:
                # Drop the connection mid-body: no final chunk, no [DONE].
                self.close_connection = True
                self.wfile.flush()
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            event({}, finish)
            if include_usage:
                completion_tokens = _count_tokens(text)
                event({}, None, usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                }, no_choices=True)
            self._write_chunk(b"data: [DONE]\n\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--dim", type=int, default=32, help="embedding dimension")
    parser.add_argument("--reply", default=DEFAULT_REPLY, help="default chat reply")
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--embed-delay", type=float, default=0.0, help="seconds each embeddings request waits")
    args = parser.parse_args(argv)
    FakeOpenAIServer(host=args.host, port=args.port, dim=args.dim, default_reply=args.reply,
                     api_key=args.api_key, embed_delay=args.embed_delay).run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
