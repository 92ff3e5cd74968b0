"""``rag changes [ARTICLE_ID | --since DATE] [--json]``: what changed when articles were updated.

Registered on the ``rag`` app by :func:`register` (rag/cli.py calls it with its
shared helpers, so this module does not import rag.cli). It opens the passage
store only: no embedder or model is loaded. Every string from an article goes
through :func:`rag.cli_output.terminal_safe`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from rag.cli_output import emit_json, terminal_safe
from rag.errors import RagError


def register(app: typer.Typer, settings_for: Callable, fail: Callable, filters_from_flags: Callable) -> None:
    """Add ``changes`` to ``app``."""

    @app.command("changes")
    def changes(
        article_id: Optional[str] = typer.Argument(None, help="One article (its id, or its link); default: "
                                                   "every updated article."),
        since: Optional[str] = typer.Option(None, "--since", help="Only updates seen on or after (YYYY-MM-DD)."),
        index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object (a stable interface)."),
    ) -> None:
        """What changed in updated articles: headline, sentences added, removed and changed."""
        from rag.index.stores import make_store
        from rag.timeline.updates import article_updates, updated_articles

        settings = settings_for(index)
        day = filters_from_flags(None, since, None).since
        try:
            snapshot = make_store(settings).open()
            try:
                articles = ([article_updates(snapshot, article_id, day)] if article_id
                            else updated_articles(snapshot, day))
            finally:
                snapshot.close()
        except RagError as exc:
            fail(str(exc))
        if as_json:
            emit_json({"articles": articles})
            return
        print_changes(articles, article_id, since)


def print_changes(articles: list[dict], article_id: str | None, since: str | None) -> None:
    """The updates for a person, one block per article."""
    when = f" since {since}" if since else ""
    if not article_id and not articles:
        typer.echo(f"No article in the index was updated{when} (a build keeps the earlier text of an article "
                   "whose title or body changed).")
        return
    for entry in articles:
        label = terminal_safe(entry["title"] or "untitled", True)
        typer.secho(f"{label} — {terminal_safe(entry['source'] or 'unknown outlet', True)} "
                    f"(id {entry['article_id']})", bold=True)
        if not entry["revisions"]:
            typer.echo(f"  no update seen{when}" if since
                       else "  no earlier version: its text has not changed since it was first indexed")
        for rev in entry["revisions"]:
            published = f", published {rev['published_at']}" if rev["published_at"] else ""
            typer.echo(f"  updated, seen {rev['seen_at']}{published}")
            print_revision(rev)


def print_revision(rev: dict) -> None:
    if not rev["substantive"]:
        typer.secho("    no substantive change (paragraphs moved, or whitespace and typography only)", dim=True)
    if rev["headline"]:
        typer.echo(f"    headline: {terminal_safe(rev['headline']['old'], True)!r}")
        typer.echo(f"          -> {terminal_safe(rev['headline']['new'], True)!r}")
    for c in rev["changed"]:
        picked = "; ".join(f"{kind} {', '.join(c[kind])}" for kind in ("numbers", "dates", "names") if c[kind])
        typer.echo(f"    changed: {terminal_safe(c['old'], True)}")
        typer.echo(f"          -> {terminal_safe(c['new'], True)}" + (f"  ({terminal_safe(picked, True)})"
                                                                       if picked else ""))
    for s in rev["added"]:
        typer.echo(f"    added:   {terminal_safe(s, True)}")
    for s in rev["removed"]:
        typer.echo(f"    removed: {terminal_safe(s, True)}")
