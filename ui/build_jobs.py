"""Index builds in a background thread, one at a time, watched by every session.

No Streamlit here: ``ui/resources.py`` keeps one :class:`IndexJobs` per index
folder for the whole server, and the sidebar starts builds and draws their
progress from it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.config import Settings
from rag.embed.base import Embedder
from rag.errors import RagError

log = logging.getLogger("article_rag.ui")

_STAGE_SPAN = {"loading": (0.0, 0.05), "chunking": (0.05, 0.2), "embedding": (0.2, 0.9),
               "publishing": (0.9, 1.0)}
_STAGE_LABEL = {"loading": "Reading articles", "chunking": "Splitting into passages",
                "embedding": "Embedding passages", "publishing": "Publishing the new index"}


@dataclass(frozen=True)
class JobState:
    """Where a build stands, as one immutable value.

    The build thread replaces :attr:`IndexJob.state` as a whole (one
    assignment) and the page reads it once per draw, so a reader never sees
    a stage with another stage's counts, or "finished" without its report.
    """

    stage: str = "starting"
    done: int = 0
    total: int = 0
    finished: float | None = None
    report: dict | None = None
    error: str | None = None

    @property
    def running(self) -> bool:
        return self.finished is None

    @property
    def fraction(self) -> float:
        lo, hi = _STAGE_SPAN.get(self.stage, (0.0, 0.0))
        part = self.done / self.total if self.total else 0.0
        return 1.0 if not self.running and not self.error else min(1.0, lo + (hi - lo) * part)

    @property
    def label(self) -> str:
        text = _STAGE_LABEL.get(self.stage, "Starting")
        if self.stage in ("chunking", "embedding") and self.total:
            text += f" ({self.done}/{self.total})"
        return text


@dataclass
class IndexJob:
    """One build running (or finished) in a background thread; only that thread
    writes :attr:`state`."""

    id: int
    kind: str  # "rebuild" | "upload"
    uploaded: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    state: JobState = field(default_factory=JobState)

    @property
    def running(self) -> bool:
        return self.state.running

    def progress(self, stage: str, done: int, total: int) -> None:
        """The store's progress callback: a new state, swapped in at once."""
        self.state = replace(self.state, stage=stage, done=done, total=total)

    def finish(self, report: dict | None = None, error: str | None = None) -> None:
        self.state = replace(self.state, finished=time.time(), report=report, error=error)


class IndexJobs:
    """At most one build at a time per index folder; any session can watch it.

    Builds run in a daemon thread through :func:`rag.index.building.build_index`,
    which publishes the new version atomically, so every session keeps
    answering from the old snapshot until the new one is published; the page
    then reopens the index because the published version name changed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counter = 0
        self.current: IndexJob | None = None

    def start(self, settings: Settings, kind: str, *, admin: bool, full: bool = False,
              uploaded: Sequence[str] = (), embedder: Embedder | None = None,
              paths: Sequence[Path] | None = None) -> IndexJob:
        """Start a build of ``settings`` in the background.

        ``admin``: whether this session may (``rag.ui.access.ui_admin``); visitors
        are refused here too, not only by the missing button. ``embedder``: the
        one the server already holds for ``settings.embedding``, so a rebuild
        does not load a second copy of the model. ``paths``: what the build
        syncs (:func:`rag.index.building.build_index`; default the articles
        folder); articles indexed from other paths stay.
        """
        if not admin:
            raise RagError("Index builds are for the operator on this server ([ui] admin = false).")
        with self._lock:
            if self.current is not None and self.current.running:
                raise RagError("An index build is already running; wait for it to finish.")
            self._counter += 1
            job = IndexJob(id=self._counter, kind=kind, uploaded=list(uploaded))
            self.current = job
        thread = threading.Thread(target=self._run, args=(job, settings, full, embedder, paths), daemon=True,
                                  name=f"rag-ui-build-{job.id}")
        thread.start()
        return job

    def wait(self, timeout: float = 60.0) -> IndexJob | None:
        """Block until the current job ends (tests and scripts)."""
        deadline = time.time() + timeout
        while self.current is not None and self.current.running and time.time() < deadline:
            time.sleep(0.05)
        return self.current

    def _run(self, job: IndexJob, settings: Settings, full: bool, embedder: Embedder | None,
             paths: Sequence[Path] | None) -> None:
        from rag.index.building import build_index
        from rag.index.large_files import large_file_report

        try:
            report = build_index(settings, paths, full=full, progress=job.progress, embedder=embedder)
            job.finish(report={**report.to_dict(), "large_files": large_file_report(settings, paths)})
        except RagError as exc:
            job.finish(error=str(exc))
        except Exception as exc:  # noqa: BLE001 - shown as a message, logged for the operator
            log.exception("index build failed")
            job.finish(error=f"The index build failed unexpectedly ({type(exc).__name__}: {exc}).")
