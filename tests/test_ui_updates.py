"""The sources panel marks an updated article and shows what changed; the answer cites the
current text (Streamlit's AppTest over a real index of small articles, extractive answers)."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from rag.answer.pipeline import Answerer  # noqa: E402
from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from rag.ui.updates_view import revision_markdown  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    SECOND,
    app,
    ask,
    fresh_caches,  # noqa: F401 - autouse: empty caches around each test
    no_exceptions,
    rag_env,
    saved,
    texts,
    write_articles,
)

QUESTION = "How much will the harbour bridge repairs cost?"


@pytest.fixture
def updated(tmp_path, monkeypatch):
    """The two articles indexed, then the harbour one updated twice (a number, then a sentence)."""
    articles = write_articles(tmp_path)
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(tmp_path / "index"), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive", UI__ADMIN="true")
    build_index(load_settings())
    cheaper = SECOND.replace("two million dollars", "three million dollars")
    (articles / "harbour.md").write_text(cheaper, encoding="utf-8")
    build_index(load_settings())
    (articles / "harbour.md").write_text(cheaper + "\nTraffic will use the old ferry route meanwhile.\n",
                                         encoding="utf-8")
    assert build_index(load_settings()).revisions == 1
    return {"articles": articles, "index": tmp_path / "index", "tmp": tmp_path}


def test_an_updated_source_is_marked_and_its_changes_shown(updated):
    at = ask(app(), QUESTION)
    no_exceptions(at)
    (harbour,) = [c for c in saved(updated, at)[-1]["citations"] if c["source"] == "Harbour Gazette"]
    assert "three million dollars" in harbour["text"] and "two million" not in harbour["text"]  # the current text
    assert harbour["updates"]["count"] == 2
    page = texts(at)
    assert "Updated 2 times, last on" in page and "the text cited is the current one" in page
    (expander,) = [e for e in at.expander if e.label == "What changed"]
    shown = "\n".join(str(m.value) for m in expander.markdown).replace("\\", "")
    assert "~~The repairs will cost two million dollars" in shown and "(three, two)" in shown
    assert "Added: Traffic will use the old ferry route meanwhile." in shown


def test_a_source_never_updated_has_no_mark(updated):
    at = ask(app(), "What does Ukraine's victory plan ask the West for?")
    no_exceptions(at)
    citations = saved(updated, at)[-1]["citations"]
    assert citations and all(not c.get("updates") for c in citations if c["source"] != "Harbour Gazette")
    if all(c["source"] != "Harbour Gazette" for c in citations):
        assert "Updated " not in texts(at) and not [e for e in at.expander if e.label == "What changed"]


def test_the_library_answer_carries_the_updates_for_every_front_end(updated):
    # rag ask --json, the HTTP API and the UI all read Answer.to_dict(): the mark is the library's.
    with Answerer(load_settings()) as answerer:
        answer = answerer.answer(QUESTION)
    cited = {c.source: c for c in answer.citations}
    assert cited["Harbour Gazette"].updates["count"] == 2
    assert all(c.updates is None for s, c in cited.items() if s != "Harbour Gazette")
    (harbour,) = [c for c in answer.to_dict()["citations"] if c["source"] == "Harbour Gazette"]
    assert harbour["updates"]["last_seen_at"] and len(harbour["updates"]["revisions"]) == 2


def test_the_markdown_escapes_article_text():
    text = revision_markdown({"substantive": True, "headline": None, "added": ["*bold* [x](javascript:1)"],
                              "removed": [], "changed": []})
    assert "\\*bold\\*" in text and "](javascript" not in text.replace("\\]", "")
    assert revision_markdown({"substantive": False}).startswith("- No substantive change")
