"""What the chat and the embedding backends share about OpenAI-protocol servers.

The default URL; which API key a server gets (:func:`server_key`) and a client
that sends nothing else from the environment (:func:`openai_client`); and one
translation of the ``openai`` client's exceptions into messages that name the
server, what failed, how often it was tried and which setting to change. The
chat backend raises them as ``BackendError``, the embedder as ``EmbedderError``.

The key rule: a key is sent to OpenAI's own endpoint (``https://api.openai.com``,
from ``OPENAI_API_KEY`` unless ``api_key_env`` names another variable), and to
any other server only when it was given for that server: ``api_key_env``
naming a variable, or ``api_key`` (the UI's key typed for one session).
Moving settings to another URL drops both (:func:`rag.config.updated`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from rag.errors import ConfigError, RagError, tries

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
OPENAI_KEY_ENV = "OPENAI_API_KEY"


def is_openai_endpoint(base_url: str | None) -> bool:
    """True for no URL (the client's default) and ``https://api.openai.com/...``."""
    if not base_url:
        return True
    try:
        parts = urlsplit(base_url.strip())
        return parts.scheme == "https" and parts.hostname == "api.openai.com" and parts.port in (None, 443)
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerKey:
    """The key one server gets (``value`` None: no key) and, for messages, where it came from."""

    value: str | None = field(repr=False)
    source: str | None  # e.g. "the environment variable OPENAI_API_KEY"

    def scrub(self, text: str) -> str:
        """``text`` with the key replaced by ``***``."""
        return text.replace(self.value, "***") if self.value else text


def server_key(base_url: str | None, api_key: SecretStr | None, api_key_env: str | None,
               prefix: str) -> ServerKey:
    """The key for ``base_url`` under the key rule (module docstring).

    ``prefix`` names the settings in messages (``RAG_LLM`` or ``RAG_EMBEDDING``).
    Raises ConfigError when a named variable is empty, or when OpenAI's own
    endpoint would get no key.
    """
    url = base_url or OPENAI_DEFAULT_URL
    if api_key is not None and api_key.get_secret_value():
        return ServerKey(api_key.get_secret_value(), "the API key given for this session")
    if api_key_env:
        value = os.environ.get(api_key_env)
        if not value:
            raise ConfigError(
                f"{prefix}__API_KEY_ENV names the environment variable {api_key_env} for the "
                f"server at {url}, but it is not set: export {api_key_env}=..., or unset "
                f"{prefix}__API_KEY_ENV if the server needs no key.")
        return ServerKey(value, f"the environment variable {api_key_env}")
    if is_openai_endpoint(base_url):
        value = os.environ.get(OPENAI_KEY_ENV)
        if not value:
            raise ConfigError(
                f"OpenAI ({url}) needs an API key: export {OPENAI_KEY_ENV}=sk-..., or name "
                f"another variable with {prefix}__API_KEY_ENV; or set {prefix}__BASE_URL to a "
                f"local OpenAI-compatible server (Ollama, vLLM, llama.cpp server...).")
        return ServerKey(value, f"the environment variable {OPENAI_KEY_ENV}")
    return ServerKey(None, None)


def openai_client(base_url: str | None, key: ServerKey, timeout: float, max_retries: int) -> Any:
    """An ``openai.OpenAI`` client for ``base_url`` (explicit, never ``OPENAI_BASE_URL``)
    that sends ``key``; pass :func:`request_headers` with every request.

    It follows no redirect: the ``openai`` client's own HTTP client would
    re-send the whole request, the question and the articles' text, to
    wherever a server points it (dropping only the key). A redirect is an
    error that names where it pointed (:func:`translate_openai_error`).
    """
    import openai

    # The client insists on some key string; with no key, request_headers omits the header.
    return openai.OpenAI(base_url=base_url or OPENAI_DEFAULT_URL, api_key=key.value or "no-key",
                         timeout=timeout, max_retries=max_retries,
                         http_client=openai.DefaultHttpxClient(follow_redirects=False))


def request_headers(base_url: str | None, key: ServerKey) -> dict[str, Any]:
    """``extra_headers`` for each request: no ``Authorization`` header at all when
    there is no key, and no ``OpenAI-Organization``/``OpenAI-Project`` (which the
    client reads from the environment) for servers other than OpenAI's."""
    import openai

    omit: dict[str, Any] = {}
    if key.value is None:
        omit["Authorization"] = openai.Omit()
    if not is_openai_endpoint(base_url):
        omit["OpenAI-Organization"] = omit["OpenAI-Project"] = openai.Omit()
    return omit


@dataclass(frozen=True)
class ServerContext:
    """Who failed, for the message: ``"chat server"`` and ``RAG_LLM`` or the embedding equivalents."""

    noun: str
    url: str
    setting_prefix: str
    timeout: float
    max_retries: int
    key: ServerKey
    error: type[RagError]

    def scrub(self, text: str) -> str:
        return self.key.scrub(text)


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
        if ctx.key.source is None:
            return ctx.error(
                f"{what} asks for an API key (HTTP {exc.status_code}) and none is sent to it: name "
                f"the environment variable that holds its key with {prefix}__API_KEY_ENV.")
        return ctx.error(
            f"{what} rejected the API key (HTTP {exc.status_code}). Check {ctx.key.source}.")
    if isinstance(exc, openai.NotFoundError) and not_found is not None:
        return ctx.error(not_found(exc))
    if isinstance(exc, openai.RateLimitError):
        return ctx.error(
            f"{what} is rate-limiting requests (HTTP 429) and still was after {attempts}: "
            f"{server_message(exc, ctx.scrub)}. Wait a little and ask again, or raise "
            f"{prefix}__MAX_RETRIES.")
    if isinstance(exc, openai.APIStatusError) and 300 <= exc.status_code < 400:
        where = ctx.scrub(str(exc.response.headers.get("location") or "another address"))[:300]
        return ctx.error(
            f"{what} answered with a redirect (HTTP {exc.status_code}) to {where} while {doing}; it is "
            f"not followed, because the request carries the question and the articles' text. If that is "
            f"where the server now lives, set {prefix}__BASE_URL to it.")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return ctx.error(
                f"{what} failed with HTTP {exc.status_code} after {attempts} while {doing}: "
                f"{server_message(exc, ctx.scrub)}. Check the server's logs and try again.")
        return ctx.error(
            f"{what} refused the request with HTTP {exc.status_code} while {doing}: "
            f"{server_message(exc, ctx.scrub)}")
    return ctx.error(f"{what} failed while {doing}: {type(exc).__name__}: {ctx.scrub(str(exc))}")
