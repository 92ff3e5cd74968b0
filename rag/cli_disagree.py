"""``rag disagreements QUERY`` and ``rag eval disagreements``: where outlets differ.

Registered on the main command by :func:`register` (rag/cli.py), which is handed
the command's shared helpers so that this module does not import rag.cli.
Everything printed from an article goes through
:func:`rag.cli_output.terminal_safe`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Optional

import typer

from rag.cli_output import emit_json, terminal_safe
from rag.errors import RagError


def print_disagreements(result: dict) -> None:
    """The flags of ``result`` (``{"query", "disagreements", "sources"}``) for a person."""
    flags = result["disagreements"]
    if not flags:
        typer.echo("No differences found among the matching articles.")
        return
    for i, flag in enumerate(flags, start=1):
        word = "updated" if flag["status"] == "updated" else "differ"
        typer.secho(f"{i}. {flag['kind']} · {word} · {terminal_safe(flag['slot'])}", bold=True)
        for v in flag["values"]:
            meta = ", ".join(x for x in (v.get("source"), (v.get("published_at") or "")[:16]) if x)
            typer.echo(f"   {terminal_safe(v['value'])} [{v['n']}] — {terminal_safe(meta)}")
            typer.secho(f"      “{terminal_safe(v['sentence'][:300])}”", dim=True)
    typer.secho("\nArticles:", bold=True)
    cited = {v["n"] for f in flags for v in f["values"]}
    for s in result.get("sources", []):
        if s["n"] in cited:
            meta = ", ".join(x for x in (s.get("source"), (s.get("published_at") or "")[:10]) if x)
            typer.echo(f"[{s['n']}] {terminal_safe(s['title'])}" + (f" — {terminal_safe(meta)}" if meta else "")
                       + (f"  {terminal_safe(s['url'])}" if s.get("url") else ""))


def register(app: typer.Typer, eval_app: typer.Typer, *, settings_for: Callable, fail: Callable,
             filters_from_flags: Callable) -> None:
    """Add ``disagreements`` to ``app`` and ``disagreements`` to ``eval_app``."""

    @app.command("disagreements")
    def disagreements(
        query: str = typer.Argument(..., help="The topic: what to look for."),
        source: Optional[list[str]] = typer.Option(None, "--source", help="Only this publisher (repeatable)."),
        since: Optional[str] = typer.Option(None, "--since", help="Published on or after (YYYY-MM-DD)."),
        until: Optional[str] = typer.Option(None, "--until", help="Published on or before (YYYY-MM-DD)."),
        k: int = typer.Option(30, "-k", min=2, max=200, help="Passages searched for the topic."),
        index: Optional[Path] = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object (a stable interface)."),
    ) -> None:
        """Numbers, dates and attributions on which the articles about QUERY differ."""
        from rag.disagree.topic import differences
        from rag.search.open_index import open_index

        settings = settings_for(index)
        filters = filters_from_flags(source, since, until)
        try:
            with open_index(settings) as opened:
                result = differences(opened, query, filters, k)
        except RagError as exc:
            fail(str(exc))
        if as_json:
            emit_json({"query": result["query"], "disagreements": result["disagreements"],
                       "sources": result["sources"]})
        else:
            print_disagreements(result)

    @eval_app.command("disagreements")
    def eval_disagreements(
        rgb: Optional[Path] = typer.Option(None, "--rgb", exists=True, dir_okay=False,
                                           help="RGB en_fact.json (counterfactual pairs)."),
        corpus: Optional[Path] = typer.Option(None, "--corpus", exists=True, dir_okay=False,
                                              help="MultiHop-RAG corpus.json (perturbed news)."),
        queries: Optional[Path] = typer.Option(None, "--queries", exists=True, dir_okay=False,
                                               help="MultiHop-RAG queries with evidence (perturbed news)."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    ) -> None:
        """Recall and precision of the disagreement check on RGB pairs and perturbed news."""
        from rag.eval.disagreements import evaluate_perturbed, evaluate_rgb

        if rgb is None and (corpus is None or queries is None):
            fail("give --rgb FILE, or --corpus and --queries, or both", code=2)
        result = {}
        try:
            if rgb is not None:
                result["rgb"] = evaluate_rgb(rgb)
            if corpus is not None and queries is not None:
                result["perturbed"] = evaluate_perturbed(corpus, queries)
        except (ValueError, KeyError) as exc:
            fail(f"not the expected data ({exc})")
        if as_json:
            emit_json(result)
            return
        for name, part in result.items():
            for group, m in part.items():
                typer.echo(f"{name:>9} {group:>12}: " + "  ".join(
                    f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                    for key, value in m.items()))
