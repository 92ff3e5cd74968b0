"""Index sync, atomic publishing, embedder mismatch and search filters."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from rag.config import EmbeddingSettings
from rag.embed.hashing import HashingEmbedder
from rag.errors import IndexLockedError, IndexMismatchError, IndexMissingError
from rag.index.building import build_index
from rag.index.embedded.store import IndexStore
from rag.search.open_index import open_index
from rag.search.retrieval import SearchFilters
from tests.conftest import REPO, write_article


class RecordingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering what it was asked to embed."""

    def __init__(self, **kw):
        super().__init__(EmbeddingSettings(**kw))
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return super().embed(texts)


def test_first_build_counts(settings):
    report = build_index(settings)
    assert (report.articles, report.added, report.updated, report.removed, report.unchanged) == (3, 3, 0, 0, 0)
    assert report.passages == report.embedded_passages >= 3
    assert report.skipped == []


def test_sync_adds_updates_removes_and_skips_unchanged(settings, articles_dir):
    build_index(settings)
    write_article(articles_dir, "d.md", "Storm closes schools", "A storm closed every school in the county.",
                  source="Coast Herald", published_at="2023-12-05", url="https://example.org/d")
    (articles_dir / "b.md").unlink()
    a = articles_dir / "a.md"
    a.write_text(a.read_text() + "\nA second paragraph about the toll booths.\n")
    embedder = RecordingEmbedder()
    report = build_index(settings, embedder=embedder)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 1)
    assert report.articles == 3
    # Only passages whose text changed were embedded: nothing from c.md.
    assert report.embedded_passages == len(embedder.seen) >= 2
    assert not any("chip maker" in t.lower() for t in embedder.seen)
    again = build_index(settings, embedder=RecordingEmbedder())
    assert (again.added, again.updated, again.removed, again.unchanged, again.embedded_passages) == (0, 0, 0, 3, 0)
    opened = open_index(settings)
    urls = {p.url for p in opened.retriever.search("storm schools harbour chip striker", 10)}
    assert "https://example.org/b" not in urls and "https://example.org/d" in urls


def test_bad_files_are_skipped_and_named(settings, articles_dir):
    (articles_dir / "empty.txt").write_text("")
    (articles_dir / "broken.json").write_text("{not json")
    report = build_index(settings)
    assert report.articles == 3
    skipped = {Path(s["path"]).name: s["error"] for s in report.skipped}
    assert set(skipped) == {"empty.txt", "broken.json"}


def test_other_embedder_is_refused_with_rebuild_hint(settings):
    build_index(settings)
    other = HashingEmbedder(EmbeddingSettings(dim=64))
    with pytest.raises(IndexMismatchError, match="--full"):
        open_index(settings, embedder=other)
    with pytest.raises(IndexMismatchError, match="--full"):
        build_index(settings, embedder=other)
    report = build_index(settings, embedder=other, full=True)
    assert report.added == 3
    assert open_index(settings, embedder=other).snapshot.embedder_id == other.model_id


def test_missing_index_says_how_to_build(tmp_path):
    with pytest.raises(IndexMissingError, match="rag index build"):
        IndexStore(tmp_path / "none").open()


def test_failed_build_leaves_previous_index(settings, articles_dir):
    build_index(settings)

    class Exploding(HashingEmbedder):
        def embed(self, texts):
            raise RuntimeError("model crashed")

    write_article(articles_dir, "e.md", "New", "Something new happened today.", url="https://example.org/e")
    with pytest.raises(RuntimeError):
        build_index(settings, embedder=Exploding(EmbeddingSettings()))
    opened = open_index(settings)
    assert opened.snapshot.manifest["counts"]["articles"] == 3
    assert opened.retriever.search("harbour bridge", 1)[0].url == "https://example.org/a"


class FailsOnCyrillic(HashingEmbedder):
    """A tokenizer with a bug on one script (as the OpenAI-compatible embedder's
    token rule once had on Russian): chunking an article in it fails inside."""

    def count_tokens(self, texts):
        if any(re.search("[а-яА-Я]", t) for t in texts):
            raise ValueError("this tokenizer cannot count Cyrillic")
        return super().count_tokens(texts)


def test_article_that_cannot_be_chunked_is_skipped_by_name_and_the_build_goes_on(settings, articles_dir):
    build_index(settings)
    write_article(articles_dir, "a.md", "Harbour bridge reopens", "Мост снова открыт после ремонта.",
                  url="https://example.org/a")  # indexed before, now fails
    write_article(articles_dir, "ru.md", "Новости гавани", "Городской совет обсудил ремонт моста.",
                  url="https://example.org/ru")  # new, fails
    report = build_index(settings, embedder=FailsOnCyrillic(settings.embedding))
    assert (report.articles, report.added, report.updated, report.removed, report.unchanged) == (2, 0, 0, 1, 2)
    assert [skip["path"] for skip in report.skipped] == [str(articles_dir / "a.md"), str(articles_dir / "ru.md")]
    for skip in report.skipped:
        assert "could not be cut into passages (ValueError: this tokenizer cannot count Cyrillic)" in skip["error"]
    opened = open_index(settings)
    try:
        assert opened.snapshot.manifest["counts"]["articles"] == 2
        assert {p.url for p in opened.retriever.search("harbour bridge striker chip", 10)} == {
            "https://example.org/b", "https://example.org/c"}
    finally:
        opened.close()


KILLED_BUILD = textwrap.dedent("""
    import sys, time
    from rag.config import load_settings
    from rag.embed.hashing import HashingEmbedder
    from rag.index.building import build_index

    class Slow(HashingEmbedder):
        def embed(self, texts):
            print("embedding", flush=True)
            time.sleep(60)

    settings = load_settings(index_dir=sys.argv[1], embedding={"backend": "hashing"})
    build_index(settings, [sys.argv[2]], embedder=Slow(settings.embedding))
""")


def test_build_killed_mid_way_leaves_old_index_and_next_build_completes(settings, articles_dir, tmp_path):
    build_index(settings)
    write_article(articles_dir, "f.md", "Late news", "A late story about the harbour.", url="https://example.org/f")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(settings.index_dir), str(articles_dir)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout.readline().strip() == "embedding"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    opened = open_index(settings)
    assert opened.snapshot.manifest["counts"]["articles"] == 3
    report = build_index(settings)
    assert (report.added, report.unchanged, report.articles) == (1, 3, 4)
    leftovers = [p.name for p in settings.index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_second_concurrent_build_is_refused(settings, articles_dir):
    build_index(settings)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_BUILD, str(settings.index_dir), str(articles_dir)],
                            stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        write_article(articles_dir, "g.md", "Other", "Another story.", url="https://example.org/g")
        assert proc.stdout.readline().strip() == "embedding"
        with pytest.raises(IndexLockedError, match="another build"):
            build_index(settings)
    finally:
        proc.kill()
        proc.wait()


def test_filters_by_source_and_date(settings):
    build_index(settings)
    retriever = open_index(settings).retriever
    everything = retriever.search("the", 10)
    assert {p.source for p in everything} >= {"Coast Herald", "Sports Daily", "Tech Wire"}
    only = retriever.search("contract profit bridge", 10, SearchFilters(sources=["Tech Wire", "Sports Daily"]))
    assert only and {p.source for p in only} <= {"Tech Wire", "Sports Daily"}
    dated = retriever.search("contract profit bridge", 10, SearchFilters(since=date(2023, 11, 1), until=date(2023, 11, 30)))
    assert [p.url for p in dated] == ["https://example.org/b"]
    assert retriever.search("bridge", 10, SearchFilters(sources=["Nobody"])) == []


def test_near_duplicates_do_not_crowd_the_top(settings, articles_dir):
    body = "The council approved the new budget for the harbour district after a long debate."
    for i in range(4):
        write_article(articles_dir, f"dup{i}.md", "Council approves budget", body, source="Coast Herald",
                      url=f"https://example.org/dup{i}")
    build_index(settings)
    top = open_index(settings).retriever.search("council budget harbour", 3)
    assert sum(1 for p in top if p.url.startswith("https://example.org/dup")) == 1


def test_build_hands_the_embedder_build_batch_size_passages_per_call(settings, articles_dir):
    for i in range(4):
        write_article(articles_dir, f"more{i}.md", f"Story {i}", f"Paragraph about topic {i}. " * 3,
                      url=f"https://example.org/more{i}")
    calls: list[int] = []

    class Counting(RecordingEmbedder):
        def embed(self, texts):
            calls.append(len(texts))
            return super().embed(texts)

    small = settings.model_copy(update={"embedding": settings.embedding.model_copy(update={"build_batch_size": 2})})
    report = build_index(small, embedder=Counting())
    assert sum(calls) == report.embedded_passages >= 7
    assert max(calls) == 2 and len(calls) == -(-report.embedded_passages // 2)


def test_diversify_window_is_a_setting(settings, articles_dir):
    body = "The council approved the new budget for the harbour district after a long debate."
    for i in range(4):
        write_article(articles_dir, f"dup{i}.md", "Council approves budget", body, source="Coast Herald",
                      url=f"https://example.org/dup{i}")
    build_index(settings)
    wide = open_index(settings).retriever.search("council budget harbour", 3)
    narrow_settings = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
        update={"diversify_window_per_result": 1, "diversify_window_min": 3})})
    narrow = open_index(narrow_settings).retriever.search("council budget harbour", 3)
    # The 3 best candidates are the identical passages: a window of 3 leaves one of them.
    assert len(wide) == 3 and len(narrow) == 1
