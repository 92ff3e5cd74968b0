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


def terminal_safe(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``, ``\\u202e``)
    instead of reaching the terminal; line feeds and tabs stay. For everything
    printed that came from an article, a file name, a model or a server."""
    return _UNSAFE.sub(_escape, str(text))


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
