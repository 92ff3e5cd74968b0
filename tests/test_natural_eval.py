"""`rag eval answers --questions`: natural questions scored strictly, per category, through the
real pipeline (hashing embedder, extractive model) over a small corpus written here."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.config import Settings
from rag.eval.natural import evaluate_natural, load_natural, states

CORPUS = [
    {"title": "SoftBank takes majority of Cubic Telecom", "source": "Tech Wire", "url": "https://e.com/c",
     "published_at": "2023-12-05T10:00:00+00:00",
     "body": "SoftBank is taking a 51% stake in the Dublin-based startup Cubic Telecom, valuing it at just over "
             "$1 billion. Barry Napier will stay on as chief executive of Cubic Telecom."},
    {"title": "Port strike ends", "source": "Market Daily", "url": "https://e.com/p",
     "published_at": "2023-11-01T10:00:00+00:00",
     "body": "Dock workers in Rotterdam ended their strike after employers raised their pay offer by six per cent."},
]
QUESTIONS = {"questions": [
    {"id": "f1", "category": "fact", "question": "How big a stake did SoftBank take in Cubic Telecom?",
     "facts": [["51"]], "articles": ["SoftBank takes majority of Cubic Telecom"]},
    {"id": "f2", "category": "fact", "question": "How big a stake did SoftBank take in Cubic Telecom?",
     "facts": [["49"]], "articles": ["SoftBank takes majority of Cubic Telecom"]},  # a wrong key: fails
    {"id": "u1", "category": "unanswerable", "question": "Who won the 2030 Tour de France?", "facts": [],
     "articles": []},
    {"id": "d1", "category": "followup", "turns": ["How big a stake did SoftBank take in Cubic Telecom?",
                                                   "Who will stay on as chief executive of it?"],
     "facts": [["napier"]], "articles": ["SoftBank takes majority of Cubic Telecom"]},
]}


def test_fact_groups_match_after_normalising():
    assert states("The score was 32–12 [1].", [["32 12"], ["england", "new zealand"]]) == [True, False]
    assert states("U.S. Soccer hired her.", [["u s soccer"]]) == [True]


def test_natural_questions_scored_per_category(tmp_path):
    (tmp_path / "corpus.json").write_text(json.dumps(CORPUS))
    (tmp_path / "q.json").write_text(json.dumps(QUESTIONS))
    settings = Settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    result = evaluate_natural(settings, tmp_path / "corpus.json", tmp_path / "q.json",
                              records_path=tmp_path / "r.jsonl")
    by_id = {r["id"]: r for r in result["records"]}
    assert by_id["f1"]["passed"] and by_id["f1"]["supporting_citation"]
    assert not by_id["f2"]["passed"] and by_id["f2"]["facts_stated"] == [False]
    assert by_id["u1"]["passed"] and by_id["u1"]["refused"]
    assert by_id["d1"]["passed"], by_id["d1"]
    overall = result["overall"]
    assert (overall["passed"], overall["n"], overall["code_refusals"]) == (3, 4, 0)
    assert overall["by_category"]["fact"] == {"pass_rate": 0.5, "passed": 1, "n": 2}
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 4

    from rag.cli import app

    out = CliRunner().invoke(app, ["eval", "answers", "--corpus", str(tmp_path / "corpus.json"), "--questions",
                                   str(tmp_path / "q.json"), "--index", str(tmp_path / "index"),
                                   "--llm", "extractive", "--json"], env={"RAG_EMBEDDING__BACKEND": "hashing"})
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["by_category"]["unanswerable"]["passed"] == 1


def test_a_bad_question_file_names_the_file_and_the_field(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"questions": [{"category": "fact"}]}))
    with pytest.raises(ValueError, match=r"bad\.json: item 0 has no \"question\""):
        load_natural(bad)
