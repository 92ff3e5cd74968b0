"""The MCP server (``rag mcp``): the library's search, answers and articles as tools with
input and output schemas and structured results, over stdio or streamable HTTP.

Each tool calls the same :class:`rag.serve.service.Service` operation as the HTTP API, so
``ask`` gives what ``rag ask --json`` and ``POST /v1/chat/completions`` give, and waits in
the same bounded queue for the model. A cancelled tool call stops its answer between two
model tokens (:mod:`rag.serve.cancel`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from rag.answer.pipeline import Answer
from rag.config import Settings
from rag.errors import RagError
from rag.serve.jobs import run_in_thread
from rag.serve.limits import Busy, Gate
from rag.serve.schemas import AnswerResult, ArticleResult, Filters, SearchResult, search_filters
from rag.serve.service import Service

INSTRUCTIONS = ("Answers questions over an indexed collection of news articles with checked citations. "
                "search_articles finds passages; ask answers a question and says whether each citation "
                "is supported, or why it refused; get_article reads one article by its id.")


def build_server(settings: Settings, service: Service) -> MCPServer:
    """The MCP server with its three tools over ``service``."""
    server = MCPServer("article-rag", instructions=INSTRUCTIONS, log_level="WARNING")
    max_chars = settings.serve.max_question_chars

    def check_length(name: str, text: str) -> str:
        text = text.strip()
        if not text:
            raise ToolError(f"{name} is empty.")
        if len(text) > max_chars:
            raise ToolError(f"{name} has {len(text):,} characters; at most {max_chars:,} are taken.")
        return text

    async def in_gate(gate: Gate, fn, *args):
        try:
            await gate.acquire()
        except Busy as exc:
            raise ToolError(str(exc)) from None
        started = time.perf_counter()
        try:
            return await asyncio.to_thread(fn, *args)
        except RagError as exc:
            raise ToolError(str(exc)) from None
        finally:
            gate.observe(time.perf_counter() - started)
            gate.release()

    @server.tool(title="Search the articles")
    async def search_articles(
        query: Annotated[str, Field(description="What to look for.")],
        k: Annotated[int, Field(ge=1, le=100, description="Passages to return.")] = settings.retrieval.k,
        filters: Annotated[Filters | None, Field(description="Publishers and dates.")] = None,
    ) -> SearchResult:
        """The passages that best match the query, best first (as `rag search --json`)."""
        rows = await in_gate(service.search_gate, service.search, check_length("query", query), k,
                             search_filters(filters))
        return SearchResult(results=rows)

    @server.tool(title="Answer with citations")
    async def ask(
        question: Annotated[str, Field(description="The question, standing alone.")],
        filters: Annotated[Filters | None, Field(description="Publishers and dates.")] = None,
    ) -> AnswerResult:
        """Answer the question from the articles: the text with [n] markers, each citation with
        its article and whether it supports the sentence citing it, or the refusal and its
        reason (as `rag ask --json`)."""
        question = check_length("question", question)
        gate = service.answer_gate
        try:
            await gate.acquire()
        except Busy as exc:
            raise ToolError(str(exc)) from None
        cancel = threading.Event()
        final = None
        try:
            async for item in run_in_thread(
                    lambda: service.answer_items(question, [], search_filters(filters), cancel), gate, cancel):
                if isinstance(item, Answer):
                    final = item
        except RagError as exc:
            raise ToolError(str(exc)) from None
        if final is None:
            raise ToolError("The answer ended before it was complete; try again.")
        return AnswerResult(**final.to_dict())

    @server.tool(title="Read an article")
    async def get_article(
        article_id: Annotated[str, Field(description="An article id, as search results and citations name it.")],
    ) -> ArticleResult:
        """One indexed article: its whole text and its metadata."""
        found = await in_gate(service.search_gate, service.article, article_id)
        if found is None:
            raise ToolError(f"No indexed article has the id {article_id!r}.")
        return ArticleResult(**found)

    return server


def run_stdio(settings: Settings, service: Service) -> None:
    """Serve over standard input and output (what an MCP client launches)."""
    build_server(settings, service).run("stdio")


def http_app(settings: Settings, service: Service, keys, host: str):
    """The streamable HTTP app (``/mcp``) behind the same key check as ``rag serve``."""
    from rag.serve.guard import Guard

    return Guard(build_server(settings, service).streamable_http_app(host=host), keys)


def run_http(settings: Settings, service: Service, keys, host: str, port: int) -> None:
    """Serve over streamable HTTP at ``http://HOST:PORT/mcp``."""
    import uvicorn

    uvicorn.run(http_app(settings, service, keys, host), host=host, port=port, log_level="warning")
