"""Serving the library to other tools: an OpenAI-compatible HTTP API (``rag serve``) and an
MCP server (``rag mcp``), both thin over the same code path as the CLI and the UI.

- :mod:`rag.serve.service`: the index, the embedder and the chat model, opened once per
  process, and every operation the servers offer (answer, search, article, index info,
  rebuild);
- :mod:`rag.serve.jobs`: a pipeline run in a worker thread that a disconnecting client
  stops between two tokens (:mod:`rag.serve.cancel`);
- :mod:`rag.serve.limits`: the bounded queue in front of the model;
- :mod:`rag.serve.access`: keys, loopback-only without them, admin keys;
- :mod:`rag.serve.schemas`, :mod:`rag.serve.chat`, :mod:`rag.serve.errors`: the OpenAI
  protocol's shapes and errors;
- :mod:`rag.serve.app`: the FastAPI application; :mod:`rag.serve.mcp_server`: the MCP tools.

Nothing else in ``rag`` imports this package except the CLI (``rag.cli_serve``).
"""
