"""Readers and builds at the same time.

Reader threads search, open fresh snapshots and ask questions in a loop while
another process rebuilds the index twice (each generation replaces a third of
the articles). Every result must come from one version as a whole: the
snapshot's manifest counts name the generation, and every passage returned
belongs to that generation's articles and text. No reader may ever fail, and
a snapshot opened before both rebuilds keeps answering after its folder was
removed. Two builds started at the same instant: one runs, the other is
refused with IndexLockedError's message, and the index is intact.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from rag.answer.pipeline import Answerer
from rag.config import load_settings
from rag.embed.registry import make_embedder
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from rag.ingest.articles import load_paths
from rag.ingest.chunking import Chunker
from rag.search.open_index import open_index
from tests.conftest import REPO, write_article

GENERATIONS = (1, 2, 3)
QUERIES = ["harbour budget council", "school storm closure", "striker contract fee", "river flood warning",
           "generation report", "museum wing visitors"]

REBUILDS = textwrap.dedent("""
    import sys, time
    from rag.config import load_settings
    from rag.index.building import build_index
    settings = load_settings(index_dir=sys.argv[1], embedding={"backend": "hashing"})
    for folder in sys.argv[2:]:
        time.sleep(0.3)
        report = build_index(settings, [folder], exact=True)  # each generation replaces the last
        print("built", folder, report.articles, flush=True)
""")

RACE = textwrap.dedent("""
    import os, sys, time
    from rag.config import load_settings
    from rag.embed.hashing import HashingEmbedder
    from rag.errors import IndexLockedError
    from rag.index.building import build_index

    index_dir, folder, go, refused = sys.argv[1:5]

    class HoldsTheLock(HashingEmbedder):  # called with the lock held: keep it until the other was refused
        def embed(self, texts):
            deadline = time.monotonic() + 60
            while not os.path.exists(refused) and time.monotonic() < deadline:
                time.sleep(0.01)
            return super().embed(texts)

    settings = load_settings(index_dir=index_dir, embedding={"backend": "hashing"})
    print("ready", flush=True)
    while not os.path.exists(go):  # both processes start building at once
        time.sleep(0.001)
    try:
        report = build_index(settings, [folder], embedder=HoldsTheLock(settings.embedding), exact=True)
    except IndexLockedError as exc:
        print("refused:", exc, flush=True)
        open(refused, "w").close()
        sys.exit(2)
    print("built", report.articles, flush=True)
""")

TOPICS = ["harbour budget", "school storm", "striker contract", "river flood", "museum wing", "rail strike"]


def _generation_folder(root: Path, gen: int) -> Path:
    """Base articles 0-29 (always the same) plus 20 + 5 * gen articles of this generation."""
    folder = root / f"gen{gen}"
    folder.mkdir(parents=True)
    for i in range(30):
        topic = TOPICS[i % len(TOPICS)]
        write_article(folder, f"base{i:02d}.md", f"Base story {i} on the {topic}",
                      f"The {topic} report {i} says the council met again. Officials gave details of the {topic}. "
                      f"A spokesperson said more would follow on day {i}.", source="Base",
                      url=f"https://example.org/base/{i}")
    for i in range(20 + 5 * gen):
        topic = TOPICS[(i + gen) % len(TOPICS)]
        write_article(folder, f"g{gen}_{i:02d}.md", f"Generation {gen} story {i} on the {topic}",
                      f"This generation {gen} report {i} covers the {topic}. The {topic} drew comment from "
                      f"residents. Later the {topic} was discussed by the council for generation {gen}.",
                      source=f"Gen {gen}", url=f"https://example.org/gen{gen}/{i}")
    return folder


@pytest.fixture(scope="module")
def generations(tmp_path_factory):
    root = tmp_path_factory.mktemp("generations")
    folders = {gen: _generation_folder(root, gen) for gen in GENERATIONS}
    settings = load_settings(index_dir=root / "unused", embedding={"backend": "hashing"})
    embedder = make_embedder(settings.embedding)
    chunker = Chunker(embedder, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
    texts, counts = {}, {}
    for gen, folder in folders.items():
        articles = load_paths([folder]).articles
        passages = [p for a in articles for p in chunker.chunk(a)]
        texts[gen] = {p.text for p in passages}
        counts[gen] = {"articles": len(articles), "passages": len(passages)}
    assert len({json.dumps(c, sort_keys=True) for c in counts.values()}) == len(GENERATIONS)
    return {"folders": folders, "texts": texts, "counts": counts}


class Consistency:
    """Checks results and remembers which generations were seen."""

    def __init__(self, generations):
        self.generations = generations
        self.seen: dict[str, set[int]] = {}
        self.checked = 0
        self.errors: list[str] = []
        self.lock = threading.Lock()

    def generation(self, snapshot) -> int:
        counts = snapshot.manifest["counts"]
        gens = [g for g, c in self.generations["counts"].items() if c == counts]
        assert len(gens) == 1, f"counts {counts} match no generation"
        return gens[0]

    def check(self, who: str, snapshot, passages) -> None:
        gen = self.generation(snapshot)
        assert passages, f"{who}: no results in generation {gen}"
        for p in passages:
            assert p.source in ("Base", f"Gen {gen}"), f"{who}: passage of {p.source} in generation {gen}"
            assert p.text in self.generations["texts"][gen], f"{who}: text not in generation {gen}"
            body = snapshot.article(p.article_id)["body"]
            assert p.text in body, f"{who}: passage text not in its article"
        with self.lock:
            self.seen.setdefault(who, set()).add(gen)
            self.checked += 1


def _reader(kind: str, settings, consistency: Consistency, stop: threading.Event, first) -> None:
    who = f"{kind}"
    try:
        i = 0
        opened = first if kind == "long-lived" else None
        while not stop.is_set():
            query = QUERIES[i % len(QUERIES)]
            i += 1
            if kind == "fresh":  # a new snapshot for every search
                opened = open_index(settings)
                try:
                    consistency.check(who, opened.snapshot, opened.retriever.search(query, 6))
                finally:
                    opened.close()
            elif kind == "long-lived":  # one snapshot for the whole test
                consistency.check(who, opened.snapshot, opened.retriever.search(query, 6))
            elif kind == "follower":  # reopens when CURRENT changes, like the UI
                version = IndexStore(settings.index_dir).current_folder().name
                if opened is None or opened.snapshot.folder.name != version:
                    if opened is not None:
                        opened.close()
                    opened = open_index(settings)
                consistency.check(who, opened.snapshot, opened.retriever.search(query, 6))
            elif kind == "answers":  # the whole answer pipeline, extractive model
                with Answerer(settings) as answerer:
                    answer = answerer.answer(f"What happened with the {query}?")
                    snapshot = answerer.opened.snapshot
                    consistency.check(who, snapshot, answer.passages)
                    assert not answer.refused
                    assert {c.passage_id for c in answer.citations} <= {p.id for p in answer.passages}
        if kind == "follower" and opened is not None:
            opened.close()
    except BaseException as exc:  # any error at all is a failure of the test
        import traceback

        consistency.errors.append(f"{who}: {exc!r}\n{traceback.format_exc()}")


def test_readers_see_whole_versions_while_two_rebuilds_run(generations, tmp_path):
    folders = generations["folders"]
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"},
                             llm={"backend": "extractive"})
    build_index(settings, [folders[1]])
    first = open_index(settings)
    consistency = Consistency(generations)
    stop = threading.Event()
    kinds = ["fresh", "fresh", "long-lived", "follower", "answers"]
    threads = [threading.Thread(target=_reader, args=(k, settings, consistency, stop, first), daemon=True)
               for k in kinds]
    for t in threads:
        t.start()
    builder = subprocess.run([sys.executable, "-c", REBUILDS, str(settings.index_dir), str(folders[2]),
                              str(folders[3])], cwd=REPO, capture_output=True, text=True, timeout=120)
    deadline = time.monotonic() + 20  # readers go on until they have seen the last generation
    while time.monotonic() < deadline and not consistency.errors and not all(
            3 in consistency.seen.get(k, set()) for k in ("fresh", "follower", "answers")):
        time.sleep(0.05)
    time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    first.close()
    assert builder.returncode == 0, builder.stderr
    assert not consistency.errors, "\n".join(consistency.errors[:3])
    assert consistency.seen["long-lived"] == {1}  # its folder was removed by the second rebuild
    assert not first.snapshot.folder.exists()
    fresh = consistency.seen["fresh"] | consistency.seen["follower"]
    assert {1, 3} <= fresh and len(fresh) >= 2, consistency.seen
    assert consistency.checked >= 30
    final = open_index(settings)
    assert consistency.generation(final.snapshot) == 3
    final.close()


def test_two_builds_started_at_once_one_is_refused(generations, tmp_path):
    folders = generations["folders"]
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"})
    build_index(settings, [folders[1]])
    go, refused = tmp_path / "go", tmp_path / "refused"
    procs = [subprocess.Popen([sys.executable, "-c", RACE, str(settings.index_dir), str(folders[gen]), str(go),
                               str(refused)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for gen in (2, 3)]
    for p in procs:  # both have imported the library and wait for the signal
        assert p.stdout.readline().strip() == "ready"
    go.touch()
    outs = [p.communicate(timeout=60) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], outs
    refused = next(out for (out, _), p in zip(outs, procs) if p.returncode == 2)
    assert "another build is running" in refused and "wait for it to finish" in refused
    winner = 2 if procs[0].returncode == 0 else 3
    opened = open_index(settings)
    try:
        assert opened.snapshot.manifest["counts"] == generations["counts"][winner]
        assert opened.retriever.search("generation report", 3)
    finally:
        opened.close()
    leftovers = [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []
    # The lock is free again: the next build runs and, for the same articles, changes nothing.
    report = build_index(settings, [folders[winner]])
    expected = (generations["counts"][winner]["articles"], 0, 0)
    assert (report.unchanged, report.added, report.embedded_passages) == expected


def test_open_that_lost_the_race_with_two_builds_opens_the_new_version(generations, tmp_path, monkeypatch):
    """A reader reads CURRENT, then two builds publish and remove the version it named
    before it opens it: it opens the version now published instead of failing."""
    folders = generations["folders"]
    settings = load_settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"})
    build_index(settings, [folders[1]])
    store = IndexStore(settings.index_dir)
    stale = store.current_folder()
    build_index(settings, [folders[2]], exact=True)  # each generation replaces the last
    build_index(settings, [folders[3]], exact=True)
    assert not stale.exists()
    real = IndexStore.current_folder
    calls = []

    def first_read_is_stale(self):
        calls.append(1)
        return stale if len(calls) == 1 else real(self)

    monkeypatch.setattr(IndexStore, "current_folder", first_read_is_stale)
    snapshot = store.open()
    try:
        assert snapshot.manifest["counts"] == generations["counts"][3]
    finally:
        snapshot.close()
