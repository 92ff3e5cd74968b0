"""What the ``rag`` command prints besides plain lines: JSON and progress bars."""

from __future__ import annotations

import json
import sys

import typer


def emit_json(value) -> None:
    """Print ``value`` as indented JSON: the stable ``--json`` interface."""
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def terminal_progress(enabled: bool):
    """A rich progress bar on a terminal, or None."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), transient=True)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=max(total, 1))
        bar.update(tasks[stage], completed=done, total=max(total, 1))

    return bar, update


def live_stage(live):
    """An ``on_stage`` callback (rag.stages) that shows each stage, dimmed, in a rich
    ``Live`` display until the answer's first words replace it."""
    from rich.text import Text

    from rag.stages import WRITING, describe

    def show(stage: str, **info) -> None:
        if stage != WRITING:
            live.update(Text(describe(stage, **info), style="dim"))

    return show


def stderr_stage():
    """An ``on_stage`` callback that prints each stage on standard error when that is a
    terminal (``rag ask > answer.txt`` still shows them), else None."""
    if not sys.stderr.isatty():
        return None
    from rag.stages import WRITING, describe

    def show(stage: str, **info) -> None:
        if stage != WRITING:
            typer.secho(describe(stage, **info), err=True, dim=True)

    return show


def last_item(items):
    """The last item of an answer stream: the final Answer."""
    final = None
    for final in items:
        pass
    return final


def article_rag_version() -> str:
    """The installed package's version, or the source tree's when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("article-rag")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text())["project"]["version"] + " (not installed)"
        except (OSError, KeyError, ValueError):
            return "unknown"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"article-rag {article_rag_version()}")
        raise typer.Exit()


def with_version_option(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the version and exit."),
) -> None:
    """Cited answers over a collection of news articles."""


def warn_large_files(paths) -> None:
    """A warning on standard error for each article file over 1 MB under ``paths``
    (rag.index.large_files), before a build starts."""
    from rag.index.large_files import large_files, warning_text

    for file, size in large_files(paths):
        typer.secho(f"warning: {warning_text(file, size)}", err=True, fg=typer.colors.YELLOW)
