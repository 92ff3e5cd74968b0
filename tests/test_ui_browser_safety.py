"""Safe to share, second pass, in a real browser against a real ``rag ui`` (issue 28).

Debian's Chromium (Playwright's sync API) with ``--host-resolver-rules=MAP
evil.example 127.0.0.1``, so a page under a foreign name reaches the default
loopback server exactly as a DNS-rebinding page would:

- that page is a visitor: no operator control is drawn (item 1), and
  Streamlit's upload endpoint keeps none of its files (item 3), while the
  operator's own page may upload up to ``ui.max_session_upload_mb``;
- a ``clear_cache`` message sent over a real websocket by another client
  leaves the server's shared state (here: the last build's result) in place
  (item 2);
- e-mail addresses in an answer, the publisher line and the passage excerpt,
  also after reloading the conversation, are never ``mailto:`` links (item 4).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest

from tests.ui_browser_helpers import (
    CHROMIUM,
    app_env,
    ask,
    chromium_page,
    forward_messages,
    streamlit_server,
    wait_idle,
)

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).is_file(),
                       reason=f"{CHROMIUM} is missing: install Debian's chromium "
                              "(apt-get install -y chromium) to run the browser test"),
    pytest.mark.timeout(240),
    pytest.mark.slow,
]
pytest.importorskip("playwright.sync_api")

REBIND = ("--host-resolver-rules=MAP evil.example 127.0.0.1",)
MAIL_ARTICLE = {
    "title": "Harbour council opens a press office",
    "source": "Harbour Gazette news@gazette.example",
    "published_at": "2024-03-05",
    "body": ("The harbour council opened a press office on Monday. Questions about the bridge repairs "
             "go to press@council.example.org from now on, the council said.\n\n"
             "The office is open every weekday from nine to five."),
}
OPERATOR_ONLY = ('[class*="st-key-rebuild"]', '[class*="st-key-add_articles"]', '[class*="st-key-llm_choice"]')


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from rag.config import load_settings
    from rag.index.building import build_index

    tmp = tmp_path_factory.mktemp("ui-safety")
    articles = tmp / "articles"
    articles.mkdir()
    (articles / "press-office.json").write_text(json.dumps(MAIL_ARTICLE), encoding="utf-8")
    build_index(load_settings(index_dir=tmp / "index", articles_dir=articles,
                              embedding={"backend": "hashing"}, llm={"backend": "extractive"}))
    env = app_env(tmp / "index", articles, RAG_UI__MAX_SESSION_UPLOAD_MB="1",
                  XDG_DATA_HOME=str(tmp / "data"))
    with streamlit_server(env, cwd=tmp) as url:
        yield url


def opened(page, url: str):
    """The page at ``url`` once its first run has finished; Streamlit's messages to it."""
    messages = forward_messages(page)
    page.goto(url)
    page.get_by_text("Try one of these").wait_for()
    wait_idle(page)
    return messages


def session_id(messages) -> str:
    ids = [m.new_session.initialize.session_id for m in messages if m.WhichOneof("type") == "new_session"]
    assert ids and ids[-1]
    return ids[-1]


UPLOAD_JS = """async ([sid, size]) => {
  const cookie = document.cookie.split("; ").find(c => c.startsWith("_streamlit_xsrf="));
  const headers = cookie ? {"X-Xsrftoken": decodeURIComponent(cookie.split("=").slice(1).join("="))} : {};
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(size).fill(65)]), "flood.txt");
  const id = Math.random().toString(16).slice(2) + Math.random().toString(16).slice(2);
  const response = await fetch(`/_stcore/upload_file/${sid}/${id}`, {method: "PUT", body: form, headers});
  return response.status;
}"""


def held_upload_bytes(url: str) -> int:
    """What Streamlit holds in uploaded files, from its public metrics endpoint (which
    recomputes this figure at most every 5 s: wait that long first)."""
    time.sleep(5.5)
    with urllib.request.urlopen(url + "/_stcore/metrics", timeout=30) as resp:
        text = resp.read().decode()
    held = re.findall(r'cache_memory_bytes\{cache_type="UploadedFileManager"[^}]*\}\s+(\d+)', text)
    return sum(int(n) for n in held)


def test_a_rebinding_name_gets_the_visitor_page(server):
    port = server.rsplit(":", 1)[1]
    with chromium_page(args=REBIND) as page:
        opened(page, f"http://evil.example:{port}/")
        assert page.get_by_text("1 articles").count() >= 1  # the page itself works
        for selector in OPERATOR_ONLY:
            assert page.locator(selector).count() == 0, selector
    with chromium_page(args=REBIND) as page:
        opened(page, server)
        for selector in OPERATOR_ONLY:
            assert page.locator(selector).count() == 1, selector


def test_uploads_are_kept_for_the_operator_only_and_bounded_per_session(server):
    port = server.rsplit(":", 1)[1]
    with chromium_page(args=REBIND) as page:
        messages = opened(page, f"http://evil.example:{port}/")
        statuses = [page.evaluate(UPLOAD_JS, [session_id(messages), 300_000]) for _ in range(3)]
        assert statuses == [403, 403, 403]
        assert held_upload_bytes(server) == 0
    # The same server, opened as 127.0.0.1 from this machine, is the operator's.
    with chromium_page(args=REBIND) as page:
        messages = opened(page, server)
        sid = session_id(messages)
        assert page.evaluate(UPLOAD_JS, [sid, 600_000]) == 204
        assert page.evaluate(UPLOAD_JS, [sid, 600_000]) == 413  # past the 1 MB this session may hold
        assert 600_000 <= held_upload_bytes(server) < 1_000_000


def test_clear_cache_from_another_client_leaves_the_shared_state(server):
    from websockets.sync.client import connect
    from streamlit.proto.BackMsg_pb2 import BackMsg

    with chromium_page() as page:
        opened(page, server)
        page.locator('[class*="st-key-rebuild"] button').click()
        page.get_by_text("Index rebuilt").wait_for(timeout=60_000)
        # Another client (any page could send this) asks the server to clear its caches.
        message = BackMsg()
        message.clear_cache = True
        rerun = BackMsg()
        rerun.rerun_script.SetInParent()
        with connect(server.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
            ws.send(message.SerializeToString())
            ws.send(rerun.SerializeToString())  # answered in order: once it is, clear_cache was handled
            ws.recv(timeout=30)
        page.reload()
        page.get_by_text("Try one of these").wait_for()
        wait_idle(page)
        assert page.get_by_text("Index rebuilt").count() == 1  # the build's result, kept in the registry
        ask(page, "When is the harbour press office open?")
        page.locator('[class*="st-key-card-"]').first.wait_for()


def test_no_mailto_link_in_answers_sources_or_a_reloaded_conversation(server):
    with chromium_page() as page:
        opened(page, server)
        ask(page, "Where do questions about the bridge repairs go now?")
        card = page.locator('[class*="st-key-card-"]').first
        card.wait_for()
        wait_idle(page)
        main = page.locator('[data-testid="stMainBlockContainer"]')
        shown = main.inner_text().replace("\u2060", "")
        assert "press@council.example.org" in shown  # the address still reads as typed
        assert "news@gazette.example" in card.inner_text().replace("\u2060", "")  # the publisher line
        assert page.locator('a[href^="mailto:" i], a[href^="xmpp:" i]').count() == 0
        page.reload()  # the stored conversation, drawn again from its file
        page.locator('[class*="st-key-card-"]').first.wait_for()
        wait_idle(page)
        assert "press@council.example.org" in main.inner_text().replace("\u2060", "")
        assert page.locator('a[href^="mailto:" i], a[href^="xmpp:" i]').count() == 0
        assert main.locator("a[href]").evaluate_all(
            "links => links.every(a => /^(https?:|#src-)/.test(a.getAttribute('href')))") is True
