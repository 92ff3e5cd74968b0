"""One Qdrant client per place: a server or cluster (``store.url``) or a local folder.

Local mode (``QdrantClient(path=...)``) is the same API run in this process,
for tests and small collections: it locks its folder for one process, so every
store in this process that names the folder shares one client, and its calls
are serialised because it is not thread-safe. A server's client is thread-safe
and used as is.

The API key is read from the environment variable ``store.api_key_env`` and
sent to ``store.url`` only: it is never read for local mode, and a url that
changes makes a new client.
"""

from __future__ import annotations

import atexit
import os
import threading
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, RagError
from rag.index.qdrant.schema import require_qdrant

MEMORY = ":memory:"
_LOCAL: dict[str, Any] = {}
_LOCAL_LOCK = threading.Lock()


class _Serialised:
    """Calls to the wrapped client, one at a time."""

    def __init__(self, client: Any):
        self._client = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)
        return call


def connect(url: str | None, path: Path | str, api_key_env: str | None, timeout: float) -> Any:
    """A client for the server at ``url``, or for local mode in ``path`` (``":memory:"``:
    in this process's memory only, gone when it ends)."""
    qdrant_client = require_qdrant()
    if url:
        key = None
        if api_key_env:
            key = os.environ.get(api_key_env)
            if not key:
                raise ConfigError(f"RAG_STORE__API_KEY_ENV names {api_key_env}, but that environment "
                                  f"variable is empty; set it to the API key of {url}")
        return qdrant_client.QdrantClient(url=url, api_key=key, timeout=int(timeout))
    folder = _key(path)
    with _LOCAL_LOCK:
        if folder not in _LOCAL:
            if folder == MEMORY:
                _LOCAL[folder] = _Serialised(qdrant_client.QdrantClient(location=MEMORY))
                return _LOCAL[folder]
            Path(folder).mkdir(parents=True, exist_ok=True)
            try:
                _LOCAL[folder] = _Serialised(qdrant_client.QdrantClient(path=folder))
            except RuntimeError as exc:  # the folder is held by another process
                raise RagError(
                    f"the Qdrant folder {folder} is in use by another process ({exc}). Local mode "
                    "serves one process at a time: stop the other one, or run a Qdrant server and "
                    "set RAG_STORE__URL"
                ) from None
        return _LOCAL[folder]


def _key(path: Path | str) -> str:
    return MEMORY if str(path) == MEMORY else str(Path(path).expanduser().resolve())


def release_local(path: Path | str) -> None:
    """Close the shared local-mode client of ``path`` (it saves its folder), e.g. before
    another process is to use the folder."""
    with _LOCAL_LOCK:
        client = _LOCAL.pop(_key(path), None)
    if client is not None:
        client.close()


@atexit.register
def _close_all() -> None:
    # Closed while the interpreter still runs: a client closed by its __del__
    # at shutdown prints an ImportError.
    for key in list(_LOCAL):
        release_local(key)
