"""Any server speaking the OpenAI chat-completions protocol, through the ``openai`` client.

Covers OpenAI itself, Ollama, vLLM, LM Studio and llama.cpp's server.
"""

from __future__ import annotations

from collections.abc import Iterator

from rag.config import LLMSettings
from rag.errors import BackendError, ConfigError
from rag.llm.base import ChatModel
from rag.openai_api import (
    OPENAI_DEFAULT_URL,
    ServerContext,
    is_openai_endpoint,
    openai_client,
    request_headers,
    server_key,
    server_message,
    translate_openai_error,
)

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


class OpenAIChatModel(ChatModel):
    """Any server speaking the OpenAI chat-completions protocol."""

    backend = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        self.settings = settings
        self.base_url = settings.base_url or OPENAI_DEFAULT_URL
        # Which key this server gets: rag.openai_api's rule, shared with the embedder.
        self._key = server_key(settings.base_url, settings.api_key, settings.api_key_env, "RAG_LLM")
        self._client = openai_client(self.base_url, self._key, settings.timeout, settings.max_retries)
        self._headers = request_headers(self.base_url, self._key)
        self._model = settings.model or (OPENAI_DEFAULT_MODEL if is_openai_endpoint(settings.base_url) else None)

    def __repr__(self) -> str:
        return f"OpenAIChatModel(base_url={self.base_url!r}, model={self._model!r})"

    @property
    def model(self) -> str:  # type: ignore[override]
        """The configured model, or the server's first listed model."""
        if self._model is None:
            ids = self.available_models()
            if not ids:
                raise ConfigError(
                    f"The chat server at {self.base_url} lists no models: set RAG_LLM__MODEL "
                    f"to the model it should use."
                )
            self._model = ids[0]
        return self._model

    def available_models(self) -> list[str]:
        """Model ids from ``GET /models`` (raises BackendError on failure)."""
        try:
            return [m.id for m in self._client.models.list(extra_headers=self._headers)]
        except Exception as exc:  # noqa: BLE001 - translated below
            raise self._translate(exc, "listing models") from None

    def stream(self, messages: list[dict], *, max_tokens: int | None = None,
               yes_no_threshold: float | None = None) -> Iterator[str]:
        model = self.model
        try:
            response = self._client.chat.completions.create(
                model=model,
                messages=messages,
                stream=True,
                max_tokens=max_tokens or self.settings.max_answer_tokens,
                temperature=self.settings.temperature,
                extra_headers=self._headers,
            )
        except Exception as exc:  # noqa: BLE001 - translated below
            raise self._translate(exc, "starting the answer") from None
        finish_reason = None
        produced = False
        try:
            try:
                for chunk in response:
                    for choice in chunk.choices or ():
                        text = choice.delta.content if choice.delta else None
                        if text:
                            produced = True
                            yield text
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
            except Exception as exc:  # noqa: BLE001 - connection dropped mid-stream
                raise BackendError(
                    f"The answer was cut off: the connection to the chat server at "
                    f"{self.base_url} broke mid-way{self._cause(exc)}. Try again; if it keeps "
                    f"happening, check the server's logs."
                ) from None
        finally:
            response.close()
        if finish_reason is None:
            raise BackendError(
                f"The answer was cut off: the chat server at {self.base_url} ended the stream "
                f"without finishing the reply. Try again; if it keeps happening, check the "
                f"server's logs."
            )
        if not produced:
            raise BackendError(
                f"The chat server at {self.base_url} returned an empty reply (model {model!r}, "
                f"finish reason {finish_reason!r}). Try again, or try another model."
            )

    # -- errors --------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        return self._key.scrub(text)

    def _cause(self, exc: Exception) -> str:
        """`` (Type: detail)`` for an unexpected error; nothing for a plain dropped connection."""
        import openai

        if isinstance(exc, openai.APIConnectionError):
            return ""
        return f" ({type(exc).__name__}: {self._scrub(str(exc))})"

    def _translate(self, exc: Exception, doing: str) -> Exception:
        """A BackendError (or ConfigError) with a plain message for ``exc``."""
        ctx = ServerContext("chat server", self.base_url, "RAG_LLM", self.settings.timeout,
                            self.settings.max_retries, self._key, BackendError)
        return translate_openai_error(exc, ctx, doing, not_found=self._model_not_found)

    def _model_not_found(self, exc: Exception) -> str:
        try:
            ids = [m.id for m in self._client.models.list(extra_headers=self._headers)]
            available = ", ".join(ids[:20]) or "none"
        except Exception:  # noqa: BLE001 - best effort
            available = "unknown (listing models failed too)"
        return (f"The chat server at {self.base_url} has no model {self._model!r} (HTTP 404: "
                f"{server_message(exc, self._scrub)}). Available models: {available}. Set "
                f"RAG_LLM__MODEL to one of them.")
