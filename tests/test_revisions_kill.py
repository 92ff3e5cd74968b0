"""A real ``rag index build`` that would keep new revisions, killed with SIGKILL mid-build,
leaves the old index and its revisions usable, and the next build keeps them all.

The kill points are times: the build process is watched from outside until its
new version appears on disk (the embedded store's ``.tmp-v-*`` folder, a new
Qdrant collection in local mode's folder), then killed at once or a little
later. After each
kill the store opens (the embedded one checks every file's sha256), holds the
old version or the new one as a whole, revisions included, and answers a
search; the next build completes with every revision and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import load_settings
from rag.index.building import build_index
from rag.index.stores import make_store
from tests.conftest import REPO, write_article

# Enough for a publish that takes a while to watch; Qdrant local mode is slow (seconds per build).
COUNTS = {"faiss": 400, "qdrant": 8}


def story(i: int, edit: str = "") -> str:
    return " ".join(f"Sentence {j} of story {i} tells of harbour cables and {i * j} tonnes." for j in range(30)) + edit


def state(settings) -> tuple[str, dict[str, int], list[str]]:
    """Published version, revisions per article and the bodies of s0's revisions; a search must work."""
    snapshot = make_store(settings).open()
    try:
        assert snapshot.lexical_search("harbour cables", 3).ids
        kept = {snapshot.article(i)["title"]: n for i, n in snapshot.revised_articles().items()}
        s0 = next(i for i, s in snapshot.stored_articles().items() if s.path.endswith("s0.md"))
        return snapshot.version, kept, [r.body for r in snapshot.revisions(s0)]
    finally:
        snapshot.close()


def release(settings) -> None:
    if settings.store.backend == "qdrant":  # local mode: one process at a time
        from rag.index.qdrant.connection import release_local

        release_local(settings.index_dir / "qdrant")


def new_parts(index: Path, backend: str, before: set[str]) -> bool:
    if backend == "faiss":
        return any(n.startswith(".tmp-v-") for n in os.listdir(index))
    folder = index / "qdrant" / "collection"
    return folder.is_dir() and bool(set(os.listdir(folder)) - before)


@pytest.mark.parametrize("backend", ["faiss", "qdrant"])
def test_a_killed_build_keeps_the_old_index_and_its_revisions(tmp_path, backend):
    if backend == "qdrant":
        pytest.importorskip("qdrant_client", reason="the qdrant store needs qdrant-client: pip install '.[qdrant]'")
    articles = tmp_path / "articles"
    articles.mkdir()
    for i in range(COUNTS[backend]):
        write_article(articles, f"s{i}.md", f"Story {i}", story(i), url=f"https://example.org/{i}")
    template = load_settings(index_dir=tmp_path / "template", embedding={"backend": "hashing"},
                             store={"backend": backend})
    build_index(template, [articles])
    write_article(articles, "s0.md", "Story 0", story(0, " A correction."), url="https://example.org/0")
    assert build_index(template, [articles]).revisions == 1
    old_version, old_kept, old_bodies = state(template)
    assert old_kept == {"Story 0": 1} and old_bodies == [story(0)]
    release(template)
    # The build to kill keeps two more revisions: s0 again, and s1.
    write_article(articles, "s0.md", "Story 0", story(0, " A second correction."), url="https://example.org/0")
    write_article(articles, "s1.md", "Story 1", story(1, " An update."), url="https://example.org/1")
    collections = template.index_dir / "qdrant" / "collection"
    before = set(os.listdir(collections)) if collections.is_dir() else set()
    outcomes = []
    for n, delay in enumerate([0.0, 0.02, 0.2]):  # seconds after the new version starts to appear
        index = tmp_path / f"kill{n}"
        shutil.copytree(template.index_dir, index)
        env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_EMBEDDING__BACKEND": "hashing",
               "RAG_STORE__BACKEND": backend}
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "index", "build", str(articles), "--index",
                                 str(index), "--json"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        started = time.monotonic()
        while proc.poll() is None and time.monotonic() - started < 120:
            if new_parts(index, backend, before):
                time.sleep(delay)
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=60) == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        settings = template.model_copy(update={"index_dir": index})
        version, kept, bodies = state(settings)
        if version == old_version:  # the old index, whole, with its revisions
            assert (kept, bodies) == (old_kept, old_bodies)
        else:  # killed after the publish: the new one, whole
            assert (kept, bodies) == ({"Story 0": 2, "Story 1": 1}, [story(0), story(0, " A correction.")])
        outcomes.append(version == old_version)
        report = build_index(settings, [articles])
        assert report.revisions == (2 if version == old_version else 0)
        assert state(settings)[1:] == ({"Story 0": 2, "Story 1": 1}, [story(0), story(0, " A correction.")])
        assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]
        release(settings)
    assert outcomes[0]  # killed as the new version appeared: mid-build, the old index stands
