"""The Timeline view beside the chat, through Streamlit's AppTest: a typed topic, the
last question with one click, the chat's publisher filter, sources of an event."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from rag.config import load_settings  # noqa: E402
from rag.index.building import build_index  # noqa: E402
from tests.ui_apptest_helpers import (  # noqa: E402
    SECOND,
    app,
    ask,
    clear_streamlit_caches,
    no_exceptions,
    rag_env,
    texts,
    write_articles,
)

COPY = SECOND.replace("Harbour Gazette", "Bay Wire").replace("09:00:00", "21:00:00").replace(
    "https://example.org/harbour-bridge", "https://example.org/bay-copy")


@pytest.fixture(autouse=True)
def _fresh_caches():
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


@pytest.fixture
def env(tmp_path, monkeypatch):
    articles = write_articles(tmp_path)
    (articles / "copy.md").write_text(COPY, encoding="utf-8")
    index = tmp_path / "index"
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(index), ARTICLES_DIR=str(articles),
            EMBEDDING__BACKEND="hashing", LLM__BACKEND="extractive", UI__ADMIN="true")
    build_index(load_settings())
    return tmp_path


def timeline_page(at):
    return at.button_group(key="view").set_value("Timeline").run()


def test_typed_topic_shows_events_chart_and_sources(env):
    at = timeline_page(app())
    no_exceptions(at)
    at.text_input(key="tl_topic").set_value("harbour bridge repairs council")
    at = next(b for b in at.button if "Show timeline" in str(b.label)).click().run()
    no_exceptions(at)
    shown = texts(at)
    assert "event(s) from" in shown
    events = [e for e in at.main.expander if "Harbour Gazette first" in e.label]
    label = events[0].label.replace("\\", "")
    assert len(events) == 1 and "then Bay Wire +12 h" in label
    assert label.startswith("4 Mar 2024 (date named in the text)")  # "on Monday" in a Tuesday paper
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # coverage per outlet
    cards = "\n".join(str(m.value) for m in events[0].markdown)
    assert "Harbour Gazette" in cards and "Bay Wire" in cards  # both sources, as in the chat's panel


def test_last_question_with_one_click_and_filters(env):
    at = ask(app(), "How much will the harbour bridge repairs cost?")
    no_exceptions(at)
    at.multiselect(key="f_sources").set_value(["Bay Wire"]).run()
    at = timeline_page(at)
    at = next(b for b in at.button if b.key == "tl_current").click().run()
    no_exceptions(at)
    labels = [e.label.replace("\\", "") for e in at.main.expander]
    assert labels and all("Bay Wire first" in label and "Harbour Gazette" not in label for label in labels)


def test_topic_that_finds_nothing_says_so(env):
    at = timeline_page(app())
    at.text_input(key="tl_topic").set_value("zeppelin xylophone quasar")
    at = next(b for b in at.button if "Show timeline" in str(b.label)).click().run()
    no_exceptions(at)
    assert "No indexed article is about" in texts(at)
