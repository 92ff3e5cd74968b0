"""How ``rag ui`` starts Streamlit: on a loopback address unless told otherwise.

No Streamlit import at module level (the CLI imports this).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

LOOPBACK = "127.0.0.1"


def ui_address(args: Sequence[str]) -> list[str]:
    """``["--server.address", "127.0.0.1"]`` unless the address is already set by a
    flag in ``args``, ``STREAMLIT_SERVER_ADDRESS`` or Streamlit's ``config.toml``.

    By default only this machine reaches the UI, and there the operator
    controls are on (:func:`rag.config.ui_admin`, docs/security.md).
    """
    if any(a.startswith("--server.address") for a in args) or os.environ.get("STREAMLIT_SERVER_ADDRESS"):
        return []
    from streamlit import config

    return [] if config.get_option("server.address") else ["--server.address", LOOPBACK]
