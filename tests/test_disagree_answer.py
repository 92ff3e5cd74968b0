"""Disagreements in answers and on the command line, over a real index built from
small dated articles (hashing embedder, extractive backend: no model)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.answer.pipeline import Answerer
from rag.cli import app
from rag.config import load_settings
from rag.index.building import build_index
from tests.conftest import write_fire_articles

QUESTION = "How many people did the harbour warehouse fire kill?"


@pytest.fixture
def fire_index(tmp_path, monkeypatch):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_fire_articles(folder, herald_tail="\x1b]0;pwned\x07")  # a terminal escape in article text
    index = tmp_path / "index"
    for key, value in {"INDEX_DIR": str(index), "ARTICLES_DIR": str(folder), "EMBEDDING__BACKEND": "hashing",
                       "LLM__BACKEND": "extractive"}.items():
        monkeypatch.setenv(f"RAG_{key}", value)
    settings = load_settings()
    build_index(settings)
    return settings


def test_the_answer_says_outlets_differ_and_the_json_carries_both_citations(fire_index):
    with Answerer(fire_index) as answerer:
        answer = answerer.answer(QUESTION)
    data = answer.to_dict()
    assert "Outlets differ on" in answer.text
    line = next(x for x in answer.text.splitlines() if x.startswith("Outlets differ"))
    (flag,) = data["disagreements"]
    assert (flag["kind"], flag["status"]) == ("number", "differ")
    by_value = {v["value"]: v for v in flag["values"]}
    assert set(by_value) == {"30", "35"}
    assert f"30 [{by_value['30']['n']}]" in line and f"35 [{by_value['35']['n']}]" in line
    cited = {c["n"]: c for c in data["citations"]}
    for v in flag["values"]:  # each value's [n] is a citation of that article, quoting the sentence
        assert cited[v["n"]]["source"] == v["source"]
        assert v["sentence"] in cited[v["n"]]["quotes"]
    assert by_value["30"]["source"] == "Harbour Gazette" and by_value["35"]["source"] == "City Herald"
    assert "32" not in answer.text and "32.5" not in answer.text  # never an average
    assert data["unsupported_citations"] == 0  # the line's own words are not checked as a claim


def test_an_answer_without_differences_has_an_empty_list(fire_index):
    with Answerer(fire_index) as answerer:
        data = answerer.answer("When did the harbour bridge reopen?").to_dict()
    assert data["disagreements"] == [] and "Outlets differ" not in data["answer"]


def test_cli_disagreements_json_and_text(fire_index):
    runner = CliRunner()
    result = runner.invoke(app, ["disagreements", "harbour warehouse fire", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"query", "disagreements"} <= set(data) and data["query"] == "harbour warehouse fire"
    (flag,) = data["disagreements"]
    assert set(flag) >= {"slot", "kind", "status", "values"}
    assert set(flag["values"][0]) >= {"value", "n", "source", "published_at", "sentence"}
    titles = {s["n"]: s["source"] for s in data["sources"]}
    assert {titles[v["n"]] for v in flag["values"]} == {"Harbour Gazette", "City Herald"}

    result = runner.invoke(app, ["disagreements", "harbour warehouse fire", "--source", "City Herald", "--json"])
    assert json.loads(result.stdout)["disagreements"] == []  # one outlet left: nothing to compare

    result = runner.invoke(app, ["disagreements", "harbour warehouse fire"])
    assert result.exit_code == 0 and "differ" in result.stdout and "Harbour Gazette" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout

    result = runner.invoke(app, ["disagreements", "fire", "--since", "March 5"])
    assert result.exit_code == 2 and "--since" in result.output


def test_cli_ask_json_carries_disagreements(fire_index):
    result = CliRunner().invoke(app, ["ask", QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["disagreements"]) == 1 and "Outlets differ" in data["answer"]
