"""Starting the Streamlit app and a headless Chromium for browser tests and screenshots.

Used by ``tests/test_ui_browser.py`` and runnable by hand to take screenshots::

    python -m tests.ui_browser_helpers --articles data/articles --out /tmp/shots

Chromium is Debian's (``apt-get install -y chromium``), driven by Playwright's
sync API with ``executable_path``; Playwright's own browser download is never
used (no network here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# The look docs/ui.md recommends (a repo-level .streamlit/config.toml would set it for everyone).
THEME_FLAGS = ["--theme.primaryColor", "#4f46e5", "--theme.base", "light"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(index_dir: Path, articles_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({
        "RAG_INDEX_DIR": str(index_dir), "RAG_ARTICLES_DIR": str(articles_dir),
        "RAG_EMBEDDING__BACKEND": "hashing", "RAG_LLM__BACKEND": "extractive",
        "RAG_CONFIG": str(index_dir.parent / "no-rag.toml"),  # ignore a developer's rag.toml
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    })
    env.update(extra)
    return env


@contextmanager
def streamlit_server(env: dict[str, str], timeout: float = 60.0):
    """``streamlit run rag/ui/app.py`` on a free loopback port; yields its URL."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "rag" / "ui" / "app.py"),
         "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *THEME_FLAGS],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start:\n{log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def chromium_page(width: int = 1280, height: int = 900):
    """A Playwright page in Debian's headless Chromium with a fresh profile."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="rag-ui-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height})
            try:
                page = context.pages[0] if context.pages else context.new_page()
                page.set_default_timeout(30_000)
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_idle(page, timeout: float = 30.0) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stApp"]')
    deadline = time.time() + timeout
    time.sleep(0.3)
    while time.time() < deadline:
        if page.locator('[data-testid="stStatusWidget"]').count() == 0:
            time.sleep(0.3)
            if page.locator('[data-testid="stStatusWidget"]').count() == 0:
                return
        time.sleep(0.1)


def ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def _screenshots(articles: Path, out: Path, questions: list[str]) -> None:
    from rag.config import load_settings
    from rag.index.building import build_index

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rag-ui-shots-"))
    try:
        shutil.copytree(articles, work / "articles")
        settings = load_settings(index_dir=work / "index", articles_dir=work / "articles",
                                 embedding={"backend": "hashing"}, llm={"backend": "extractive"})
        build_index(settings)
        with streamlit_server(app_env(work / "index", work / "articles")) as url, chromium_page() as page:
            page.goto(url)
            page.get_by_text("Try one of these").wait_for()
            wait_idle(page)
            page.screenshot(path=str(out / "0-welcome.png"), full_page=True)
            for i, question in enumerate(questions, start=1):
                ask(page, question)
                page.locator('[class*="st-key-card-"], [class*="st-key-refused-"]').nth(0).wait_for()
                wait_idle(page)
                page.screenshot(path=str(out / f"{i}-answer.png"), full_page=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=ROOT / "data" / "articles")
    parser.add_argument("--out", type=Path, default=Path("/tmp/rag-ui-shots"))
    parser.add_argument("--question", action="append", default=None)
    args = parser.parse_args()
    _screenshots(args.articles, args.out,
                 args.question or ["What does Ukraine's victory plan ask the West for?"])
    print(f"screenshots in {args.out}")
