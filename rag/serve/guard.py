"""An ASGI middleware in front of every route: the key check (:mod:`rag.serve.access`) and
the body size limit, before any body is read or parsed."""

from __future__ import annotations

import json

from rag.serve.access import Denied, Keys, authorize
from rag.serve.errors import error_body

MAX_BODY_BYTES = 4_000_000  # a long conversation fits; a runaway upload does not
OPEN_PATHS = ("/healthz",)
ADMIN_PATHS = ("/v1/index/rebuild",)


class _Headers(dict):
    def get(self, key, default=None):  # noqa: D102 - case-insensitive like Starlette's
        return super().get(key.lower(), default)


async def send_error(send, status: int, message: str, code: str | None,
                     headers: dict[str, str] | None = None) -> None:
    body = json.dumps(error_body(status, message, code)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Refuses a request without the right key (401/403) or with a body over
    :data:`MAX_BODY_BYTES` (413); ``/healthz`` is open to all."""

    def __init__(self, app, keys: Keys, max_body: int = MAX_BODY_BYTES):
        self.app, self.keys, self.max_body = app, keys, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            return await self.app(scope, receive, send)
        headers = _Headers((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"])
        try:
            authorize(self.keys, headers, admin=scope["path"] in ADMIN_PATHS)
        except Denied as exc:
            extra = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            code = "invalid_api_key" if exc.status == 401 else "admin_key_required"
            return await send_error(send, exc.status, str(exc), code, extra)
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return await send_error(send, 413, f"The request body has {int(length):,} bytes; at most "
                                               f"{self.max_body:,} are read.", "body_too_large")
        return await self.app(scope, receive, send)
