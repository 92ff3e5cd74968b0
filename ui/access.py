"""Who gets the operator controls of the chat page (docs/security.md).

No Streamlit here: the page passes what it knows about the request
(:class:`PageRequest`) and :func:`ui_admin` decides. By default only a page
that this machine opened for itself is the operator's: the server listens on
a loopback address, the browser reached it as ``localhost``, ``127.0.0.1`` or
``[::1]`` (the ``Host`` header: a page under any other name, such as a
DNS-rebinding name that resolves to 127.0.0.1, is a visitor), the connection
came from a loopback address, and no proxy forwarded it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import Settings
from rag.loopback import is_loopback, is_loopback_host

__all__ = ["PageRequest", "is_loopback", "is_loopback_host", "ui_admin"]


@dataclass(frozen=True)
class PageRequest:
    """What the page knows about the HTTP request behind its session.

    ``host``: the ``Host`` header, None when the run has no request at all
    (Streamlit's AppTest, a script run without a browser). ``peer``: the
    client's IP, None when it is a loopback one (Streamlit reports loopback
    peers as None). ``forwarded``: the request carried ``X-Forwarded-For`` or
    ``Forwarded``.
    """

    host: str | None = None
    peer: str | None = None
    forwarded: bool = False


def ui_admin(settings: Settings, server_address: str | None, forwarded: bool = False,
             request: PageRequest | None = None) -> bool:
    """Whether the UI offers the operator controls.

    ``ui.admin`` when set. Otherwise only when the server listens on a
    loopback address, the request did not come through a proxy, and (for a
    page run with a request) its ``Host`` names this machine and its peer is a
    loopback address. A server that others can reach, or a page opened under
    another name, is read-only unless the operator says so.
    """
    if settings.ui.admin is not None:
        return settings.ui.admin
    if request is not None:
        forwarded = forwarded or request.forwarded
        if request.host is not None and not is_loopback_host(request.host):
            return False
        if request.peer is not None and not is_loopback(request.peer):
            return False
    return is_loopback(server_address) and not forwarded
