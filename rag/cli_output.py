"""What the ``rag`` command prints besides plain lines: JSON, progress bars, and
text from articles and models made safe for a terminal (:func:`terminal_safe`)."""

from __future__ import annotations

import json
import re
import sys

import typer

# Control characters a terminal acts on (C0 but tab and line feed, DEL, C1:
# ESC starts window-title, hyperlink, clipboard and screen-clearing sequences,
# 0x9b is an 8-bit CSI, CR rewrites the line) and the bidirectional overrides
# and isolates that make text read in another order than it runs.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What JSON leaves raw with ensure_ascii=False (it escapes C0 itself).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: object, one_line: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``)
    instead of reaching the terminal; line feeds and tabs stay (``one_line``: they
    become spaces first). For everything printed that came from an article, a file
    name, a model or a server."""
    text = "" if text is None else str(text)
    if one_line:
        text = " ".join(text.split())
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_text(value, indent: int | None = None) -> str:
    """``value`` as JSON for a terminal: non-ASCII text kept readable, but the controls
    that JSON leaves raw (DEL, C1, bidirectional overrides) written as ``\\u`` escapes."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def emit_json(value) -> None:
    """Print ``value`` as indented JSON: the stable ``--json`` interface."""
    typer.echo(json_text(value, indent=2))


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


def with_progress(enabled: bool, call):
    """``call(progress)``: with a progress bar's update function on a terminal when
    ``enabled``, else with None; returns what ``call`` returns."""
    bar, update = terminal_progress(enabled)
    if bar is None:
        return call(None)
    with bar:
        return call(update)


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


def source_line(citation) -> str:
    """``[n] title — outlet, date (updated 2 times, last on 2024-03-05)  url`` for a citation
    (rag.answer.citations.Citation); the update note when the index keeps earlier versions."""
    meta = ", ".join(x for x in (citation.source, (citation.published_at or "")[:10]) if x)
    updates = citation.updates or {}
    count = int(updates.get("count") or 0)
    updated = (f" (updated {count} time{'s' if count > 1 else ''}, last on {str(updates.get('last_seen_at'))[:10]})"
               if count else "")
    return (f"[{citation.n}] {citation.title}" + (f" — {meta}" if meta else "") + updated
            + (f"  {citation.url}" if citation.url else ""))
