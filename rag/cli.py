"""The ``rag`` command. Thin: every command calls the library and prints."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from rag.config import Settings, load_settings
from rag.errors import RagError
from rag.cli_output import emit_json, json_text, last_item, live_stage, stderr_stage, terminal_safe  # noqa: I001
from rag.cli_output import source_line, warn_large_files, with_progress, with_version_option

# rich_markup_mode=None: click's plain help screens (typer's rich ones print "<bool>" beside every flag).
app = typer.Typer(help="Cited answers over a collection of news articles.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
index_app = typer.Typer(help="Build and inspect the index.", no_args_is_help=True, rich_markup_mode=None)
eval_app = typer.Typer(help="Measure retrieval and answers on MultiHop-RAG-format data.", no_args_is_help=True,
                       rich_markup_mode=None)
app.callback()(with_version_option)
app.add_typer(index_app, name="index")
app.add_typer(eval_app, name="eval")

IndexOpt = typer.Option(None, "--index", help="Index folder (default: RAG_INDEX_DIR or index/).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object (a stable interface).")


def fail(message: str, code: int = 1) -> None:
    """Print an error for a person and exit non-zero."""
    typer.secho(f"error: {terminal_safe(message)}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def settings_for(index: Optional[Path] = None, **overrides) -> Settings:
    """Settings with command-line flags on top of rag.toml and the environment."""
    try:
        if index is not None:
            overrides["index_dir"] = index
        return load_settings(**overrides)
    except Exception as exc:  # pydantic's ValidationError names the bad field
        fail(f"invalid settings: {exc}")
        raise  # unreachable


@index_app.command("build")
def index_build(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders (default: the articles folder)."),
    index: Optional[Path] = IndexOpt,
    full: bool = typer.Option(False, "--full", help="Re-embed everything (needed after changing the embedder)."),
    exact: bool = typer.Option(False, "--exact", help="Make the index hold only the articles under PATHS "
                               "(articles indexed from other paths are removed)."),
    as_json: bool = JsonOpt,
) -> None:
    """Sync the index with the articles under PATHS: new, changed and deleted files there;
    articles indexed from other paths stay (see --exact and `rag index remove`)."""
    from rag.index.building import build_index
    from rag.index.large_files import large_file_report

    settings = settings_for(index)
    warn_large_files(paths or [settings.articles_dir])
    try:
        report = with_progress(not as_json, lambda progress: build_index(settings, paths, full=full,
                                                                         progress=progress, exact=exact))
    except RagError as exc:
        fail(str(exc))
    large = large_file_report(settings, paths)
    if as_json:
        emit_json({**report.to_dict(), "large_files": large})
        return
    typer.echo(terminal_safe(
        f"{report.articles} articles, {report.passages} passages in {Path(settings.index_dir).resolve()} "
        f"(added {report.added}, updated {report.updated}, earlier texts kept {report.revisions}, removed {report.removed}, "
        f"unchanged {report.unchanged}; embedded {report.embedded_passages} passages) in {report.seconds:.1f}s"
    ))
    if report.kept:
        noun = "article" if report.kept == 1 else "articles"
        typer.echo(f"{report.kept} {noun} from other folders kept; --exact to make the index hold only these paths")
    for item in large:
        typer.echo(terminal_safe(f"  large file {item['path']}: {item['bytes'] / 1e6:.1f} MB, "
                                 f"{item['passages']:,} passages"))
    for skip in report.skipped:
        typer.secho(terminal_safe(f"skipped {skip['path']}: {skip['error']}"), err=True, fg=typer.colors.YELLOW)


@index_app.command("info")
def index_info(index: Optional[Path] = IndexOpt, as_json: bool = JsonOpt) -> None:
    """Counts, embedder, build time and size of the index."""
    from rag.index.summary import index_summary

    settings = settings_for(index)
    try:
        summary = index_summary(settings)
    except RagError as exc:
        fail(str(exc))
    if as_json:
        emit_json(summary)
        return
    for key, value in summary.items():
        shown = "\n            ".join(value) if key == "roots" else value
        typer.echo(terminal_safe(f"{key:>10}: {shown}"))


def parse_day(value: Optional[str], flag: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{flag} expects a date like 2023-10-31, got {value!r}", code=2)


def filters_from_flags(source: Optional[list[str]], since: Optional[str], until: Optional[str]):
    """The search filters that ``--source``, ``--since`` and ``--until`` name."""
    from rag.types import SearchFilters

    return SearchFilters(sources=source or [], since=parse_day(since, "--since"), until=parse_day(until, "--until"))


@app.command("search")
def search(
    query: str = typer.Argument(..., help="What to look for."),
    k: int = typer.Option(None, "-k", min=1, max=100, help="Number of passages (default: RAG_RETRIEVAL__K)."),
    source: Optional[list[str]] = typer.Option(None, "--source", help="Only this publisher (repeatable)."),
    since: Optional[str] = typer.Option(None, "--since", help="Published on or after (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Published on or before (YYYY-MM-DD)."),
    index: Optional[Path] = IndexOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Passages that match QUERY, best first."""
    from rag.search.open_index import open_index
    from rag.search.results import search_rows

    settings = settings_for(index)
    filters = filters_from_flags(source, since, until)
    try:
        rows = search_rows(open_index(settings), query, k or settings.retrieval.k, filters)
    except RagError as exc:
        fail(str(exc))
    if as_json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("No passages match.")
    for row in rows:
        meta = " · ".join(x for x in (row["source"], (row["published_at"] or "")[:10]) if x)
        typer.secho(terminal_safe(f"[{row['rank']}] {row['title']}"), bold=True)
        typer.echo(terminal_safe(f"    {meta}  {row['url'] or ''}".rstrip()))
        typer.echo(terminal_safe("    " + row["text"][:400].replace("\n", " ") + ("…" if len(row["text"]) > 400 else "")))


@eval_app.command("retrieval")
def eval_retrieval(
    corpus: Path = typer.Option(..., "--corpus", exists=True, dir_okay=False, help="MultiHop-RAG corpus.json."),
    queries: Path = typer.Option(..., "--queries", exists=True, dir_okay=False, help="Queries with evidence_list."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder for the corpus (default: index/eval/<corpus name>)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N non-null questions."),
    as_json: bool = JsonOpt,
) -> None:
    """Hits@4, Hits@10, MRR@10, MAP@10 and evidence recall on the non-null questions."""
    from rag.eval.retrieval import evaluate_retrieval

    settings = settings_for()
    folder = index or Path(settings.index_dir) / "eval" / corpus.stem
    settings = settings_for(folder)
    try:
        result = with_progress(not as_json, lambda progress: evaluate_retrieval(settings, corpus, queries,
                                                                                limit=limit, progress=progress))
    except RagError as exc:
        fail(str(exc))
    except (ValueError, KeyError) as exc:
        fail(f"{queries}: not MultiHop-RAG queries ({exc})")
    if as_json:
        emit_json(result["overall"])
        return
    for name, metrics in result["by_type"].items():
        typer.echo(terminal_safe(f"{name:>18}: " + "  ".join(f"{k} {v:.3f}" for k, v in metrics.items() if k != "n") + f"  (n={metrics['n']})"))
    overall = result["overall"]
    typer.secho(f"{'all':>18}: " + "  ".join(f"{k} {v:.3f}" for k, v in overall.items() if k != "n") + f"  (n={overall['n']})", bold=True)


# -- answers ------------------------------------------------------------------------------

LlmOpt = typer.Option(None, "--llm", help="Chat backend: llama-cpp, openai or extractive (default: RAG_LLM__BACKEND).")
ModelOpt = typer.Option(None, "--model", help="Model name (openai) or GGUF file (llama-cpp).")
BaseUrlOpt = typer.Option(None, "--base-url", help="OpenAI-compatible server, e.g. http://localhost:11434/v1.")
KeyEnvOpt = typer.Option(None, "--api-key-env", help="Name of the environment variable holding the key for "
                         "this server (only OpenAI's own endpoint gets OPENAI_API_KEY without it).")


def llm_flags(llm: Optional[str], model: Optional[str], base_url: Optional[str],
              api_key_env: Optional[str] = None) -> dict:
    """The --llm/--model/--base-url/--api-key-env flags as settings overrides (unset
    flags are ignored; a new --base-url does not inherit a configured key variable)."""
    return {"backend": llm, "model": model, "base_url": base_url, "api_key_env": api_key_env}


def print_sources(answer) -> None:
    """The citations of an answer, with unsupported ones flagged, and what was removed."""
    if answer.standalone_question != answer.question:
        typer.secho(terminal_safe(f"(searched for: {answer.standalone_question})"), dim=True)
    if answer.citations:
        typer.secho("\nSources:", bold=True)
    for c in answer.citations:
        typer.echo(terminal_safe(source_line(c)))
        if c.quote:
            typer.secho(terminal_safe(f"    “{c.quote.strip()[:300]}”"), dim=True)
        if not c.supported:
            typer.secho("    ⚠ this passage does not clearly support the sentence citing it", fg=typer.colors.YELLOW)
    if answer.dropped_citations:
        typer.secho(f"({answer.dropped_citations} citation(s) that pointed at no passage were removed)", dim=True)


def show_answer(answerer, question: str, history=()):
    """Stream an answer on a terminal, then replace it with the final (renumbered)
    text; elsewhere print the final text only. Returns the Answer."""
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from rag.answer.pipeline import Answer

    console = Console()
    final = None
    if console.is_terminal:
        shown = ""
        with Live(Text(""), console=console, refresh_per_second=12, vertical_overflow="visible") as live:
            for item in answerer.stream(question, history, on_stage=live_stage(live)):
                if isinstance(item, Answer):
                    final = item
                    live.update(Text(terminal_safe(final.text)))
                else:
                    shown += item
                    live.update(Text(terminal_safe(shown)))
    else:
        final = last_item(answerer.stream(question, history, on_stage=stderr_stage()))
        typer.echo(terminal_safe(final.text))
    print_sources(final)
    return final


@app.command("ask")
def ask(
    question: str = typer.Argument(..., help="The question."),
    index: Optional[Path] = IndexOpt,
    llm: Optional[str] = LlmOpt,
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    api_key_env: Optional[str] = KeyEnvOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Answer QUESTION from the indexed articles, citing them."""
    from rag.answer.pipeline import Answerer

    settings = settings_for(index, llm=llm_flags(llm, model, base_url, api_key_env))
    try:
        with Answerer(settings) as answerer:
            if as_json:
                emit_json(answerer.answer(question).to_dict())
            else:
                show_answer(answerer, question)
    except RagError as exc:
        fail(str(exc))


@app.command("chat")
def chat(
    index: Optional[Path] = IndexOpt,
    llm: Optional[str] = LlmOpt,
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    as_json: bool = typer.Option(False, "--json", help="Questions from standard input, one a line; for each, "
                                 "one line with one JSON object: the answer as `rag ask --json` gives it, "
                                 '{"error": ...} or {"new_conversation": true}.'),
    api_key_env: Optional[str] = KeyEnvOpt,
) -> None:
    """A terminal chat that keeps the conversation, so follow-ups work."""
    from rag.answer.pipeline import Answerer

    settings = settings_for(index, llm=llm_flags(llm, model, base_url, api_key_env))
    history: list[dict] = []
    if not as_json:
        typer.echo("Ask about the articles. /new starts a new conversation, /quit leaves.")
    with Answerer(settings) as answerer:
        while True:
            try:
                question = (sys.stdin.readline() or "/quit").strip() if as_json else input("\nyou> ").strip()
            except (EOFError, KeyboardInterrupt):
                if not as_json:
                    typer.echo()
                break
            if not question:
                continue
            if question in ("/quit", "/exit", "/q"):
                break
            if question == "/new":
                history.clear()
                typer.echo(json.dumps({"new_conversation": True}) if as_json else "(new conversation)")
                continue
            try:
                if as_json:
                    answer = answerer.answer(question, history)
                    typer.echo(json_text(answer.to_dict()))
                else:
                    answer = show_answer(answerer, question, history)
            except RagError as exc:
                if as_json:
                    typer.echo(json_text({"question": question, "error": str(exc)}))
                else:
                    typer.secho(f"error: {terminal_safe(exc)}", err=True, fg=typer.colors.RED)
                continue
            history += [{"role": "user", "content": question, "standalone": answer.standalone_question},
                        {"role": "assistant", "content": answer.text}]


@eval_app.command("answers")
def eval_answers(
    corpus: Path = typer.Option(..., "--corpus", exists=True, dir_okay=False, help="MultiHop-RAG corpus.json."),
    queries: Optional[Path] = typer.Option(None, "--queries", exists=True, dir_okay=False, help="MultiHop-RAG queries (null ones included)."),
    questions: Optional[Path] = typer.Option(None, "--questions", exists=True, dir_okay=False, help="Natural questions instead (benchmarks/data/natural_questions.json): pass rates per category."),
    index: Optional[Path] = typer.Option(None, "--index", help="Index folder for the corpus (default: index/eval/<corpus name>)."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N questions, in file order."),
    llm: Optional[str] = LlmOpt,
    model: Optional[str] = ModelOpt,
    base_url: Optional[str] = BaseUrlOpt,
    api_key_env: Optional[str] = KeyEnvOpt,
    records: Optional[Path] = typer.Option(None, "--records", dir_okay=False, help="Also write per-question results (JSON lines) here."),
    as_json: bool = JsonOpt,
) -> None:
    """Answer accuracy, refusals, citation validity and cited evidence on MultiHop-RAG questions."""
    from rag.eval.answers import evaluate_answers

    settings = settings_for()
    folder = index or Path(settings.index_dir) / "eval" / corpus.stem
    settings = settings_for(folder, llm=llm_flags(llm, model, base_url, api_key_env))
    if records is not None:
        records.write_text("")  # filled one question at a time
    if questions is not None or queries is None:
        from rag.eval.natural import run_natural_command

        return run_natural_command(settings, corpus, questions, records, as_json, fail)
    try:
        result = with_progress(not as_json, lambda progress: evaluate_answers(
            settings, corpus, queries, limit=limit, progress=progress, records_path=records))
    except RagError as exc:
        fail(str(exc))
    except (ValueError, KeyError) as exc:
        fail(f"{queries}: not MultiHop-RAG queries ({exc})")
    overall = result["overall"]
    if as_json:
        emit_json({**overall, "by_type": result["by_type"]})
        return
    typer.echo(f"{'type':>12} {'n':>4} {'strict':>7} {'refused':>8} {'cite':>6} {'unsupp':>7} {'tokens':>7} {'s/q':>6}")
    for name, m in [*result["by_type"].items(), ("all", overall)]:
        refused = m["null_refusal_rate"] if name == "null" else m["false_refusal_rate"]
        typer.echo(terminal_safe(f"{name:>12}") + f" {m['n']:>4} {_num(m['strict_accuracy']):>7} {_num(refused):>8} "
                   f"{_num(m['cited_when_answered']):>6} {_num(m['unsupported_share']):>7} "
                   f"{_num(m['mean_prompt_tokens'], 0):>7} {_num(m['mean_seconds'], 1):>6}")
    typer.echo("(refused: share of null questions refused on the null row, of real questions elsewhere)")
    for key, value in overall.items():
        shown = "n/a" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        typer.echo(f"{key:>24}: {shown}")


def _num(value, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


from rag.cli_timeline import register as _register_timeline  # noqa: E402

_register_timeline(app, eval_app, settings_for, fail, filters_from_flags)


@app.command("ui", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ui(ctx: typer.Context, index: Optional[Path] = IndexOpt) -> None:
    """Open the Streamlit chat (extra arguments go to `streamlit run`).

    It runs with this folder's settings, like every other command."""
    from rag.ui.launch import run_ui

    settings_for(index)  # a bad rag.toml or RAG_* value stops here, as in every other command
    raise typer.Exit(run_ui(ctx.args, index))


from rag.cli_changes import register as _register_changes  # noqa: E402 - `rag changes`
from rag.cli_disagree import register as _register_disagreements  # noqa: E402
from rag.cli_index import register_index_commands  # noqa: E402 - after index_app and its helpers
from rag.cli_serve import register as _register_serve  # noqa: E402 - `rag serve`, `rag mcp`

register_index_commands(index_app, settings_for, fail)
_register_serve(app)
_register_disagreements(app, eval_app, settings_for=settings_for, fail=fail, filters_from_flags=filters_from_flags)
_register_changes(app, settings_for, fail, filters_from_flags)

if __name__ == "__main__":  # python -m rag.cli
    app()
