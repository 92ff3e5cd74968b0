"""Chat models: one interface, swappable backends chosen by name.

``ChatModel.stream(messages)`` yields text deltas; ``complete`` joins them.
Backends:

- ``openai``: any OpenAI-compatible server through the ``openai`` client
  (OpenAI itself, Ollama, vLLM, LM Studio, llama.cpp's server).
- ``llama-cpp``: a GGUF file run in-process by llama-cpp-python (the offline
  default), in :mod:`rag.llm_local`.
- ``extractive``: no language model; quotes the best matching sentences of the
  passages it is given, with their ``[n]`` markers.

Every backend failure surfaces as :class:`~rag.errors.BackendError` whose
message names the server or file and what to do. API keys never appear in
messages or reprs: only the *name* of the environment variable does.
"""

from __future__ import annotations

import os
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any

from rag.config import LLMSettings
from rag.errors import BackendError, ConfigError, tries

OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"


class ChatModel(ABC):
    """A chat model that streams its answer as text deltas."""

    backend: str
    model: str

    @abstractmethod
    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        passages: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> Iterator[str]:
        """Yield the answer in pieces. ``passages`` (objects with ``.text``,
        numbered 1..n in order) and ``question`` are used by the extractive
        model only; the others read the messages."""

    def complete(self, messages: list[dict], **kw: Any) -> str:
        """The whole answer as one string (the joined stream)."""
        return "".join(self.stream(messages, **kw))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r}, model={self.model!r})"


def last_user_message(messages: Sequence[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return message["content"]
    return ""


# --------------------------------------------------------------------------------------
# OpenAI-compatible servers


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

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        passages: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> Iterator[str]:
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

    def _server_message(self, exc: Any) -> str:
        body = getattr(exc, "body", None)
        message = None
        if isinstance(body, dict):
            error = body.get("error", body)
            message = error.get("message") if isinstance(error, dict) else None
        return self._scrub(str(message or getattr(exc, "message", "") or exc)).rstrip(". ")

    def _translate(self, exc: Exception, doing: str) -> Exception:
        """A BackendError (or ConfigError) with a plain message for ``exc``."""
        import openai

        url = self.base_url
        attempts = tries(self.settings.max_retries + 1)
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                f"The chat server at {url} did not answer within {self.settings.timeout:g} s "
                f"({attempts}) while {doing}. Is it overloaded? Raise RAG_LLM__TIMEOUT or use "
                f"a smaller model."
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                f"Could not connect to the chat server at {url} while {doing}: is the server "
                f"running at {url}? Start it, or fix RAG_LLM__BASE_URL."
            )
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return BackendError(
                f"The chat server at {url} rejected the API key (HTTP {exc.status_code}). Check "
                f"the environment variable {self._key_env}."
            )
        if isinstance(exc, openai.NotFoundError):
            model = self._model
            try:
                ids = [m.id for m in self._client.models.list()]
                available = ", ".join(ids[:20]) or "none"
            except Exception:  # noqa: BLE001 - best effort
                available = "unknown (listing models failed too)"
            return BackendError(
                f"The chat server at {url} has no model {model!r} (HTTP 404: "
                f"{self._server_message(exc)}). Available models: {available}. Set "
                f"RAG_LLM__MODEL to one of them."
            )
        if isinstance(exc, openai.RateLimitError):
            return BackendError(
                f"The chat server at {url} is rate-limiting requests (HTTP 429) and still was "
                f"after {attempts}: {self._server_message(exc)}. Wait a little and ask "
                f"again, or raise RAG_LLM__MAX_RETRIES."
            )
        if isinstance(exc, openai.APIStatusError):
            if exc.status_code >= 500:
                return BackendError(
                    f"The chat server at {url} failed with HTTP {exc.status_code} after {attempts} "
                    f"while {doing}: {self._server_message(exc)}. Check the server's logs "
                    f"and try again."
                )
            return BackendError(
                f"The chat server at {url} refused the request with HTTP {exc.status_code} "
                f"while {doing}: {self._server_message(exc)}"
            )
        if isinstance(exc, (BackendError, ConfigError)):
            return exc
        return BackendError(
            f"The chat server at {url} failed while {doing}: {type(exc).__name__}: "
            f"{self._scrub(str(exc))}"
        )


# --------------------------------------------------------------------------------------
# Extractive: no language model at all

EXTRACTIVE_INTRO = (
    "No language model was used: these are the sentences from the articles that best match "
    "your question."
)
EXTRACTIVE_NOTHING = (
    "No language model was used, and the articles given do not appear to answer this question: "
    "none of their sentences share its key words."
)

_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves tell say said says according article articles news please know""".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_CLOSING = re.compile(r"([.!?…]+[\"'”’)\]]*)\s*$")


def _question_words(text: str) -> str:
    """The question without the words that only frame it ("tell", "article"...)."""
    words = [w for w in _WORD.findall(text.lower()) if w.split("'")[0] not in _STOPWORDS]
    return " ".join(words)


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``; lines (such as a passage header) never merge."""
    try:
        from rag.sentences import split_sentences as shared  # type: ignore[import-not-found]
    except ImportError:
        shared = None
    if shared is not None:
        return [s.strip() for s in shared(text) if s.strip()]
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    out: list[str] = []
    for line in text.splitlines():
        if line.strip():
            out.extend(s.strip() for s in segmenter.segment(line) if s.strip())
    return out


def _cite(sentence: str, n: int) -> str:
    """``sentence`` with ``[n]`` placed before its closing punctuation."""
    match = _CLOSING.search(sentence)
    if match:
        return f"{sentence[: match.start()].rstrip()} [{n}]{match.group(1)}"
    return f"{sentence} [{n}]"


class ExtractiveChatModel(ChatModel):
    """Answers with the passages' sentences that best match the question (BM25)."""

    backend = "extractive"
    model = "extractive"
    max_sentences = 4
    min_words = 4  # shorter fragments (headers, datelines) are not quoted

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self.settings = settings

    def select(self, question: str, passages: Sequence[Any]) -> list[tuple[str, int]]:
        """Up to ``max_sentences`` (sentence, passage number) pairs, best first.

        Sentences are scored with BM25 (the ``bm25s`` library, through
        :class:`rag.lexical.LexicalIndex`) over all sentences of the passages.
        """
        from rag.lexical import LexicalIndex

        query = _question_words(question)
        if not query:
            return []
        candidates: list[tuple[str, int]] = []
        seen: set[str] = set()
        for n, passage in enumerate(passages, start=1):
            text = getattr(passage, "text", passage)
            for sentence in split_sentences(str(text)):
                key = " ".join(sentence.lower().split())
                if key in seen or len(sentence.split()) < self.min_words:
                    continue
                seen.add(key)
                candidates.append((sentence, n))
        if not candidates:
            return []
        scores = LexicalIndex.build([s for s, _ in candidates]).scores(query)
        order = sorted((i for i in range(len(candidates)) if scores[i] > 0), key=lambda i: (-scores[i], i))
        return [candidates[i] for i in order[: self.max_sentences]]

    def stream(
        self,
        messages: list[dict],
        *,
        max_tokens: int | None = None,
        passages: Sequence[Any] | None = None,
        question: str | None = None,
    ) -> Iterator[str]:
        question = question if question is not None else last_user_message(messages)
        picked = self.select(question, passages or [])
        if not picked:
            yield EXTRACTIVE_NOTHING
            return
        yield EXTRACTIVE_INTRO
        for sentence, n in picked:
            yield "\n\n" + _cite(sentence, n)


# --------------------------------------------------------------------------------------
# Registry

CHAT_MODELS: dict[str, type[ChatModel]] = {
    "openai": OpenAIChatModel,
    "extractive": ExtractiveChatModel,
}

# rag.llm_local subclasses ChatModel (defined above) and registers itself as
# "llama-cpp" when its import finishes; importing it here covers the usual
# order (rag.llms first). When rag.llm_local is imported first, it is the one
# importing this module, and it registers itself after.
if "rag.llm_local" not in sys.modules:
    from rag.llm_local import LlamaCppChatModel  # noqa: E402,F401


def make_chat_model(settings: LLMSettings) -> ChatModel:
    """The chat model named by ``settings.backend``."""
    name = (settings.backend or "").strip().lower().replace("_", "-")
    if name == "llamacpp":
        name = "llama-cpp"
    cls = CHAT_MODELS.get(name)
    if cls is None:
        raise ConfigError(
            f"Unknown chat backend {settings.backend!r}: set RAG_LLM__BACKEND to one of "
            f"{', '.join(sorted(CHAT_MODELS))}."
        )
    return cls(settings)
