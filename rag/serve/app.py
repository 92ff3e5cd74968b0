"""The HTTP API: an OpenAI-compatible chat endpoint with typed citations, and the library's
search, article and index views (docs/api.md). :func:`create_app` builds it over one
:class:`rag.serve.service.Service`; ``rag serve`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer.pipeline import Answer
from rag.config import Settings
from rag.errors import RagError
from rag.serve import chat
from rag.serve.access import Keys
from rag.serve.cancel import Cancelled
from rag.serve.errors import ApiError, error_body, internal_error, library_error, validation_error
from rag.serve.guard import Guard
from rag.serve.jobs import run_in_thread
from rag.serve.limits import Busy, Gate
from rag.serve.schemas import MODEL_ID, ChatRequest, RebuildRequest, SearchRequest, search_filters
from rag.serve.service import Service

KEEPALIVE_SECONDS = 5.0
DISCONNECT_POLL_SECONDS = 0.25


def _error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(error_body(exc.status, exc.message, exc.code, exc.param), exc.status, exc.headers)


def _sse(payload: Any) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False, default=str)}\n\n"


def create_app(settings: Settings, service: Service | None = None, keys: Keys | None = None) -> FastAPI:
    """The API over ``service`` (made from ``settings`` when not given); ``keys`` default to
    the variables ``settings.serve`` names."""
    service = service or Service(settings)
    keys = keys if keys is not None else Keys.from_settings(settings.serve)
    app = FastAPI(title="article-rag", summary="Cited answers over news articles (docs/api.md).",
                  docs_url=None, redoc_url=None)
    app.state.service = service
    app.add_middleware(Guard, keys=keys)

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError):
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError):
        return _error_response(validation_error(list(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException):
        code = "not_found" if exc.status_code == 404 else "method_not_allowed" if exc.status_code == 405 else None
        message = "No such endpoint (docs/api.md lists them)." if exc.status_code == 404 else str(exc.detail)
        return _error_response(ApiError(exc.status_code, message, code))

    @app.exception_handler(Busy)
    async def _busy(_: Request, exc: Busy):
        return _error_response(ApiError(503, str(exc), "server_busy", headers={"Retry-After": str(exc.retry_after)}))

    @app.exception_handler(RagError)
    async def _library(_: Request, exc: RagError):
        return _error_response(library_error(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception):
        return _error_response(internal_error(exc))

    async def in_gate(gate: Gate, fn, *args):
        """``fn(*args)`` in a thread, holding one of ``gate``'s slots."""
        await gate.acquire()
        started = time.perf_counter()
        try:
            return await asyncio.to_thread(fn, *args)
        finally:
            gate.observe(time.perf_counter() - started)
            gate.release()

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok"}

    @app.get("/v1/models")
    async def models():
        return {"object": "list", "data": [_model_card()]}

    @app.get("/v1/models/{model_id}")
    async def model(model_id: str):
        if model_id != MODEL_ID:
            raise ApiError(404, f"The model {model_id!r} does not exist; this server has {MODEL_ID!r}.",
                           "model_not_found", "model")
        return _model_card()

    @app.post("/v1/search")
    async def search(body: SearchRequest):
        query = body.query.strip()
        if len(query) > settings.serve.max_question_chars:
            raise ApiError(413, f"query: {len(query):,} characters; at most {settings.serve.max_question_chars:,} "
                                f"are searched (serve.max_question_chars).", "query_too_long", "query")
        return await in_gate(service.search_gate, service.search, query, body.k, search_filters(body.filters))

    @app.get("/v1/index")
    async def index_info():
        return await asyncio.to_thread(service.index_info)

    @app.get("/v1/articles/{article_id:path}")
    async def article(article_id: str):
        found = await in_gate(service.search_gate, service.article, article_id)
        if found is None:
            raise ApiError(404, f"No indexed article has the id {article_id!r} (search results name "
                                f"article ids).", "article_not_found", "article_id")
        return found

    @app.post("/v1/index/rebuild")
    async def rebuild(body: RebuildRequest | None = None):
        return await asyncio.to_thread(service.rebuild, bool(body and body.full))

    @app.post("/v1/chat/completions")
    async def chat_completions(body: ChatRequest, request: Request):
        question, history = chat.question_and_history(body, settings.serve.max_question_chars)
        filters = search_filters(body.filters)
        await asyncio.to_thread(service.opened)  # no index: a 503 now, not mid-stream
        gate = service.answer_gate
        await _acquire_unless_gone(gate, request)
        cancel = threading.Event()
        items = run_in_thread(lambda: service.answer_items(question, history, filters, cancel), gate, cancel)
        cid, created = chat.new_id()
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return StreamingResponse(_stream(items, cancel, cid, created, include_usage),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = await _final_unless_gone(items, request)
        return chat.completion(answer, cid, created)

    return app


def _model_card() -> dict:
    return {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "article-rag"}


async def _acquire_unless_gone(gate: Gate, request: Request) -> None:
    """Wait for a slot, giving up the place in line when the client disconnects."""
    waiting = asyncio.ensure_future(gate.acquire())
    while True:
        done, _ = await asyncio.wait({waiting}, timeout=DISCONNECT_POLL_SECONDS)
        if done:
            return waiting.result()
        if await request.is_disconnected():
            waiting.cancel()
            raise ApiError(499, "The client went away.", "client_closed")


async def _final_unless_gone(items, request: Request) -> Answer:
    """The final Answer of ``items``, stopping the answer when the client disconnects."""
    async def last() -> Answer | None:
        final = None
        async for item in items:
            if isinstance(item, Answer):
                final = item
        return final

    task = asyncio.ensure_future(last())
    while True:
        done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL_SECONDS)
        if done:
            break
        if await request.is_disconnected():
            task.cancel()
            raise ApiError(499, "The client went away.", "client_closed")
    final = _result(task)
    if final is None:
        raise ApiError(500, "The answer ended before it was complete; try again.", "incomplete_answer")
    return final


def _result(task: asyncio.Future):
    try:
        return task.result()
    except Cancelled:
        raise ApiError(499, "The client went away.", "client_closed") from None


async def _stream(items, cancel: threading.Event, cid: str, created: int, include_usage: bool):
    """The SSE events of one answer: the role at once, then the checked text, the last
    chunk with citations and refusal, and ``[DONE]``. An error after the first event is sent
    as an ``error`` event, as OpenAI does. However it ends (a client gone before the first
    event included), the answer is told to stop."""
    last_sent = time.monotonic()
    try:
        yield _sse(chat.chunk(cid, created, {"role": "assistant", "content": ""}))
        async for item in items:
            if isinstance(item, Answer):
                for piece in chat.final_chunks(item, cid, created, include_usage):
                    yield _sse(piece)
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                last_sent = time.monotonic()
                yield ": generating\n\n"  # an SSE comment: keeps proxies from timing out
    except Cancelled:
        return
    except RagError as exc:
        err = library_error(exc)
        yield _sse(error_body(err.status, err.message, err.code))
    except Exception as exc:  # noqa: BLE001 - never a traceback to the client
        err = internal_error(exc)
        yield _sse(error_body(err.status, err.message, err.code))
    finally:
        cancel.set()
    yield "data: [DONE]\n\n"
