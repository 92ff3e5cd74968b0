"""Whether an address or a ``Host`` header names this machine: the loopback rules the
chat page (rag.ui.access) and the HTTP API (rag.serve.access) both apply."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback(address: str | None) -> bool:
    """True for ``localhost`` and loopback IPs; False for none (all interfaces) or any other."""
    address = (address or "").strip().strip("[]")
    if address.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str | None) -> bool:
    """True for a ``Host`` header naming this machine: ``localhost``, a loopback IP or
    ``[::1]``, with or without a port. Any other name (``evil.example``, ``foo.localhost``,
    ``localhost.``), a malformed header or none is False."""
    host = (host or "").strip()
    if not host or any(c in host for c in "/?#@\\ \t"):
        return False
    try:
        parts = urlsplit(f"//{host}")
        parts.port  # noqa: B018 - raises ValueError on a bad port
        name = parts.hostname
    except ValueError:
        return False
    if name is None or (":" in name and not host.startswith("[")):
        return False
    return name == "localhost" or (name != "" and _is_loopback_ip(name))


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
