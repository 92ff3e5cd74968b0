"""Errors as OpenAI's API words them: ``{"error": {"message", "type", "code", "param"}}``
with the right HTTP status, and never a traceback (the server's log has those)."""

from __future__ import annotations

import logging

from rag.errors import (
    BackendError,
    IndexLockedError,
    IndexMissingError,
    RagError,
)

log = logging.getLogger("article_rag.serve")

TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
         404: "not_found_error", 409: "conflict_error", 413: "invalid_request_error",
         429: "rate_limit_error", 502: "backend_error", 503: "overloaded_error"}


class ApiError(Exception):
    """An error a handler raises with its status, code and the field at fault."""

    def __init__(self, status: int, message: str, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None):
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}
        super().__init__(message)


def error_body(status: int, message: str, code: str | None = None, param: str | None = None) -> dict:
    """The JSON body of an error response."""
    return {"error": {"message": message, "type": TYPES.get(status, "server_error"), "code": code,
                      "param": param}}


def field_name(loc) -> str:
    """``messages.0.role`` from pydantic's location ``("body", "messages", 0, "role")``."""
    parts = [str(p) for p in loc if p != "body"]
    # A union's errors name the member type tried ("content.str", "content.list[TextPart]").
    while parts and (parts[-1] in _TYPE_TAGS or "[" in parts[-1]):
        parts.pop()
    return ".".join(parts)


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "TextPart", "date"}


def validation_error(errors: list[dict]) -> ApiError:
    """A 400 naming the first field at fault, from pydantic/FastAPI's error list."""
    first = errors[0] if errors else {"loc": (), "msg": "invalid request", "type": "invalid"}
    kind = first.get("type", "")
    name = field_name(first.get("loc", ()))
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", first.get("msg", ""))
        return ApiError(400, f"The request body is not valid JSON ({detail}).", "invalid_json")
    if kind == "missing" and not name:
        return ApiError(400, "The request needs a JSON body.", "missing_body")
    if kind == "extra_forbidden":
        return ApiError(400, f"Unknown field {name!r}: this API does not take it (docs/api.md lists the "
                             f"fields).", "unknown_field", name)
    if kind == "model_attributes_type" and not name:
        return ApiError(400, "The request body must be a JSON object.", "invalid_body")
    return ApiError(400, f"{name or 'body'}: {first.get('msg', 'invalid value')}.", "invalid_value", name or None)


def library_error(exc: RagError) -> ApiError:
    """The status for an error of the library; its message already says what to do."""
    if isinstance(exc, IndexMissingError):
        return ApiError(503, str(exc), "index_missing")
    if isinstance(exc, IndexLockedError):
        return ApiError(409, str(exc), "index_locked")
    if isinstance(exc, BackendError):
        return ApiError(502, str(exc), "backend_error")
    log.error("library error: %s", exc)
    return ApiError(500, str(exc), type(exc).__name__)


def internal_error(exc: BaseException) -> ApiError:
    """A 500 that names the kind of failure only; the traceback goes to the log."""
    log.error("unexpected error", exc_info=exc)
    return ApiError(500, f"Something went wrong on the server ({type(exc).__name__}); its log has the "
                         f"details.", "internal_error")
