"""The "Outlets differ" callout under an answer and the Differences view, driven by
Streamlit's AppTest over two small articles written here (hashing embedder,
extractive answers)."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.conftest import write_article  # noqa: E402
from tests.ui_apptest_helpers import app, ask, clear_streamlit_caches, no_exceptions, rag_env, texts  # noqa: E402

QUESTION = "How many people did the harbour warehouse fire kill?"


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


@pytest.fixture
def fire(tmp_path, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "gazette.md", "Harbour warehouse fire kills 30",
                  "A fire at the harbour warehouse killed 30 people on Monday, the fire chief said. "
                  "Crews fought the blaze through the night.",
                  source="Harbour Gazette", published_at="2024-03-05T09:00:00+00:00", url="https://example.org/g")
    write_article(folder, "herald.md", "Deadly fire at harbour warehouse",
                  "The fire at the harbour warehouse killed 35 people on Monday, according to the fire chief. "
                  "The cause is not yet known.",
                  source="City Herald", published_at="2024-03-05T11:00:00+00:00", url="https://example.org/h")
    write_article(folder, "bridge.md", "Bridge reopens",
                  "The harbour bridge reopened on Tuesday after repairs. Traffic returned to normal by noon.",
                  source="Coast Herald", published_at="2024-03-06T08:00:00+00:00")
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(tmp_path / "index"), ARTICLES_DIR=str(folder),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive")
    build_index(load_settings())


def callout(at) -> str:
    return "\n".join(str(w.value) for w in at.warning)


def test_the_answer_shows_a_callout_with_both_sources_highlighted(fire):
    at = ask(app(), QUESTION)
    no_exceptions(at)
    shown = callout(at).replace("\\", "")
    assert "Outlets differ" in shown
    assert "**30**" in shown and "**35**" in shown
    assert "Harbour Gazette" in shown and "City Herald" in shown
    # Both sentences highlighted, each with its value in bold, and each [n] links to its source entry.
    assert shown.count(":orange-background[") == 2
    assert "killed **30** people" in shown and "killed **35** people" in shown
    assert "(#src-" in shown
    assert "Outlets differ on" in texts(at)  # the answer text says so too


def test_an_answer_without_differences_has_no_callout(fire):
    at = ask(app(), "When did the harbour bridge reopen after repairs?")
    no_exceptions(at)
    assert "Outlets differ" not in callout(at)


def test_the_differences_view_lists_a_topics_differences(fire):
    at = app()
    at.segmented_control(key="view").set_value("Differences").run()
    no_exceptions(at)
    at.text_input(key="differences_topic").input("harbour warehouse fire").run()
    no_exceptions(at)
    shown = callout(at).replace("\\", "")
    assert "Outlets differ" in shown and "**30**" in shown and "**35**" in shown
    assert "1 difference among" in "\n".join(str(c.value) for c in at.caption)
    at.text_input(key="differences_topic").input("").run()
    assert not at.warning
