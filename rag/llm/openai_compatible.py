"""Any server speaking the OpenAI chat-completions protocol, through the ``openai`` client.

Covers OpenAI itself, Ollama, vLLM, LM Studio and llama.cpp's server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from rag.config import LLMSettings
from rag.errors import BackendError, ConfigError
from rag.llm.base import ChatModel
from rag.openai_api import (
    OPENAI_DEFAULT_URL,
    ServerContext,
    server_message,
    translate_openai_error,
)

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"


class OpenAIChatModel(ChatModel):
    """Any server speaking the OpenAI chat-completions protocol."""

    backend = "openai"

    def __init__(self, settings: LLMSettings) -> None:
        import openai

        self.settings = settings
        self.base_url = settings.base_url or OPENAI_DEFAULT_URL
        self._key_env = settings.api_key_env
        key = os.environ.get(settings.api_key_env) or None
        if key is None and settings.base_url is None:
            raise ConfigError(
                f"The openai chat backend needs an API key: set the environment variable "
                f"{settings.api_key_env}, or set RAG_LLM__BASE_URL to a local "
                f"OpenAI-compatible server (Ollama, vLLM, llama.cpp server...)."
            )
        # Local servers usually need no key; the client insists on some string.
        self._key = key or "not-needed"
        self._client = openai.OpenAI(
            base_url=self.base_url,
            api_key=self._key,
            timeout=settings.timeout,
            max_retries=settings.max_retries,
        )
        self._model = settings.model or (OPENAI_DEFAULT_MODEL if settings.base_url is None else None)

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
            return [m.id for m in self._client.models.list()]
        except Exception as exc:  # noqa: BLE001 - translated below
            raise self._translate(exc, "listing models") from None

    def stream(self, messages: list[dict], *, max_tokens: int | None = None) -> Iterator[str]:
        model = self.model
        try:
            response = self._client.chat.completions.create(
                model=model,
                messages=messages,
                stream=True,
                max_tokens=max_tokens or self.settings.max_answer_tokens,
                temperature=self.settings.temperature,
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
        if self._key and self._key != "not-needed" and self._key in text:
            text = text.replace(self._key, "***")
        return text

    def _cause(self, exc: Exception) -> str:
        """`` (Type: detail)`` for an unexpected error; nothing for a plain dropped connection."""
        import openai

        if isinstance(exc, openai.APIConnectionError):
            return ""
        return f" ({type(exc).__name__}: {self._scrub(str(exc))})"

    def _translate(self, exc: Exception, doing: str) -> Exception:
        """A BackendError (or ConfigError) with a plain message for ``exc``."""
        ctx = ServerContext("chat server", self.base_url, "RAG_LLM", self.settings.timeout,
                            self.settings.max_retries, self._key_env, BackendError, self._scrub)
        return translate_openai_error(exc, ctx, doing, not_found=self._model_not_found)

    def _model_not_found(self, exc: Exception) -> str:
        try:
            ids = [m.id for m in self._client.models.list()]
            available = ", ".join(ids[:20]) or "none"
        except Exception:  # noqa: BLE001 - best effort
            available = "unknown (listing models failed too)"
        return (f"The chat server at {self.base_url} has no model {self._model!r} (HTTP 404: "
                f"{server_message(exc, self._scrub)}). Available models: {available}. Set "
                f"RAG_LLM__MODEL to one of them.")
