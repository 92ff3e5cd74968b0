"""A build syncs only the paths it is given, never empties an index by a wrong path,
and removal is an explicit command (docs/indexing.md, issue 28 items 6 and 7).

Real builds with the hashing embedder, through the library and through the
``rag`` command (typer's CliRunner).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.index.building import NoArticlesError, build_index
from rag.index.stores import make_store
from tests.conftest import write_article


def run(*args):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def env(settings, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("RAG_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    return settings


@pytest.fixture
def uploads(tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    write_article(folder, "ferry.md", "Ferry timetable changes", "The ferry leaves at nine from May onwards.",
                  source="Island News", published_at="2024-04-01")
    return folder


def stored_paths(settings) -> list[str]:
    snapshot = make_store(settings).open()
    try:
        return sorted(s.path for s in snapshot.stored_articles().values())
    finally:
        snapshot.close()


# -- item 6: an empty folder ------------------------------------------------------------


def test_an_empty_folder_says_so_and_leaves_the_index_unchanged(env, tmp_path):
    assert run("index", "build", "--json")[0] == 0
    version = make_store(env).published_version()
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in ([str(empty)], [str(empty), "--exact"], [str(tmp_path / "no-such-folder")]):
        code, out, err = run("index", "build", *args)
        assert code == 1, (args, out, err)
        assert "no article found under" in err and args[0] in err and "left unchanged" in err
        assert "Traceback" not in err and "scores" not in err
    assert make_store(env).published_version() == version
    assert make_store(env).info()["counts"]["articles"] == 3


def test_an_empty_folder_into_a_new_index_is_an_error_not_a_crash(env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoArticlesError, match="no article found under"):
        build_index(env.model_copy(update={"index_dir": tmp_path / "fresh"}), [empty])
    assert not make_store(env.model_copy(update={"index_dir": tmp_path / "fresh"})).exists()


# -- item 7: a build syncs only its paths ------------------------------------------------


def test_a_build_of_another_folder_keeps_the_articles_of_the_first(env, uploads, articles_dir):
    build_index(env)
    report = build_index(env, [uploads])
    assert (report.added, report.removed, report.kept, report.articles) == (1, 0, 3, 4)
    assert make_store(env).info()["counts"]["articles"] == 4
    assert set(report.roots) == {str(articles_dir.resolve()), str(uploads.resolve())}
    # A file deleted under a given path is removed; the other folder still stays.
    (articles_dir / "b.md").unlink()
    report = build_index(env, [articles_dir])
    assert (report.removed, report.kept, report.articles) == (1, 1, 3)
    # A full rebuild of one folder re-embeds, and still keeps, the other.
    report = build_index(env, [articles_dir], full=True)
    assert (report.kept, report.articles) == (1, 3)
    assert any(p.endswith("ferry.md") for p in stored_paths(env))


def test_exact_makes_the_index_hold_only_the_paths_given(env, uploads):
    build_index(env)
    build_index(env, [uploads])
    report = build_index(env, [uploads], exact=True)
    assert (report.removed, report.kept, report.articles) == (3, 0, 1)
    assert report.roots == [str(uploads.resolve())]


def test_cli_build_says_how_many_it_kept_and_info_lists_the_roots(env, uploads, articles_dir):
    assert run("index", "build")[0] == 0
    code, out, _ = run("index", "build", str(uploads))
    assert code == 0
    assert "3 articles from other folders kept; --exact to make the index hold only these paths" in out
    code, out, _ = run("index", "info", "--json")
    info = json.loads(out)
    assert info["roots"] == [str(uploads.resolve()), str(articles_dir.resolve())]
    assert info["articles"] == 4  # the existing keys are all still there
    code, out, _ = run("index", "info")
    assert str(uploads.resolve()) in out and str(articles_dir.resolve()) in out
    code, out, _ = run("index", "build", str(uploads), "--exact", "--json")
    report = json.loads(out)
    assert (report["removed"], report["kept"], report["articles"]) == (3, 0, 1)


def test_rag_index_remove_by_path_and_by_id(env, uploads, articles_dir):
    build_index(env)
    build_index(env, [uploads])
    code, out, err = run("index", "remove", str(uploads), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert (report["removed"], report["articles"]) == (1, 3)
    assert report["roots"] == [str(articles_dir.resolve())]
    snapshot = make_store(env).open()
    some_id = next(iter(snapshot.stored_articles()))
    snapshot.close()
    code, out, err = run("index", "remove", some_id)
    assert code == 0 and "removed 1 article(s); 2 articles" in out, err
    assert make_store(env).info()["counts"] == {"articles": 2, "passages": make_store(env).info()["counts"]["passages"]}
    code, _, err = run("index", "remove", "no-such-thing")
    assert code == 1 and "nothing was removed" in err
    code, _, err = run("index", "remove", str(articles_dir))
    assert code == 1 and "no article" in err  # never an empty index by accident
    assert make_store(env).info()["counts"]["articles"] == 2
