"""What a new user meets first: stages while an answer is made, the CLI's help, version and
info, large files, .txt headers, the UI's choices and text, and where models are cached."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.answer.pipeline import Answerer
from rag.cli import app
from rag.config import EmbeddingSettings, Settings, cache_dir, load_settings
from rag.index.building import build_index
from rag.index.large_files import LARGE_FILE_BYTES
from rag.ingest.articles import load_path
from rag.ingest.text_header import split_header
from rag.llm.packaged_gguf import DEFAULT_GGUF_NAME, default_model_path
from rag.stages import describe

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "data" / "articles" / "000_ed08602e7532188b.txt"


def run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(settings, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    return settings


# -- 1. stages ---------------------------------------------------------------------------


def test_the_answer_says_what_it_is_doing_before_its_first_words(settings):
    build_index(settings)
    heard: list[tuple] = []
    extractive = settings.model_copy(update={"llm": settings.llm.model_copy(update={"backend": "extractive"})})
    with Answerer(extractive) as answerer:
        items = answerer.stream("When did the harbour bridge reopen?",
                                on_stage=lambda stage, **info: heard.append((stage, info, len(items_seen))))
        items_seen: list = []
        for item in items:
            items_seen.append(item)
        first = [(stage, info) for stage, info, _ in heard]
        assert [s for s, _ in first] == ["loading", "searching", "reading", "writing"]
        assert first[2][1]["sources"] == len(items_seen[-1].passages) >= 1
        assert [seen for stage, _, seen in heard if stage != "writing"] == [0, 0, 0]  # all before any text
        heard.clear()
        answerer.answer("Who signed a new contract?")  # no callback: nothing heard, nothing breaks
        list(answerer.stream("Who signed a new contract?", on_stage=lambda s, **i: heard.append((s, i, 0))))
    assert [s for s, _, _ in heard] == ["searching", "reading", "writing"]  # loaded once only
    assert describe("reading", sources=1) == "Reading 1 source…"
    assert describe("reading", sources=4) == "Reading 4 sources…"
    assert describe("loading") == "Loading the models (first time only)…"
    assert describe("loading", model="chat") == "Loading the chat model (first time only)…"


# -- 7. the CLI --------------------------------------------------------------------------


def test_help_screens_show_no_bool_placeholder_and_version_prints():
    for args in ([], ["index"], ["index", "build"], ["index", "info"], ["ask"], ["chat"], ["search"], ["ui"]):
        code, out, _ = run(*args, "--help")
        assert code == 0 and "Usage:" in out, args
        assert "<bool>" not in out and "--help" in out, (args, out)
    code, out, _ = run("--version")
    assert code == 0 and re.fullmatch(r"article-rag \d+\.\d+\.\d+\S*( \(not installed\))?\n", out), out


def test_index_info_names_the_index_folder_by_its_full_path(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAG_INDEX_DIR", "index")  # relative, as the default is
    assert run("index", "build", "--json")[0] == 0
    code, out, _ = run("index", "info")
    assert code == 0
    assert f"faiss, in the index folder {tmp_path / 'index'}" in out
    assert "in the index folder index" not in out


# -- 5. large files ----------------------------------------------------------------------


def test_a_large_file_is_warned_about_and_its_passages_counted(env, articles_dir):
    paragraph = ("The harbour authority published its annual report on shipping, dredging, tariffs "
                 "and the state of the quays, with tables for every month of the year. ") * 6
    body = "\n\n".join(f"Section {i}. {paragraph}" for i in range(1, 1200))
    big = articles_dir / "annual-report.txt"
    big.write_text("Harbour annual report\n\n" + body)
    assert big.stat().st_size > LARGE_FILE_BYTES
    code, out, err = run("index", "build")
    assert code == 0, err
    assert "warning: annual-report.txt is 1." in err and "MB: expect about" in err
    line = next(x for x in out.splitlines() if "large file" in x)
    passages = int(re.search(r"([\d,]+) passages", line).group(1).replace(",", ""))
    assert str(big) in line and passages > 500
    code, out, _ = run("index", "build", "--json")
    report = json.loads(out)
    assert report["large_files"] == [{"path": str(big), "bytes": big.stat().st_size, "passages": passages}]
    assert report["passages"] > passages  # the three small articles too


def test_a_small_build_says_nothing_about_large_files(env):
    code, out, err = run("index", "build", "--json")
    assert code == 0 and "warning" not in err and json.loads(out)["large_files"] == []


# -- 6. a .txt article's header ----------------------------------------------------------


def test_txt_header_carries_outlet_date_and_url(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Source: Coast Herald\nDate: 2024-03-05\nURL: https://example.org/a\nAuthor: A. Writer\n\n"
                    "Harbour bridge reopens\n\nThe bridge reopened on Monday.\n")
    article = load_path(path).articles[0]
    assert (article.title, article.source, article.url, article.author) == (
        "Harbour bridge reopens", "Coast Herald", "https://example.org/a", "A. Writer")
    assert article.published_at.startswith("2024-03-05")
    assert article.body.strip() == "The bridge reopened on Monday."


@pytest.mark.parametrize("text", [
    "Update: markets fall\n\nStocks fell on Monday.",  # an ordinary title with a colon
    "Source: Herald\nHarbour bridge reopens\n\nBody.",  # no blank line after the block: not a header
    "Source: Herald\nWeather: sunny\n\nTitle\n\nBody.",  # a key that is not a header key
])
def test_txt_without_a_header_block_keeps_its_first_line_as_title(text):
    fields, rest = split_header(text)
    assert fields == {} and rest == text


def test_a_header_with_nothing_after_it_is_a_clear_skip(tmp_path):
    path = tmp_path / "only-header.txt"
    path.write_text("Source: Herald\n\n")
    result = load_path(path)
    assert not result.articles and "after the header" in result.skipped[0].reason


def test_the_sample_seed_article_names_its_outlet():
    article = load_path(SEED).articles[0]
    assert article.title == "Ukraine’s backers want talks with Putin – Bloomberg"
    assert article.source == "RT"
    assert article.published_at is None  # the text gives no publication day: none is made up
    assert article.body.startswith("Vladimir Zelensky’s ‘victory plan’")


# -- 6. the UI's choices and texts -------------------------------------------------------


def test_the_embedder_choice_offers_no_test_only_embedder():
    from rag.embed.registry import EMBEDDERS
    from rag.ui.backends import embedder_choices

    assert embedder_choices(list(EMBEDDERS), "sentence-transformers") == ["sentence-transformers", "openai"]
    assert "hashing" in embedder_choices(list(EMBEDDERS), "hashing")  # only to show what is configured


def test_the_sidebar_embedder_selectbox_has_no_hashing(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from tests.ui_apptest_helpers import app, clear_streamlit_caches, no_exceptions, rag_env

    clear_streamlit_caches()
    rag_env(monkeypatch, tmp_path, INDEX_DIR=str(tmp_path / "index"), ARTICLES_DIR=str(tmp_path / "none"),
            LLM__BACKEND="extractive", UI__ADMIN="true", UI__PRELOAD="false")
    at = app()
    no_exceptions(at)
    assert at.selectbox(key="embedder_choice").options == ["sentence-transformers", "openai"]
    clear_streamlit_caches()


def test_example_questions_are_never_cut_inside_a_quotation():
    from rag.ui.messages import example_questions, shorten_title

    long_quote = "After losing her leg to the flu, Virginia woman urges people to get vaccinated: ‘Don’t waste time’"
    assert shorten_title(long_quote, 90) == (
        "After losing her leg to the flu, Virginia woman urges people to get vaccinated…")
    whole = "‘Latin artists have been paving the way for deals that offer more control, transparency, and more.’"
    assert shorten_title(whole, 90).endswith("transparency…’")
    straight = "Woman switched at birth spends holidays with birth mom after decades-long search: 'Feel at peace'"
    assert "'" not in shorten_title(straight, 90)
    for question in example_questions([long_quote, whole, straight], 3):
        inner = question[question.index("“") + 1:question.rindex("”")]
        for opening, closing in (("‘", "’"), ("“", "”")):
            assert inner.count(opening) <= inner.count(closing), question


# -- 7. the cache folder -----------------------------------------------------------------


def test_the_cache_is_one_folder_per_user_and_follows_the_callers_settings(tmp_path, monkeypatch):
    monkeypatch.delenv("RAG_CACHE_DIR", raising=False)
    default = Settings()
    assert default.cache_dir == Path.home() / ".cache" / "article-rag"  # not inside a virtualenv or checkout
    assert default.embedding.cache_dir == default.llm.cache_dir == default.cache_dir
    # Settings given in code reach the models; they do not read a fresh rag.toml of their own.
    (tmp_path / "rag.toml").write_text(f'cache_dir = "{tmp_path / "from-toml"}"\n')
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "rag.toml"))
    mine = load_settings(cache_dir=tmp_path / "mine")
    assert cache_dir(mine.embedding) == cache_dir(mine.llm) == tmp_path / "mine"
    assert default_model_path(cache_dir(mine.llm)) == tmp_path / "mine" / DEFAULT_GGUF_NAME
    assert cache_dir(EmbeddingSettings()) == tmp_path / "from-toml"  # a section made on its own
    assert Settings().embedding.cache_dir == tmp_path / "from-toml"


@pytest.mark.timeout(900)  # one ONNX export (about 20 s idle, minutes on 2 busy cores)
def test_two_environments_with_the_same_model_share_one_export(tmp_path, capfd):
    """Two copies of the packaged model at two paths (two virtualenvs) use one ONNX export."""
    from rag.embed.registry import make_embedder
    from rag.embed.sentence_transformer import default_model_path as packaged_model

    first, second = tmp_path / "venv-a" / "model", tmp_path / "venv-b" / "model"
    shutil.copytree(packaged_model(), first, copy_function=shutil.copy)  # new mtimes, as a new install has
    shutil.copytree(packaged_model(), second, copy_function=shutil.copy)
    cache = tmp_path / "cache"
    a = make_embedder(load_settings(cache_dir=cache, embedding={"model": str(first)}).embedding)
    assert "Exporting the embedding model" in capfd.readouterr().err
    exports = list((cache / "onnx").glob("*/onnx-int8.onnx"))
    assert len(exports) == 1
    made = exports[0].stat().st_mtime_ns
    b = make_embedder(load_settings(cache_dir=cache, embedding={"model": str(second)}).embedding)
    assert "Exporting" not in capfd.readouterr().err
    assert list((cache / "onnx").glob("*/onnx-int8.onnx")) == exports and exports[0].stat().st_mtime_ns == made
    assert json.loads(exports[0].with_suffix(".json").read_text())["model"] == str(second)
    assert (a.embed(["a harbour bridge"]) == b.embed(["a harbour bridge"])).all()


def test_the_question_uses_the_model_the_page_started_loading(settings):
    """The background load the welcome started is the one the first question waits for
    (not a second copy of the model loaded again)."""
    pytest.importorskip("streamlit")
    from rag.ui.resources import chat_model_load, preload_chat_model, session_chat_model
    from tests.ui_apptest_helpers import clear_streamlit_caches

    clear_streamlit_caches()
    chosen = load_settings(llm={"backend": "extractive"})
    started = preload_chat_model(chosen)
    assert started is not None
    waited: list[bool] = []
    model = session_chat_model(chosen, on_wait=lambda: waited.append(True))
    assert model is started.get() and started.ready
    assert chat_model_load(chosen.llm.model_dump_json(), True) is started
    off = load_settings(llm={"backend": "extractive"}, ui={"preload": False})
    assert preload_chat_model(off) is None
    waited.clear()  # the first question may have waited for the end of the background load
    later = session_chat_model(off, on_wait=lambda: waited.append(True))  # loaded at the question
    assert later is not model and waited == [True]
    clear_streamlit_caches()
