"""What every session of one server shares, held in this process and nowhere a session can clear.

Streamlit's ``st.cache_resource`` would do, but any session can empty it for
all: the ``clear_cache`` message that its websocket accepts from every page
clears every cached resource (docs/security.md). So the build jobs, the
embedders, the opened indexes and the chat models live here instead, in a
registry owned by this module: a session's messages never reach it. Only code
(the tests, between tests) calls :func:`forget_all`.

No Streamlit here. Each kind of resource keeps its most recently used
``max_entries``; one lock per key makes a resource once even when several
sessions ask for it at the same moment.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_kinds: dict[str, OrderedDict[str, Any]] = {}
_making: dict[tuple[str, str], threading.Lock] = {}


def shared(kind: str, key: str, make: Callable[[], T], max_entries: int | None = None) -> T:
    """The ``kind`` resource for ``key``, made with ``make()`` the first time it is asked for.

    The least recently used resource of the kind is dropped past
    ``max_entries`` (None: never); a resource being made is not visible until
    ``make`` returns, and a failing ``make`` leaves nothing behind.
    """
    with _lock:
        entries = _kinds.setdefault(kind, OrderedDict())
        if key in entries:
            entries.move_to_end(key)
            return entries[key]
        making = _making.setdefault((kind, key), threading.Lock())
    with making:
        with _lock:
            if key in entries:
                return entries[key]
        value = make()
        with _lock:
            entries[key] = value
            while max_entries is not None and len(entries) > max_entries:
                entries.popitem(last=False)
            _making.pop((kind, key), None)
        return value


def held(kind: str) -> list[str]:
    """The keys of ``kind`` held now (oldest use first)."""
    with _lock:
        return list(_kinds.get(kind, ()))


def forget_all() -> None:
    """Drop every shared resource (tests, between tests; no page calls it)."""
    with _lock:
        _kinds.clear()
        _making.clear()
