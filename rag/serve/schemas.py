"""Request and response shapes of the HTTP API and the MCP tools (pydantic).

Requests are strict: an unknown top-level field is a 400 that names it, so a request can
never slip in a backend, a model path or a server URL. The OpenAI fields that a chat client
commonly sends (``temperature``, ``max_tokens``...) are accepted and ignored: the answer
comes from the configured pipeline with its own settings (docs/api.md). Responses allow
extra fields, so a field the library adds to ``Answer.to_dict`` flows through.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.answer.citations import Citation

MODEL_ID = "article-rag"


class Filters(BaseModel):
    """Only passages of these publishers, published in this range (inclusive days)."""

    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(default_factory=list, description="Publishers, matched case-insensitively.")
    since: date | None = Field(None, description="Published on or after this day (YYYY-MM-DD).")
    until: date | None = Field(None, description="Published on or before this day (YYYY-MM-DD).")


class TextPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """One message of the conversation. An assistant message this API returned may be sent
    back whole: its extra fields are ignored except ``standalone_question``, which saves
    rewriting the question it answered again."""

    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None
    standalone_question: str | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """``POST /v1/chat/completions``."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(description=f"Always {MODEL_ID!r} (GET /v1/models).")
    messages: list[ChatMessage] = Field(min_length=1, description="The conversation; the last is the question.")
    stream: bool = False
    stream_options: StreamOptions | None = None
    filters: Filters | None = Field(None, description="article-rag: publishers and dates (extra_body).")
    n: int = Field(1, ge=1, le=1, description="Only one answer per request.")
    # Accepted for compatibility with chat clients, and ignored (docs/api.md).
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    user: str | None = None
    metadata: dict[str, Any] | None = None
    logit_bias: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    store: bool | None = None
    parallel_tool_calls: bool | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None
    response_format: dict[str, Any] | None = None


class SearchRequest(BaseModel):
    """``POST /v1/search``: what ``rag search QUERY -k K --source ... --json`` takes."""

    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, description="What to look for.")
    k: int | None = Field(None, ge=1, le=100, description="Passages to return (default: retrieval.k).")
    filters: Filters | None = None


class RebuildRequest(BaseModel):
    """``POST /v1/index/rebuild`` (admin key): rebuild from the configured articles folder."""

    model_config = ConfigDict(extra="forbid")
    full: bool = Field(False, description="Re-embed everything (after changing the embedder).")


# -- results (also the MCP tools' output schemas) -----------------------------------------

class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnswerResult(Open):
    """The answer with its citations and refusal: ``rag ask --json``'s object."""

    question: str
    standalone_question: str
    answer: str
    # The library's own dataclass, not a copy: a field it gains is in the schema too.
    citations: list[Citation]
    passages: list[dict[str, Any]]
    refused: bool
    refusal_reason: str | None
    dropped_citations: int
    unsupported_citations: int
    backend: str
    model: str


class SearchRow(Open):
    """One passage of ``rag search --json``."""

    rank: int
    score: float
    passage_id: str
    article_id: str
    title: str
    source: str | None
    published_at: str | None
    url: str | None
    text: str


class SearchResult(Open):
    results: list[SearchRow]


class ArticleResult(Open):
    """One stored article: its text and metadata."""

    article_id: str
    title: str | None
    source: str | None
    published_at: str | None
    url: str | None
    author: str | None
    file: str | None
    extra: dict[str, Any]
    text: str


def search_filters(filters: Filters | None):
    """The library's SearchFilters for a request's ``filters``."""
    from rag.types import SearchFilters

    if filters is None:
        return None
    return SearchFilters(sources=list(filters.sources), since=filters.since, until=filters.until)
