"""Shared pieces of the Streamlit AppTest tests: the articles, the settings
the app reads (``RAG_*`` variables), and driving and reading the page."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"
# The sample articles' copy of the seed: its text with a `Source: RT` header (docs/articles.md).
SEED = ROOT / "data" / "articles" / "000_ed08602e7532188b.txt"
SEED_TITLE = "Ukraine’s backers want talks with Putin – Bloomberg"
QUESTION = "What does Ukraine's victory plan ask the West for?"

SECOND = """---
title: Harbour bridge repairs approved by the city council
source: Harbour Gazette
published_at: '2024-03-05T09:00:00+00:00'
url: https://example.org/harbour-bridge
---

The city council approved repairs to the harbour bridge on Monday. The repairs will cost two million dollars and take three months, the council said.

Engineers found corrosion in the steel cables during an inspection in January.
"""


def clear_streamlit_caches() -> None:
    """Streamlit's caches and the UI's shared registry (which no page can clear)."""
    from rag.ui.shared import forget_all

    st.cache_resource.clear()
    st.cache_data.clear()
    forget_all()


@pytest.fixture(autouse=True)
def fresh_caches():
    """Empty caches before and after each test of a module that imports this fixture."""
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


def write_articles(folder: Path) -> Path:
    """The seed and one dated article in ``folder/articles``."""
    articles = folder / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    (articles / "harbour.md").write_text(SECOND, encoding="utf-8")
    return articles


def rag_env(monkeypatch, folder: Path, **values: str) -> None:
    """Only these ``RAG_*`` variables (plus an absent config file) for the app."""
    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RAG_CONFIG", str(folder / "absent.toml"))
    for key, value in values.items():
        monkeypatch.setenv(f"RAG_{key}", value)


def app(cid: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    if cid:
        at.query_params["c"] = cid
    return at.run()


def texts(at: AppTest) -> str:
    """Every text the page shows (Markdown, captions, alerts), unescaped."""
    parts = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts).replace("\\", "")


def ask(at: AppTest, question: str) -> AppTest:
    return at.chat_input(key="question").set_value(question).run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def wait_for_job(at: AppTest, done_text: str = "Index ", timeout: float = 30) -> AppTest:
    """Rerun until the background build's result shows in the sidebar."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        shown = [str(e.value) for e in at.sidebar.success] + [str(e.value) for e in at.sidebar.error]
        if any(done_text in s or "failed" in s for s in shown) and not at.sidebar.get("progress"):
            return at
        time.sleep(0.1)
    raise AssertionError("the index build did not finish")


def saved(env, at: AppTest) -> list[dict]:
    cid = at.query_params["c"]
    cid = cid[0] if isinstance(cid, list) else cid
    return json.loads((env["index"] / "conversations" / f"{cid}.json").read_text())["messages"]
