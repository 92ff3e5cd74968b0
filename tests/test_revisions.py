"""An updated article keeps its earlier text as a revision, in both stores, through real
builds of small articles written here; ``rag changes`` reports what changed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.config import load_settings
from rag.index.building import build_index
from rag.index.stores import make_store
from rag.search.open_index import open_index
from tests.conftest import write_article

STORM = ("The storm killed 12 people on Monday, officials said. Mayor Ana Ruiz declared an emergency.\n\n"
         "The port reopened at noon. Power returned to most homes.")
URL = "https://example.org/storm"


def qdrant_or_skip(backend: str) -> None:
    if backend == "qdrant":
        pytest.importorskip("qdrant_client", reason="the qdrant store needs qdrant-client: pip install '.[qdrant]'")


@pytest.fixture(params=["faiss", "qdrant"])
def storm(request, tmp_path):
    """Settings for one store over a folder with the storm article and one other."""
    qdrant_or_skip(request.param)
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "storm.md", "Storm hits coast", STORM, source="Coast Herald",
                  published_at="2023-10-02", url=URL)
    write_article(folder, "ferry.md", "Ferry timetable", "The ferry timetable changes in winter.",
                  source="Coast Herald", published_at="2023-10-01")
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=folder, embedding={"backend": "hashing"},
                             store={"backend": request.param})
    yield settings
    if request.param == "qdrant":
        from rag.index.qdrant.connection import release_local

        release_local(tmp_path / "index" / "qdrant")


def revisions_of(settings):
    snapshot = make_store(settings).open()
    try:
        return snapshot.revised_articles(), {i: snapshot.revisions(i) for i in snapshot.revised_articles()}
    finally:
        snapshot.close()


def edit(settings, name: str, title: str, body: str, **meta) -> None:
    write_article(settings.articles_dir, name, title, body, **{"source": "Coast Herald", **meta})


def test_an_updated_article_keeps_its_earlier_text_and_only_the_current_is_searched(storm):
    assert build_index(storm).revisions == 0
    edit(storm, "storm.md", "Storm kills 14 on the coast", STORM.replace("12 people", "14 people"),
         published_at="2023-10-03", url=URL)
    report = build_index(storm)
    assert (report.updated, report.revisions) == (1, 1)
    counts, kept = revisions_of(storm)
    assert list(counts.values()) == [1]
    (revision,) = next(iter(kept.values()))
    assert (revision.title, revision.body, revision.published_at) == ("Storm hits coast", STORM, "2023-10-02")
    assert revision.seen_at[:4] >= "2024" and revision.seen_at.endswith("+00:00")
    opened = open_index(storm)
    try:  # "12 people" is only in the revision: no passage of it is searched
        found = opened.snapshot.fetch(opened.snapshot.lexical_search("storm killed 12 people", 5).ids)
        storm_passages = [p for p in found if p.article_id in kept]
        assert storm_passages and all("14 people" in p.text and "12 people" not in p.text for p in storm_passages)
    finally:
        opened.close()
    # Nothing changed: nothing published, the revision stays; a later edit adds one after it.
    assert build_index(storm).revisions == 0 and revisions_of(storm)[0] == counts
    edit(storm, "storm.md", "Storm kills 14 on the coast", STORM.replace("12 people", "14 people") +
         " Rescuers found two more survivors.", published_at="2023-10-03", url=URL)
    assert build_index(storm).revisions == 1
    bodies = [r.body for r in next(iter(revisions_of(storm)[1].values()))]
    assert bodies == [STORM, STORM.replace("12 people", "14 people")]


def test_revisions_survive_a_full_rebuild_and_go_with_a_removed_article(storm):
    build_index(storm)
    edit(storm, "storm.md", "Storm hits coast", STORM.replace("Ana Ruiz", "Ana Gomez"), url=URL)
    build_index(storm)
    assert build_index(storm, full=True).revisions == 0
    assert list(revisions_of(storm)[0].values()) == [1]
    (storm.articles_dir / "storm.md").unlink()
    assert build_index(storm).removed == 1
    assert revisions_of(storm)[0] == {}


def test_the_same_link_from_a_new_file_is_an_update(storm):
    build_index(storm)
    (storm.articles_dir / "storm.md").unlink()
    edit(storm, "storm-updated.md", "Storm hits coast", STORM.replace("at noon", "at 3 p.m."), url=URL)
    report = build_index(storm)
    assert (report.added, report.removed, report.updated, report.revisions) == (0, 0, 1, 1)


def test_a_date_or_outlet_change_alone_is_not_a_revision(storm):
    build_index(storm)
    edit(storm, "storm.md", "Storm hits coast", STORM, published_at="2023-10-05", url=URL)
    report = build_index(storm)
    assert (report.updated, report.revisions) == (1, 0)


def changes(*args):
    result = CliRunner().invoke(app, ["changes", *args])
    return result.exit_code, result.stdout, result.stderr


def test_rag_changes_json_shape_and_text(storm, monkeypatch):
    monkeypatch.setenv("RAG_STORE__BACKEND", storm.store.backend)
    index = str(storm.index_dir)
    build_index(storm)
    code, out, _ = changes("--index", index, "--json")
    assert (code, json.loads(out)) == (0, {"articles": []})
    code, out, _ = changes("--index", index)
    assert code == 0 and "No article in the index was updated" in out
    new = (STORM.replace("12 people on Monday", "14 people on Tuesday").replace("Ana Ruiz", "Ana Gomez")
           .replace("Power returned to most homes.", "") + " Rescuers found two more survivors.")
    edit(storm, "storm.md", "Storm kills 14", new, published_at="2023-10-03", url=URL)
    build_index(storm)
    code, out, _ = changes("--index", index, "--json")
    assert code == 0
    (article,) = json.loads(out)["articles"]
    assert set(article) == {"article_id", "title", "source", "url", "revisions"}
    assert (article["title"], article["source"], article["url"]) == ("Storm kills 14", "Coast Herald", URL)
    (rev,) = article["revisions"]
    assert set(rev) == {"seen_at", "published_at", "headline", "added", "removed", "changed", "substantive"}
    assert rev["published_at"] == "2023-10-03" and rev["substantive"] is True
    assert rev["headline"] == {"old": "Storm hits coast", "new": "Storm kills 14"}
    assert rev["added"] == ["Rescuers found two more survivors."]
    assert rev["removed"] == ["Power returned to most homes."]
    by_old = {c["old"]: c for c in rev["changed"]}
    assert set(by_old["The storm killed 12 people on Monday, officials said."]) == {
        "old", "new", "numbers", "dates", "names"}
    assert by_old["The storm killed 12 people on Monday, officials said."]["numbers"] == ["12", "14"]
    assert by_old["The storm killed 12 people on Monday, officials said."]["dates"] == ["Monday", "Tuesday"]
    assert by_old["Mayor Ana Ruiz declared an emergency."]["names"] == ["Mayor Ana Gomez", "Mayor Ana Ruiz"]
    # One article by id, or by its link; the same entry.
    assert json.loads(changes(article["article_id"], "--index", index, "--json")[1])["articles"] == [article]
    assert json.loads(changes(URL, "--index", index, "--json")[1])["articles"] == [article]
    code, out, _ = changes(article["article_id"], "--index", index)
    assert code == 0 and "headline: 'Storm hits coast'" in out and "(numbers 12, 14; dates Monday, Tuesday)" in out
    assert "added:   Rescuers found two more survivors." in out
    # --since: updates seen on or after a day.
    assert json.loads(changes("--since", "2999-01-01", "--index", index, "--json")[1]) == {"articles": []}
    assert len(json.loads(changes("--since", "2000-01-01", "--index", index, "--json")[1])["articles"]) == 1


def test_rag_changes_bad_input_says_so(storm, monkeypatch):
    monkeypatch.setenv("RAG_STORE__BACKEND", storm.store.backend)
    index = str(storm.index_dir)
    build_index(storm)
    code, _, err = changes("0123456789abcdef", "--index", index)
    assert code == 1 and "no article with id '0123456789abcdef' in the index" in err
    ferry = next(i for i, s in make_store(storm).open().stored_articles().items() if s.path.endswith("ferry.md"))
    code, out, _ = changes(ferry, "--index", index)
    assert code == 0 and "no earlier version: its text has not changed since it was first indexed" in out
    code, out, _ = changes(ferry, "--index", index, "--json")
    assert json.loads(out)["articles"][0]["revisions"] == []
    code, _, err = changes("--since", "yesterday", "--index", index)
    assert code != 0 and "--since" in err


def test_a_reorder_or_typography_update_is_kept_and_reported_as_no_substantive_change(storm, monkeypatch):
    monkeypatch.setenv("RAG_STORE__BACKEND", storm.store.backend)
    build_index(storm)
    first, second = STORM.split("\n\n")
    reordered = (second + "\n\n" + first).replace("officials said", "officials\u00a0said")
    quoted = reordered.replace("Mayor Ana Ruiz declared", "Mayor Ana Ruiz \u2014 \u201cacting fast\u201d \u2014 declared")
    for body in (reordered, quoted, quoted.replace("\u2014 \u201cacting fast\u201d \u2014", '- "acting fast" -')):
        edit(storm, "storm.md", "Storm hits coast", body, url=URL)
        assert build_index(storm).revisions == 1
    code, out, _ = changes("--index", str(storm.index_dir), "--json")
    (article,) = json.loads(out)["articles"]
    moved, quote, typography = article["revisions"]
    nothing = {"headline": None, "added": [], "removed": [], "changed": [], "substantive": False}
    assert moved == {**moved, **nothing} and typography == {**typography, **nothing}
    assert quote["substantive"] and [c["new"] for c in quote["changed"]] == [
        "Mayor Ana Ruiz \u2014 \u201cacting fast\u201d \u2014 declared an emergency."]
    code, out, _ = changes("--index", str(storm.index_dir))
    assert out.count("no substantive change") == 2


def test_rag_ask_marks_an_updated_source_and_its_json_carries_the_updates(storm, monkeypatch):
    monkeypatch.setenv("RAG_STORE__BACKEND", storm.store.backend)
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    build_index(storm)
    edit(storm, "storm.md", "Storm hits coast", STORM.replace("12 people", "14 people"),
         published_at="2023-10-02", url=URL)
    build_index(storm)
    ask = ["ask", "How many people did the storm kill?", "--index", str(storm.index_dir), "--llm", "extractive"]
    result = CliRunner().invoke(app, [*ask, "--json"])
    assert result.exit_code == 0, result.stderr
    cited = {c["title"]: c for c in json.loads(result.stdout)["citations"]}
    assert cited["Storm hits coast"]["updates"]["count"] == 1 and "14 people" in cited["Storm hits coast"]["text"]
    assert all(c["updates"] is None for t, c in cited.items() if t != "Storm hits coast")
    text = CliRunner().invoke(app, ask)
    assert text.exit_code == 0 and "Storm hits coast — Coast Herald, 2023-10-02 (updated 1 time, last on" in text.stdout
