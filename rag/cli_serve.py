"""``rag serve`` (the OpenAI-compatible HTTP API) and ``rag mcp`` (the MCP server):
registered on the ``rag`` command by :func:`register` (docs/api.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rag.errors import RagError

IndexOpt = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/).")


def _exit(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _prepare(index: Optional[Path], host: str, what: str):
    """Settings, keys and the opened service, or a clear exit: bad settings, a key variable
    that is named but unset, or a non-loopback address without keys."""
    from rag.config import load_settings
    from rag.serve.access import Keys, check_listen
    from rag.serve.service import Service

    try:
        settings = load_settings(**({"index_dir": index} if index is not None else {}))
    except Exception as exc:  # pydantic's ValidationError names the bad field
        _exit(f"invalid settings: {exc}")
    try:
        keys = Keys.from_settings(settings.serve)
        check_listen(host, keys, what)
    except RagError as exc:
        _exit(str(exc))
    service = Service(settings)
    typer.secho("Opening the index and loading the chat model…", err=True, dim=True)
    try:
        service.opened()
        service.chat_model.count_tokens("warm up")  # loads an in-process model now, not on the first question
    except RagError as exc:
        typer.secho(f"warning: {exc} (requests that need it get an error until this is fixed)",
                    err=True, fg=typer.colors.YELLOW)
    return settings, keys, service


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; any but loopback needs keys."),
    port: int = typer.Option(8000, "--port", min=0, max=65535),
    index: Optional[Path] = IndexOpt,
) -> None:
    """Serve the answers over HTTP: OpenAI's chat-completions protocol with typed citations."""
    import uvicorn

    from rag.serve.app import create_app

    settings, keys, service = _prepare(index, host, "rag serve")
    typer.secho(f"article-rag API on http://{host}:{port}/v1 (model 'article-rag', "
                f"{'keys required' if keys.required else 'no keys: loopback only'})", err=True)
    try:
        uvicorn.run(create_app(settings, service, keys), host=host, port=port, log_level="warning")
    finally:
        service.close()


def mcp(
    http: bool = typer.Option(False, "--http", help="Streamable HTTP instead of standard input/output."),
    host: str = typer.Option("127.0.0.1", "--host", help="With --http: address (any but loopback needs keys)."),
    port: int = typer.Option(8001, "--port", min=0, max=65535, help="With --http: port."),
    index: Optional[Path] = IndexOpt,
) -> None:
    """Serve the answers to agents over the Model Context Protocol (tools: search_articles, ask, get_article)."""
    from rag.serve.mcp_server import run_http, run_stdio

    settings, keys, service = _prepare(index, host if http else "127.0.0.1", "rag mcp --http")
    try:
        if http:
            typer.secho(f"article-rag MCP server on http://{host}:{port}/mcp", err=True)
            run_http(settings, service, keys, host, port)
        else:
            run_stdio(settings, service)
    finally:
        service.close()


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``mcp`` to the ``rag`` command."""
    app.command("serve")(serve)
    app.command("mcp")(mcp)
