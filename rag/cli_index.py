"""``rag index remove``: taking articles out of the index on request.

Registered on the ``index`` group of :mod:`rag.cli` by :func:`register_index_commands`
(kept out of ``cli.py`` so that its commands stay a short list).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from rag.cli_output import emit_json, terminal_safe
from rag.errors import RagError


def register_index_commands(index_app: typer.Typer, settings_for: Callable, fail: Callable) -> None:
    """Add ``remove`` to ``index_app``; ``settings_for`` and ``fail`` are the CLI's own."""

    @index_app.command("remove")
    def index_remove(
        targets: list[str] = typer.Argument(..., metavar="PATH|ARTICLE_ID...",
                                            help="A file or folder articles were indexed from, or an article id."),
        index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object (a stable interface)."),
    ) -> None:
        """Remove articles from the index: every article indexed from under PATH, or the
        article ARTICLE_ID (files on disk are not touched; nothing is re-embedded)."""
        from rag.index.removal import remove_articles
        from rag.index.stores import make_store

        settings = settings_for(index)
        try:
            report = remove_articles(make_store(settings, building=True), targets)
        except RagError as exc:
            fail(str(exc))
        if as_json:
            emit_json(report.to_dict())
            return
        typer.echo(terminal_safe(f"removed {report.removed} article(s); {report.articles} articles, "
                                 f"{report.passages} passages left in {settings.index_dir}"))
