"""Starting the Streamlit app for ``rag ui``, from wherever the caller is.

The caller's folder stays the working directory, so its ``rag.toml``, its
``RAG_*`` variables and a relative index folder mean the same to the UI as to
``rag index build``. The app's Streamlit options (upload limit, no error
details, minimal toolbar, no usage statistics, the theme) live in
``ui/.streamlit/config.toml`` beside ``app.py``, shipped in the package:
Streamlit reads the config of the script's own folder wherever it runs, after
the user's global and project config files. Flags given to ``rag ui`` (e.g.
``--server.port 8600``) still win.

By default it listens on a loopback address only (:func:`ui_address`), where
the operator controls are on (:func:`rag.ui.access.ui_admin`, docs/security.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"

APP = Path(__file__).resolve().with_name("app.py")
STREAMLIT_CONFIG = APP.parent / ".streamlit" / "config.toml"


def streamlit_command(extra_args: Sequence[str] = ()) -> list[str]:
    """``streamlit run`` for the app, with ``extra_args`` passed on to Streamlit."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), *ui_address(extra_args), *extra_args]


def run_ui(extra_args: Sequence[str] = (), index_dir: Path | None = None) -> int:
    """Run the app in the caller's folder until it stops; returns Streamlit's exit code.

    ``index_dir`` (the ``--index`` flag) reaches the app as ``RAG_INDEX_DIR``,
    made absolute so that it means the folder the caller named. On POSIX,
    Streamlit takes this process's place, so a signal sent to ``rag ui``
    (a service manager stopping it) reaches the server itself.
    """
    env = dict(os.environ)
    if index_dir is not None:
        env["RAG_INDEX_DIR"] = str(Path(index_dir).resolve())
    command = streamlit_command(extra_args)
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, command, env)
    return subprocess.call(command, env=env)


def ui_address(args: Sequence[str]) -> list[str]:
    """``["--server.address", "127.0.0.1"]`` unless the address is already set by a
    flag in ``args``, ``STREAMLIT_SERVER_ADDRESS`` or Streamlit's ``config.toml``.

    By default only this machine reaches the UI, and there the operator
    controls are on (:func:`rag.ui.access.ui_admin`, docs/security.md).
    """
    if any(a.startswith("--server.address") for a in args) or os.environ.get("STREAMLIT_SERVER_ADDRESS"):
        return []
    from streamlit import config

    return [] if config.get_option("server.address") else ["--server.address", LOOPBACK]
