"""The `rag` command: --json shapes and error exits."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app


@pytest.fixture
def env(settings, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    return settings


def run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_index_build_json_shape(env, articles_dir):
    (articles_dir / "bad.json").write_text("[1, 2")
    code, out, _ = run("index", "build", "--json")
    assert code == 0
    report = json.loads(out)
    assert set(report) == {"articles", "passages", "added", "updated", "removed", "unchanged",
                           "embedded_passages", "skipped", "seconds", "kept", "roots", "revisions", "large_files"}
    assert (report["articles"], report["added"]) == (3, 3)
    assert [s["path"].endswith("bad.json") for s in report["skipped"]] == [True]
    assert "line 1" in report["skipped"][0]["error"]


def test_index_build_explicit_paths_and_info(env, articles_dir, tmp_path):
    code, out, _ = run("index", "build", str(articles_dir / "a.md"), "--index", str(tmp_path / "other"), "--json")
    assert code == 0 and json.loads(out)["articles"] == 1
    code, out, _ = run("index", "info", "--index", str(tmp_path / "other"), "--json")
    info = json.loads(out)
    assert code == 0
    assert (info["articles"], info["embedder"], info["dim"]) == (1, "hashing/words-256", 256)
    assert info["size_bytes"] > 0 and info["built_at"]


def test_search_json_shape_and_filters(env):
    assert run("index", "build", "--json")[0] == 0
    code, out, _ = run("search", "striker contract", "-k", "2", "--json")
    rows = json.loads(out)
    assert code == 0 and 1 <= len(rows) <= 2
    assert set(rows[0]) == {"rank", "score", "passage_id", "article_id", "title", "source",
                            "published_at", "url", "text"}
    assert rows[0]["rank"] == 1 and rows[0]["url"] == "https://example.org/b"
    code, out, _ = run("search", "striker contract", "--source", "Tech Wire", "--json")
    assert {r["source"] for r in json.loads(out)} == {"Tech Wire"}
    code, out, _ = run("search", "striker", "--since", "2023-12-01", "--json")
    assert {r["published_at"][:10] for r in json.loads(out)} == {"2023-12-01"}


def test_errors_exit_non_zero_with_advice(env, tmp_path):
    code, _, err = run("search", "anything", "--index", str(tmp_path / "nowhere"))
    assert code == 1 and "rag index build" in err
    code, _, err = run("search", "anything", "--since", "last week")
    assert code == 2 and "2023-10-31" in err
    code, _, err = run("index", "info", "--index", str(tmp_path / "nowhere"))
    assert code == 1 and "no index" in err


def test_embedder_mismatch_exits_with_rebuild_hint(env, monkeypatch):
    assert run("index", "build", "--json")[0] == 0
    monkeypatch.setenv("RAG_EMBEDDING__DIM", "64")
    code, _, err = run("search", "bridge")
    assert code == 1 and "--full" in err
    code, _, err = run("index", "build")
    assert code == 1 and "--full" in err
    code, out, _ = run("index", "build", "--full", "--json")
    assert code == 0 and json.loads(out)["embedded_passages"] > 0


def test_eval_retrieval_json_keys(env, tmp_path):
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps([
        {"title": "Bridge", "body": "The harbour bridge reopened on Monday after repairs.", "source": "Herald",
         "published_at": "2023-10-02T00:00:00+00:00", "url": "https://e.org/1", "author": None},
        {"title": "Chips", "body": "The chip maker reported record profit this quarter.", "source": "Wire",
         "published_at": "2023-10-03T00:00:00+00:00", "url": "https://e.org/2", "author": None},
    ]))
    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps([
        {"query": "When did the harbour bridge reopen?", "answer": "Monday", "question_type": "inference_query",
         "evidence_list": [{"url": "https://e.org/1", "fact": "The harbour bridge reopened on Monday after repairs."}]},
        {"query": "Anything?", "answer": "Insufficient information.", "question_type": "null_query", "evidence_list": []},
    ]))
    code, out, err = run("eval", "retrieval", "--corpus", str(corpus), "--queries", str(queries),
                         "--index", str(tmp_path / "eval-index"), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"hits@4", "hits@10", "mrr@10", "map@10", "evidence_recall@10", "n"}
    assert result["n"] == 1 and result["hits@4"] == 1.0 and result["mrr@10"] == 1.0


def test_ui_reads_settings_like_every_command_before_starting(env, tmp_path, monkeypatch):
    """A bad rag.toml in the caller's folder stops `rag ui` with the same message as
    any command, before Streamlit starts (it would never return here)."""
    monkeypatch.delenv("RAG_CONFIG", raising=False)  # the folder's rag.toml counts here
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rag.toml").write_text('[retrieval]\nk = "many"\n')
    code, _, err = run("ui", "--index", str(tmp_path / "idx"))
    assert code == 1 and "invalid settings" in err and "retrieval.k" in err
    code, _, err = run("index", "info")
    assert code == 1 and "invalid settings" in err and "retrieval.k" in err
    code, out, _ = run("ui", "--help")
    assert code == 0 and "--index" in out
