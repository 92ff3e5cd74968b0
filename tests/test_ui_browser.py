"""The chat in a real browser: Debian's Chromium driven by Playwright (sync API).

``rag ui`` runs as a subprocess on a loopback port the OS picks, with an
index built in ``tmp_path`` (hashing embedder, extractive answers). The tests
ask about the seed article, check the answer and the source entry its ``[n]``
marker links to, that an article carrying ``<script>`` and ``<img onerror>``
payloads is shown as text and never runs, and that Markdown links quoted from
an article are links only when they are http(s). Two more start ``rag ui`` in
a folder of its own, as an installed user would: the UI answers from that
folder's ``rag.toml`` and index (or the one ``--index`` names), with the
app's own Streamlit options applied.

CI needs ``apt-get install -y chromium`` (see docs/ui.md); without
``/usr/bin/chromium`` the test is skipped with that reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging_helpers import build_wheel
from tests.ui_browser_helpers import (
    CHROMIUM,
    app_env,
    ask,
    chromium_page,
    forward_messages,
    rag_command,
    streamlit_server,
    wait_idle,
)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              "(apt-get install -y chromium) to run the browser test"),
    pytest.mark.timeout(180),
    pytest.mark.slow,
]
pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
# The sample articles' copy of the seed: its text with a `Source: RT` header (docs/articles.md).
SEED = ROOT / "data" / "articles" / "000_ed08602e7532188b.txt"
SEED_TITLE = "Ukraine’s backers want talks with Putin – Bloomberg"
SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
XSS_ARTICLE = f"""Council meeting notes {SCRIPT}

The council discussed the harbour bridge repairs on Monday. One resident submitted a comment reading {IMG} which the clerk read aloud.

The harbour bridge repairs will cost two million dollars and take three months, the council said.
"""
JS_LINK = "[full budget](javascript:window.__xss=3)"
DATA_LINK = "[summary](data:text/html,<script>window.__xss=4</script>)"
HTTP_LINK = "[council report](https://example.org/council-report)"
LINK_ARTICLE = f"""City budget published

The city published the full budget for next year as {JS_LINK} with a {DATA_LINK} and the {HTTP_LINK} online.
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
    (articles / "budget.txt").write_text(LINK_ARTICLE, encoding="utf-8")
    settings = load_settings(index_dir=tmp / "index", articles_dir=articles,
                             embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    build_index(settings)
    env = app_env(tmp / "index", articles)
    with streamlit_server(env, cwd=tmp) as url:
        yield url


def test_ask_about_the_seed_and_follow_the_citation(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        assert page.get_by_text("3 articles").count() >= 1
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
        assert re.search(r"\bRT\b", entry.inner_text())  # the outlet from the .txt file's header
        if os.environ.get("RAG_TEST_SCREENSHOTS"):  # the README's picture: docs/images/chat.png
            page.screenshot(path=str(Path(os.environ["RAG_TEST_SCREENSHOTS"]) / "chat.png"), full_page=True)
        # One card per article: each sentence the answer cites is highlighted, each once.
        highlighted = entry.locator(".stMarkdownColoredBackground").all_inner_texts()
        assert highlighted and len(highlighted) == len(set(highlighted))
        marker.click()
        assert page.evaluate("location.hash") == f"#{target}"


def test_article_markup_is_shown_as_text_and_never_runs(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        ask(page, "What did the resident submit about the harbour bridge at the council?")
        page.locator('[class*="st-key-card-"]').first.wait_for()
        wait_idle(page)
        body = page.locator('[data-testid="stMainBlockContainer"]').inner_text()
        assert SCRIPT in body  # the title, literally
        assert IMG in body  # the cited passage, literally
        assert page.locator('[data-testid="stMainBlockContainer"] script').count() == 0
        assert page.locator('[data-testid="stMainBlockContainer"] img[src="x"]').count() == 0
        # Handshake instead of a fixed wait: an image added now that fails the same
        # way has fired its onerror, so one the answer had added would have too.
        page.evaluate("""() => { const img = document.createElement("img");
            img.onerror = () => { window.__canary = 1; }; img.src = "x"; document.body.appendChild(img); }""")
        page.wait_for_function("window.__canary === 1")
        assert page.evaluate("typeof window.__xss") == "undefined"


def test_only_http_links_from_article_text_are_links(server):
    with chromium_page() as page:
        page.goto(server)
        page.get_by_text("Try one of these").wait_for()
        ask(page, "What did the city publish about the full budget for next year?")
        page.locator('[class*="st-key-card-"]').first.wait_for()
        wait_idle(page)
        answer = page.get_by_test_id("stChatMessage").nth(1)
        text = answer.inner_text()
        assert JS_LINK in text and "[summary](data:text/html," in text  # quoted, shown as text
        assert answer.locator("a", has_text="full budget").count() == 0
        assert answer.locator("a", has_text="summary").count() == 0
        assert answer.locator('a[href="https://example.org/council-report"]', has_text="council report").count() == 1
        assert page.locator('a[href^="javascript" i], a[href^="data" i]').count() == 0
        assert page.evaluate("typeof window.__xss") == "undefined"


LIGHTHOUSE = """Lighthouse keeper retires after forty years

Margaret Olsen, the keeper of the Skerry Point lighthouse, retired on Friday after forty years of service.
She said the hardest winter was 1987, when storms cut the island off for six weeks.
The lighthouse will be run automatically from next month, the coast authority said.
"""
OWN_TOML = """index_dir = "my-index"
articles_dir = "news"

[embedding]
backend = "hashing"

[llm]
backend = "extractive"
"""


@pytest.fixture
def own_folder(tmp_path):
    """A user's folder: articles, a rag.toml and an index built there with `rag index build`."""
    folder = tmp_path / "my project"
    (folder / "news").mkdir(parents=True)
    (folder / "news" / "lighthouse.txt").write_text(LIGHTHOUSE, encoding="utf-8")
    (folder / "rag.toml").write_text(OWN_TOML)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}  # rag.toml alone decides
    built = subprocess.run([*rag_command(), "index", "build", "--json"], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["articles"] == 1 and (folder / "my-index" / "CURRENT").is_file()
    return folder, env


def answer_text(page, question: str) -> str:
    page.get_by_text("Try one of these").wait_for()
    ask(page, question)
    page.locator('[class*="st-key-card-"]').first.wait_for()
    wait_idle(page)
    return page.get_by_test_id("stChatMessage").nth(1).inner_text()


def test_rag_ui_answers_from_the_callers_folder_with_the_apps_streamlit_options(own_folder):
    from streamlit.proto.NewSession_pb2 import Config, CustomThemeConfig

    folder, env = own_folder
    with streamlit_server(env, cwd=folder) as url, chromium_page() as page:
        messages = forward_messages(page)
        page.goto(url)
        answer = answer_text(page, "When did storms cut the island off?")
        assert "storms cut the island off for six weeks" in answer and "Answered by extractive" in answer
        assert "Lighthouse keeper retires" in page.locator('[class*="st-key-card-"]').first.inner_text()
    sessions = [m.new_session for m in messages if m.WhichOneof("type") == "new_session"]
    assert sessions
    for session in sessions:  # ui/.streamlit/config.toml, shipped beside the app, applies here too
        assert session.config.gather_usage_stats is False
        assert session.config.toolbar_mode == Config.ToolbarMode.MINIMAL
        assert session.custom_theme.primary_color == "#4f46e5"
        assert session.custom_theme.base == CustomThemeConfig.BaseTheme.LIGHT


def test_rag_ui_index_flag_wins_over_the_folders_rag_toml(own_folder, tmp_path):
    from rag.config import load_settings
    from rag.index.building import build_index

    folder, env = own_folder
    other = tmp_path / "other"
    (other / "articles").mkdir(parents=True)
    shutil.copy(SEED, other / "articles" / SEED.name)
    build_index(load_settings(index_dir=other / "index", embedding={"backend": "hashing"}), [other / "articles"])
    with streamlit_server(env, cwd=folder, args=("--index", "../other/index")) as url, chromium_page() as page:
        page.goto(url)
        answer = answer_text(page, "What does Ukraine's victory plan ask the West for?")
        assert "victory plan" in answer and "Answered by extractive" in answer  # rag.toml's backend still
        assert SEED_TITLE in page.locator('[class*="st-key-card-"]').first.inner_text()


def test_streamlit_run_ui_app_from_the_checkout(own_folder):
    """The design card's layout: ``streamlit run ui/app.py`` in a checkout (project installed) serves the chat."""
    folder, env = own_folder
    env = {**env, "RAG_CONFIG": str(folder / "rag.toml"), "RAG_INDEX_DIR": str(folder / "my-index")}
    command = [sys.executable, "-m", "streamlit", "run", "ui/app.py"]
    with streamlit_server(env, cwd=ROOT, command=command) as url, chromium_page() as page:
        page.goto(url)
        answer = answer_text(page, "When did storms cut the island off?")
        assert "storms cut the island off for six weeks" in answer and "Answered by extractive" in answer


def test_rag_ui_from_a_wheel_installed_outside_the_checkout(own_folder, tmp_path):
    """`rag ui` from the built wheel, installed in a folder of its own and run from the user's folder:
    the app, its parts and its Streamlit options all come from the wheel, not the checkout."""
    folder, env = own_folder
    wheel = build_wheel(tmp_path / "wheel")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                    str(site), str(wheel)], check=True, timeout=300)
    assert (site / "rag" / "ui" / "app.py").is_file() and not (site / "ui").exists()
    env = {**env, "PYTHONPATH": str(site)}
    where = subprocess.run([sys.executable, "-c", "import rag.ui.launch as m; print(m.APP)"], cwd=folder,
                           env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert where == str(site / "rag" / "ui" / "app.py")
    command = [sys.executable, "-c", "from rag.cli import app; app()", "ui"]
    with streamlit_server(env, cwd=folder, command=command) as url, chromium_page() as page:
        messages = forward_messages(page)
        page.goto(url)
        answer = answer_text(page, "When did storms cut the island off?")
        assert "storms cut the island off for six weeks" in answer and "Answered by extractive" in answer
    sessions = [m.new_session for m in messages if m.WhichOneof("type") == "new_session"]
    assert sessions and all(s.custom_theme.primary_color == "#4f46e5" for s in sessions)


HARBOUR = """---
title: Harbour bridge repairs approved by the city council
source: {source}
published_at: '{when}'
url: https://example.org/{slug}
---

The city council approved repairs to the harbour bridge on Monday. The repairs will cost two million dollars and take three months, the council said.
"""


def test_timeline_view_shows_events_chart_and_an_events_sources(tmp_path):
    from rag.config import load_settings
    from rag.index.building import build_index

    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "gazette.md").write_text(HARBOUR.format(source="Harbour Gazette", when="2024-03-05T09:00:00+00:00",
                                                        slug="gazette"), encoding="utf-8")
    (articles / "wire.md").write_text(HARBOUR.format(source="Bay Wire", when="2024-03-08T09:00:00+00:00",
                                                     slug="wire"), encoding="utf-8")
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=articles,
                             embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    build_index(settings)
    with streamlit_server(app_env(tmp_path / "index", articles), cwd=tmp_path) as url, chromium_page() as page:
        page.goto(url)
        page.get_by_text("Try one of these").wait_for()
        page.get_by_test_id("stButtonGroup").get_by_text("Timeline", exact=True).click()
        page.get_by_role("textbox", name="Story").fill("harbour bridge repairs council")
        page.get_by_role("button", name="Show timeline").click()
        event = page.get_by_text("Harbour Gazette first; then Bay Wire +3 days")
        event.wait_for()
        wait_idle(page)
        page.locator('[data-testid="stVegaLiteChart"], .vega-embed').first.wait_for()  # the coverage chart (drawn late)
        event.click()
        cards = page.locator('[class*="st-key-card-tl0-"]')
        cards.first.wait_for()
        text = " ".join(cards.all_inner_texts())
        assert "Harbour Gazette" in text and "Bay Wire" in text
        assert cards.first.locator(".stMarkdownColoredBackground").count() >= 1  # the cited sentence


def test_the_chat_says_what_it_is_doing_before_the_first_word(server_with_slow_model):
    """While the model reads the sources (here: a server that waits 6 s before its
    first word), the page says so, and the welcome is already gone."""
    url, fake = server_with_slow_model
    with chromium_page() as page:
        page.goto(url)
        page.get_by_text("Try one of these").wait_for()
        wait_idle(page)
        ask(page, "What does Ukraine's victory plan ask the West for?")
        stage = page.get_by_text(re.compile(r"Reading \d+ sources?…"))
        stage.wait_for(timeout=5_000)
        assert page.get_by_text("The victory plan asks").count() == 0  # the stage came before any word
        assert page.get_by_text("Try one of these").count() == 0  # no faded welcome under the answer
        page.get_by_text("The victory plan asks for long-range weapons").first.wait_for(timeout=30_000)
        page.locator('[class*="st-key-card-"]').first.wait_for()
        wait_idle(page)
        assert page.get_by_text(re.compile(r"Reading \d+ sources?…")).count() == 0  # replaced by the answer


@pytest.fixture
def server_with_slow_model(tmp_path):
    from rag.config import load_settings
    from rag.index.building import build_index
    from tests.openai_server import FakeOpenAIServer

    articles = tmp_path / "articles"
    articles.mkdir()
    shutil.copy(SEED, articles / SEED.name)
    build_index(load_settings(index_dir=tmp_path / "index", articles_dir=articles, embedding={"backend": "hashing"}))
    with FakeOpenAIServer() as fake:
        fake.script_delay(6.0, text="The victory plan asks for long-range weapons and NATO membership [1].")
        env = app_env(tmp_path / "index", articles, RAG_LLM__BACKEND="openai", RAG_LLM__BASE_URL=fake.base_url,
                      RAG_LLM__MODEL="fake-chat")
        with streamlit_server(env, cwd=tmp_path) as url:
            yield url, fake
