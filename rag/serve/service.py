"""What a server process opens once and offers: the index, the embedder, the chat model,
and every operation of the HTTP API and the MCP tools, each a call of the same library
function the CLI uses (one code path: same question, same sources, answer and citations).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import IndexMissingError
from rag.serve.cancel import CancellableModel
from rag.serve.limits import Gate
from rag.types import SearchFilters

# Backends whose one loaded model serves several answers at once; any other (the in-process
# llama.cpp model, a plugin) answers one at a time.
PARALLEL_BACKENDS = {"openai", "extractive"}
KEEP_VERSIONS = 3  # opened index versions kept for answers still reading an older one


def backend_name(settings: Settings) -> str:
    return (settings.llm.backend or "").strip().lower().replace("_", "-")


class Service:
    """The library opened for one server process (thread-safe).

    ``chat_model`` and ``embedder`` may be given (tests, the UI's shared ones); otherwise
    they are made from ``settings`` on first use. The index is reopened when a build
    publishes a new version, as the UI does.
    """

    def __init__(self, settings: Settings, chat_model: Any = None, embedder: Any = None):
        self.settings = settings
        self._model = chat_model
        self._embedder = embedder
        self._indexes: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()
        s = settings.serve
        parallel = backend_name(settings) in PARALLEL_BACKENDS
        self.answer_gate = Gate(s.max_concurrency if parallel else 1, s.max_queue)
        self.search_gate = Gate(s.max_concurrency, s.max_queue)

    # -- what is opened once ----------------------------------------------------------

    @property
    def chat_model(self) -> Any:
        with self._lock:
            if self._model is None:
                from rag.llm.registry import make_chat_model

                self._model = make_chat_model(self.settings.llm)
            return self._model

    def opened(self) -> Any:
        """The opened index of the version published now (raises IndexMissingError)."""
        from rag.index.stores import make_store

        version = make_store(self.settings).published_version()
        with self._lock:
            opened = self._indexes.get(version)
            if opened is None:
                from rag.search.open_index import open_index

                opened = open_index(self.settings, embedder=self._embedder)
                self._embedder = opened.embedder
                self._indexes[version] = opened
                for old in list(self._indexes)[:-KEEP_VERSIONS]:
                    self._indexes.pop(old).close()
            return opened

    def close(self) -> None:
        with self._lock:
            for opened in self._indexes.values():
                opened.close()
            self._indexes.clear()

    # -- operations ---------------------------------------------------------------------

    def answer_items(self, question: str, history: Sequence[dict], filters: SearchFilters | None,
                     cancel: threading.Event) -> Iterator[Any]:
        """The pipeline's stream (text deltas, then the Answer), stopped between two model
        tokens once ``cancel`` is set (:mod:`rag.serve.cancel`)."""
        from rag.answer.pipeline import Answerer

        model = CancellableModel(self.chat_model, cancel)
        answerer = Answerer(self.settings, opened_index=self.opened(), chat_model=model)
        with closing(answerer.stream(question, list(history), filters)) as items:
            yield from items

    def search(self, query: str, k: int | None, filters: SearchFilters | None) -> list[dict]:
        """``rag search --json``'s rows."""
        from rag.search.results import search_rows

        return search_rows(self.opened(), query, k or self.settings.retrieval.k, filters)

    def index_info(self) -> dict:
        """``rag index info --json``'s object."""
        from rag.index.summary import index_summary

        return index_summary(self.settings)

    def article(self, article_id: str) -> dict | None:
        """One stored article: its text and metadata (its file by name only, never the server's
        path), or None."""
        found = self.opened().snapshot.article(article_id)
        if found is None:
            return None
        extra = found.get("extra") or {}
        path = found.get("path")
        return {"article_id": found["id"], "title": found.get("title"), "source": found.get("source"),
                "published_at": found.get("published_at"), "url": found.get("url"),
                "author": found.get("author"), "file": Path(path).name if path else None,
                "extra": json.loads(extra) if isinstance(extra, str) else extra, "text": found.get("body", "")}

    def rebuild(self, full: bool = False) -> dict:
        """``rag index build --json``'s report for the configured articles folder, built with
        the embedder the server already holds; the next request opens the new version."""
        from rag.index.building import build_index

        with self._build_lock:
            try:
                embedder = self.opened().embedder if not full else None
            except IndexMissingError:
                embedder = None
            return build_index(self.settings, None, full=full, embedder=embedder).to_dict()
