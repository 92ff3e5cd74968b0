"""`rag mcp` through the `mcp` SDK's own client over stdio: the tools are listed with
input and output schemas, and each structured result validates against its output schema."""

from __future__ import annotations

import asyncio
import os
import sys

import jsonschema
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from rag.index.building import build_index

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def server_params(settings) -> StdioServerParameters:
    env = {"PYTHONPATH": REPO, "RAG_INDEX_DIR": str(settings.index_dir), "RAG_EMBEDDING__BACKEND": "hashing",
           "RAG_LLM__BACKEND": "extractive", "RAG_CONFIG": os.environ["RAG_CONFIG"]}
    return StdioServerParameters(command=sys.executable, args=["-c", "from rag.cli import app; app()", "mcp"],
                                 env=env, cwd=REPO)


async def session(settings):
    async with Client(server_params(settings), read_timeout_seconds=60) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        found = await client.call_tool("search_articles", {"query": "harbour bridge", "k": 2})
        article_id = found.structured_content["results"][0]["article_id"]
        calls = {
            "search_articles": found,
            "ask": await client.call_tool("ask", {"question": "When did the harbour bridge reopen?"}),
            "get_article": await client.call_tool("get_article", {"article_id": article_id}),
        }
        failures = {
            "unknown": await client.call_tool("get_article", {"article_id": "nope"}),
            "too_long": await client.call_tool("ask", {"question": "x" * 100_000}),
            "bad_k": await client.call_tool("search_articles", {"query": "bridge", "k": 0}),
            "refused": await client.call_tool("ask", {"question": "What did the Financial Times report about the election?"}),
        }
        return tools, calls, failures


def test_tools_have_schemas_and_structured_results_that_validate(settings):
    build_index(settings)
    tools, calls, failures = asyncio.run(session(settings))
    assert set(tools) == {"search_articles", "ask", "get_article"}
    for name, tool in tools.items():
        assert tool.input_schema["type"] == "object" and tool.output_schema, name
        result = calls[name]
        assert not result.is_error, result.content
        jsonschema.validate(result.structured_content, tool.output_schema)
    assert set(tools["search_articles"].input_schema["properties"]) == {"query", "k", "filters"}
    answer = calls["ask"].structured_content
    assert "reopened on Monday" in answer["answer"] and answer["citations"][0]["supported"] is True
    assert answer["refused"] is False
    assert "cables" in calls["get_article"].structured_content["text"]
    assert failures["unknown"].is_error and "nope" in failures["unknown"].content[0].text
    assert failures["too_long"].is_error and "100,000 characters" in failures["too_long"].content[0].text
    assert failures["bad_k"].is_error
    refused = failures["refused"].structured_content
    assert refused["refused"] is True and refused["refusal_reason"] == "unknown_outlet"


def test_streamable_http_needs_the_key_when_keys_are_set(settings):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from rag.config import load_settings
    from rag.serve.access import Keys
    from rag.serve.mcp_server import http_app
    from rag.serve.service import Service
    from tests.serve_helpers import running

    build_index(settings)
    s = load_settings(index_dir=settings.index_dir, embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    app = http_app(s, Service(s), Keys(visitor=frozenset({"agent-key"})), "127.0.0.1")

    async def call(base: str, key: str | None):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                return await client.call_tool("search_articles", {"query": "harbour bridge", "k": 1})

    with running(app, lifespan="on") as base:
        result = asyncio.run(call(base, "agent-key"))
        assert result.structured_content["results"][0]["title"] == "Harbour bridge reopens"
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = httpx2.post(f"{base}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers)
            assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
