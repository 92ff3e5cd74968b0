"""What the chat and the embedding backends share about OpenAI-protocol servers.

The default URL, and one translation of the ``openai`` client's exceptions
into messages that name the server, what failed, how often it was tried and
which setting to change. The chat backend raises them as ``BackendError``,
the embedder as ``EmbedderError``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rag.errors import RagError, tries

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


@dataclass(frozen=True)
class ServerContext:
    """Who failed, for the message: ``"chat server"`` and ``RAG_LLM`` or the embedding equivalents."""

    noun: str
    url: str
    setting_prefix: str
    timeout: float
    max_retries: int
    key_env: str
    error: type[RagError]
    scrub: Callable[[str], str] = lambda text: text


def server_message(exc: Any, scrub: Callable[[str], str]) -> str:
    """The server's own error message, if it sent one, with any key scrubbed."""
    body = getattr(exc, "body", None)
    message = None
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else None
    return scrub(str(message or getattr(exc, "message", "") or exc)).rstrip(". ")


def translate_openai_error(exc: Exception, ctx: ServerContext, doing: str,
                           not_found: Callable[[Exception], str] | None = None) -> Exception:
    """A ``ctx.error`` with a plain message for ``exc``, raised while ``doing``.

    ``not_found`` phrases HTTP 404 (the chat backend lists the models the
    server has); other errors are phrased the same for every backend.
    """
    import openai

    url, prefix, attempts = ctx.url, ctx.setting_prefix, tries(ctx.max_retries + 1)
    what = f"The {ctx.noun} at {url}"
    if isinstance(exc, RagError):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ctx.error(
            f"{what} did not answer within {ctx.timeout:g} s ({attempts}) while {doing}. Is it "
            f"overloaded? Raise {prefix}__TIMEOUT or use a smaller model.")
    if isinstance(exc, openai.APIConnectionError):
        return ctx.error(
            f"Could not connect to the {ctx.noun} at {url} while {doing}: is the server running at "
            f"{url}? Start it, or fix {prefix}__BASE_URL.")
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ctx.error(
            f"{what} rejected the API key (HTTP {exc.status_code}). Check the environment "
            f"variable {ctx.key_env}.")
    if isinstance(exc, openai.NotFoundError) and not_found is not None:
        return ctx.error(not_found(exc))
    if isinstance(exc, openai.RateLimitError):
        return ctx.error(
            f"{what} is rate-limiting requests (HTTP 429) and still was after {attempts}: "
            f"{server_message(exc, ctx.scrub)}. Wait a little and ask again, or raise "
            f"{prefix}__MAX_RETRIES.")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ctx.error(
                f"{what} failed with HTTP {exc.status_code} after {attempts} while {doing}: "
                f"{server_message(exc, ctx.scrub)}. Check the server's logs and try again.")
        return ctx.error(
            f"{what} refused the request with HTTP {exc.status_code} while {doing}: "
            f"{server_message(exc, ctx.scrub)}")
    return ctx.error(f"{what} failed while {doing}: {type(exc).__name__}: {ctx.scrub(str(exc))}")
