"""The "Outlets differ" callout in a real browser (Debian's Chromium, Playwright), over
two small articles written here that give different death tolls for one fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import write_fire_articles
from tests.ui_browser_helpers import CHROMIUM, app_env, ask, chromium_page, streamlit_server, wait_idle

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              "(apt-get install -y chromium) to run the browser test"),
    pytest.mark.timeout(180),
    pytest.mark.slow,
]
pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from rag.config import load_settings
    from rag.index.building import build_index

    tmp = tmp_path_factory.mktemp("ui-differ")
    articles = tmp / "articles"
    articles.mkdir()
    write_fire_articles(articles, bridge=False)
    build_index(load_settings(index_dir=tmp / "index", articles_dir=articles,
                              embedding={"backend": "hashing"}, llm={"backend": "extractive"}))
    with streamlit_server(app_env(tmp / "index", articles), cwd=tmp) as url:
        yield url


def test_the_callout_names_both_values_and_links_both_sources(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        ask(page, "How many people did the harbour warehouse fire kill?")
        callout = page.locator('[class*="st-key-differ-"]').first
        callout.wait_for()
        wait_idle(page)
        text = callout.inner_text()
        assert "Outlets differ" in text and "Harbour Gazette" in text and "City Herald" in text
        highlighted = callout.locator(".stMarkdownColoredBackground").all_inner_texts()
        assert len(highlighted) == 2
        assert any("killed 30 people" in h for h in highlighted) and any("killed 35 people" in h for h in highlighted)
        links = callout.locator('a[href^="#src-"]')
        assert links.count() == 2
        for k in range(2):  # each [n] leads to a source entry naming that value's outlet
            target = links.nth(k).get_attribute("href")[1:]
            entry = page.locator(f'[class*="st-key-card-"]:has([id="{target}"])')
            assert entry.count() == 1
            assert ("Harbour Gazette" in entry.inner_text()) or ("City Herald" in entry.inner_text())
        outlets = {page.locator(f'[class*="st-key-card-"]:has([id="{links.nth(k).get_attribute("href")[1:]}"])')
                   .inner_text().count("Harbour Gazette") > 0 for k in range(2)}
        assert outlets == {True, False}  # one link per outlet
