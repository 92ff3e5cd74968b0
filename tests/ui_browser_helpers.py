"""Starting the app with ``rag ui`` and a headless Chromium for browser tests and screenshots.

Used by ``tests/test_ui_browser.py`` and runnable by hand to take screenshots::

    python -m tests.ui_browser_helpers --articles data/articles --out /tmp/shots

Chromium is Debian's (``apt-get install -y chromium``), driven by Playwright's
sync API with ``executable_path``; Playwright's own browser download is never
used (no network here).
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# The server on a port the OS picks (no free-port-then-bind race); `rag ui`
# prints the URL it bound.
SERVER_FLAGS = ["--server.headless", "true", "--server.port", "0", "--server.address", "127.0.0.1",
                "--server.fileWatcherType", "none"]
_URL = re.compile(r"URL: (http://127\.0\.0\.1:\d+)")


def rag_command() -> list[str]:
    """The installed ``rag`` command of this interpreter's environment."""
    script = Path(sys.executable).with_name("rag")
    return [str(script)] if script.is_file() else [sys.executable, "-c", "from rag.cli import app; app()"]


def app_env(index_dir: Path, articles_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update({
        "RAG_INDEX_DIR": str(index_dir), "RAG_ARTICLES_DIR": str(articles_dir),
        "RAG_EMBEDDING__BACKEND": "hashing", "RAG_LLM__BACKEND": "extractive",
        "RAG_CONFIG": str(index_dir.parent / "no-rag.toml"),  # ignore a developer's rag.toml
    })
    env.update(extra)
    return env


@contextmanager
def streamlit_server(env: dict[str, str], cwd: Path = ROOT, args: tuple[str, ...] = (), timeout: float = 90.0,
                     command: list[str] | None = None):
    """``rag ui ARGS`` (or ``command ARGS``, e.g. ``streamlit run ui/app.py``) run in ``cwd`` on a
    port the OS picks; yields its URL once it answers."""
    command = command or [*rag_command(), "ui"]
    proc = subprocess.Popen([*command, *args, *SERVER_FLAGS], cwd=cwd,
                            env={**env, "PYTHONUNBUFFERED": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    log: list[str] = []
    urls: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # also keeps the pipe drained for the server's lifetime
        for line in proc.stdout:
            log.append(line)
            if match := _URL.search(line):
                urls.put(match.group(1))
        urls.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        try:
            url = urls.get(timeout=timeout)
        except queue.Empty:
            url = None
        if url is None:
            raise RuntimeError("rag ui did not start:\n" + "".join(log)[-3000:])
        with urllib.request.urlopen(url + "/_stcore/health", timeout=30) as resp:  # bound and serving
            assert resp.status == 200
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def chromium_page(width: int = 1280, height: int = 900, args: tuple[str, ...] = ()):
    """A Playwright page in Debian's headless Chromium with a fresh profile; ``args``: more
    Chromium flags (e.g. ``--host-resolver-rules=MAP evil.example 127.0.0.1``)."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="rag-ui-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *args],
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
    """Wait until Streamlit has finished running the script (its own e2e tests'
    signal: the app root's ``data-test-script-state``). Call it after waiting
    for something the run being waited for draws."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=timeout * 1000)


def forward_messages(page) -> list:
    """Streamlit's messages to ``page`` (decoded ``ForwardMsg`` protobufs), filled as they arrive."""
    from google.protobuf.message import DecodeError
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    received: list = []

    def on_frame(payload) -> None:
        if isinstance(payload, bytes):
            msg = ForwardMsg()
            try:
                msg.ParseFromString(payload)
            except DecodeError:
                return
            received.append(msg)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    return received


def ask(page, question: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")


def _screenshots(articles: Path, out: Path, questions: list[str], configured: bool = False) -> None:
    from rag.config import load_settings
    from rag.index.building import build_index

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rag-ui-shots-"))
    try:
        shutil.copytree(articles, work / "articles")
        test_models = {} if configured else {"embedding": {"backend": "hashing"}, "llm": {"backend": "extractive"}}
        settings = load_settings(index_dir=work / "index", articles_dir=work / "articles", **test_models)
        build_index(settings)
        env = app_env(work / "index", work / "articles")
        if configured:  # the folder's own settings: the offline default models unless rag.toml says otherwise
            env = {k: v for k, v in env.items() if k not in ("RAG_EMBEDDING__BACKEND", "RAG_LLM__BACKEND")}
        with streamlit_server(env) as url, chromium_page(1280, 1000) as page:
            page.set_default_timeout(600_000)
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
    parser.add_argument("--configured", action="store_true",
                        help="answer with the configured models (default: hashing embedder, extractive)")
    args = parser.parse_args()
    _screenshots(args.articles, args.out,
                 args.question or ["What does Ukraine's victory plan ask the West for?"], args.configured)
    print(f"screenshots in {args.out}")
