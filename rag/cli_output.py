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


_KEEP = {"\n", "\t"}


def terminal_safe(text: str | None, one_line: bool = False) -> str:
    """``text`` from an article or a model with every control or format character
    (escape sequences, bidi overrides) replaced by U+FFFD, so none reaches a terminal;
    ``one_line`` turns line breaks and tabs into spaces first."""
    import unicodedata

    text = text or ""
    if one_line:
        text = " ".join(text.split())
    return "".join(c if c in _KEEP or unicodedata.category(c) not in ("Cc", "Cf", "Cs") else "\ufffd"
                   for c in text)
