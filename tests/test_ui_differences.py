"""The "Outlets differ" callout under an answer and the Differences view, driven by
Streamlit's AppTest over two small articles written here (hashing embedder,
extractive answers)."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.conftest import write_fire_articles  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    app,
    ask,
    fresh_caches,  # noqa: F401 - autouse: empty caches around each test
    no_exceptions,
    rag_env,
    texts,
)

QUESTION = "How many people did the harbour warehouse fire kill?"


@pytest.fixture
def fire(tmp_path, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_fire_articles(folder)
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
