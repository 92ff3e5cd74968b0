"""``rag timeline`` and ``rag eval timeline``: a story's dated events on the terminal or as JSON.

Registered on the ``rag`` app by :func:`register` (rag/cli.py calls it with its
shared helpers, so this module does not import rag.cli).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from rag.cli_output import emit_json, terminal_safe
from rag.errors import RagError


def register(app: typer.Typer, eval_app: typer.Typer, settings_for: Callable, fail: Callable,
             filters_from_flags: Callable) -> None:
    """Add ``timeline`` to ``app`` and ``timeline`` to ``eval_app``."""

    @app.command("timeline")
    def timeline(
        query: str = typer.Argument(..., help="The story: a topic or a question."),
        source: Optional[list[str]] = typer.Option(None, "--source", help="Only this publisher (repeatable)."),
        since: Optional[str] = typer.Option(None, "--since", help="Published on or after (YYYY-MM-DD)."),
        until: Optional[str] = typer.Option(None, "--until", help="Published on or before (YYYY-MM-DD)."),
        limit: Optional[int] = typer.Option(None, "--limit", min=1, help="At most N events (the most relevant)."),
        index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object (a stable interface)."),
        summaries: bool = typer.Option(False, "--summaries", help="A checked one-line summary per event by the "
                                       "configured chat model (RAG_LLM__*); without it no model is loaded."),
    ) -> None:
        """Who reported what about a story, and when: its events in date order."""
        from rag.search.open_index import open_index
        from rag.timeline.build import build_timeline

        settings = settings_for(index)
        filters = filters_from_flags(source, since, until)
        try:
            with open_index(settings) as opened:
                result = build_timeline(opened, query, filters, limit)
                if summaries and result.events:
                    from rag.llm.registry import make_chat_model
                    from rag.timeline.summaries import summarize_events

                    summarize_events(result, make_chat_model(settings.llm))
        except RagError as exc:
            fail(str(exc))
        if as_json:
            emit_json(result.to_dict())
            return
        print_timeline(result)

    @eval_app.command("timeline")
    def eval_timeline(
        queries: Path = typer.Option(..., "--queries", exists=True, dir_okay=False,
                                     help="MultiHop-RAG queries with evidence_list."),
        index: Path = typer.Option(..., "--index", help="Index folder holding the queries' corpus."),
        limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N qualifying questions."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Gold articles present, gold pairs in order, outlets named, events per timeline."""
        from rag.eval.timeline import evaluate_timelines

        settings = settings_for(index)
        try:
            result = evaluate_timelines(settings, queries, limit=limit)
        except RagError as exc:
            fail(str(exc))
        except (ValueError, KeyError) as exc:
            fail(f"{queries}: not MultiHop-RAG queries ({exc})")
        if as_json:
            emit_json(result["overall"])
            return
        for key, value in result["overall"].items():
            typer.echo(f"{key:>28}: {value:.3f}" if isinstance(value, float) else f"{key:>28}: {value}")


def print_timeline(result) -> None:
    """The timeline for a person: one block per event, article text made terminal-safe."""
    if result.empty:
        typer.echo(f"No articles about {terminal_safe(result.query, True)!r} were found in the index.")
        return
    typer.secho(f"{len(result.events)} event(s) from {result.articles} article(s)", bold=True)
    for event in result.events:
        first = event.first
        kind = "" if event.date_kind == "published" else " (date named in the text)"
        typer.secho(f"\n{event.date.isoformat()}{kind}", bold=True)
        typer.echo(f"  first: {terminal_safe(first.source or 'unknown outlet', True)}, "
                   f"{first.published_at}")
        for outlet in event.outlets[1:]:
            typer.echo(f"  then:  {terminal_safe(outlet.source or 'unknown outlet', True)} {outlet.delay}")
        typer.echo("  " + terminal_safe(event.summary or event.text, True))
        for c in event.citations:
            typer.secho(f"    [{c.n}] {terminal_safe(c.title, True)} — {terminal_safe(c.source or '', True)}, "
                        f"{(c.published_at or '')[:10]}  {terminal_safe(c.url or c.file or '', True)}", dim=True)
    if result.undated:
        typer.secho("\nUndated articles (no publication date; not placed in time):", bold=True)
        for entry in result.undated:
            s = entry.source
            typer.echo(f"  {terminal_safe(s.title, True)} — {terminal_safe(s.source or s.file or '', True)}")
            typer.echo("    " + terminal_safe(entry.text, True))
