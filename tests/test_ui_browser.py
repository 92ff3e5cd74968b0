"""The chat in a real browser: Debian's Chromium driven by Playwright (sync API).

``streamlit run ui/app.py`` runs as a subprocess on a free loopback port with
an index built in ``tmp_path`` (hashing embedder, extractive answers). The
test asks about the seed article, checks the answer and the source entry its
``[n]`` marker links to, and that an article carrying ``<script>`` and
``<img onerror>`` payloads is shown as text and never runs.

CI needs ``apt-get install -y chromium`` (see docs/ui.md); without
``/usr/bin/chromium`` the test is skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.ui_browser_helpers import (
    CHROMIUM,
    app_env,
    ask,
    chromium_page,
    streamlit_server,
    wait_idle,
)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              "(apt-get install -y chromium) to run the browser test"),
    pytest.mark.timeout(180),
]
pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
SEED = Path("/work/shared/seeds/000_ed08602e7532188b.txt")
if not SEED.is_file():
    SEED = ROOT / "data" / "articles" / "000_ed08602e7532188b.txt"
SEED_TITLE = "Ukraine’s backers want talks with Putin – Bloomberg"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
XSS_ARTICLE = f"""Council meeting notes {SCRIPT}

The council discussed the harbour bridge repairs on Monday. One resident submitted a comment reading {IMG} which the clerk read aloud.

The harbour bridge repairs will cost two million dollars and take three months, the council said.
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from rag.config import load_settings
    from rag.index.building import build_index

    tmp = tmp_path_factory.mktemp("ui-browser")
    articles = tmp / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    (articles / "council.txt").write_text(XSS_ARTICLE, encoding="utf-8")
    settings = load_settings(index_dir=tmp / "index", articles_dir=articles,
                             embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    build_index(settings)
    env = app_env(tmp / "index", articles)
    with streamlit_server(env) as url:
        yield url


def test_ask_about_the_seed_and_follow_the_citation(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        assert page.get_by_text("2 articles").count() >= 1
        ask(page, "What does Ukraine's victory plan ask the West for?")
        card = page.locator('[class*="st-key-card-"]').first
        card.wait_for()
        wait_idle(page)
        answer = page.get_by_test_id("stChatMessage").nth(1)
        assert "victory plan" in answer.inner_text()
        assert "Answered by extractive" in answer.inner_text()
        # The [n] marker is a link to the source entry, which names the seed.
        marker = answer.locator('a[href^="#src-"]').first
        target = marker.get_attribute("href")[1:]
        entry = page.locator(f'[class*="st-key-card-"]:has([id="{target}"])')
        assert entry.count() == 1
        assert SEED_TITLE in entry.inner_text()
        assert SEED.name in entry.inner_text()
        assert entry.locator(".stMarkdownColoredBackground").count() == 1  # highlighted quote
        marker.click()
        assert page.evaluate("location.hash") == f"#{target}"


def test_article_markup_is_shown_as_text_and_never_runs(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        ask(page, "What did the resident submit about the harbour bridge at the council?")
        page.locator('[class*="st-key-card-"]').first.wait_for()
        wait_idle(page)
        page.wait_for_timeout(300)
        assert page.evaluate("typeof window.__xss") == "undefined"
        body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
        assert SCRIPT in body  # the title, literally
        assert IMG in body  # the cited passage, literally
        assert page.locator('[data-testid="stMainBlockContainer"] script').count() == 0
        assert page.locator('[data-testid="stMainBlockContainer"] img[src="x"]').count() == 0


if os.environ.get("RAG_UI_SCREENSHOTS"):  # pragma: no cover - by hand: RAG_UI_SCREENSHOTS=/tmp/shots
    def test_screenshots(server):
        out = Path(os.environ["RAG_UI_SCREENSHOTS"])
        out.mkdir(parents=True, exist_ok=True)
        with chromium_page() as page:
            page.goto(server)
            page.get_by_text("Try one of these").wait_for()
            wait_idle(page)
            page.screenshot(path=str(out / "browser-welcome.png"))
