"""Metric code checked against the MultiHop-RAG authors' sample retrieval output."""

from __future__ import annotations

import json

import pytest

from rag.eval.retrieval import aggregate, gold_facts, score_query
from tests.conftest import SHARED

SAMPLE = SHARED / "eval" / "multihop-rag" / "sample_retrieval_output_llm-embedder.json"


def test_score_query_by_hand():
    chunks = ["noise", "the  first\nfact. here", "noise", "second fact and the first fact."]
    scores = score_query(chunks, ["the first fact.", "second fact"])
    assert scores.hits4 == scores.hits10 == 1.0
    assert scores.rr10 == 0.5
    # rank 2 finds fact 0, rank 4 finds fact 1 for the first time: (1/2 + 1/4) / 2
    assert scores.ap10 == pytest.approx(0.375)
    late = score_query(["x"] * 9 + ["the first fact."], ["the first fact."])
    assert (late.hits4, late.hits10, late.rr10) == (0.0, 1.0, 0.1)


@pytest.mark.skipif(not SAMPLE.exists(), reason="the shared MultiHop-RAG sample is not beside the repository")
def test_authors_sample_output():
    data = json.loads(SAMPLE.read_text())
    per_query = [score_query([c["text"] for c in q["retrieval_list"]], gold_facts(q)) for q in data]
    # Which gold facts (by index) each of the 10 chunks contains, read off the
    # sample: q2 finds fact 1 at ranks 4, 8, 10; q5 finds fact 0 at rank 1 and
    # fact 2 at rank 2; q1 and q6 find nothing.
    assert [s.rr10 for s in per_query] == pytest.approx([0, 1 / 4, 1, 1 / 7, 1, 0, 1, 1])
    overall = aggregate(per_query)
    assert overall["n"] == 8
    assert overall["hits@4"] == pytest.approx(5 / 8)
    assert overall["hits@10"] == pytest.approx(6 / 8)
    assert overall["mrr@10"] == pytest.approx((1 / 4 + 1 + 1 / 7 + 1 + 1 + 1) / 8)
    # MAP@10: new facts at rank r add 1/r, divided by the number of facts.
    assert [s.ap10 for s in per_query] == pytest.approx([0, 1 / 8, 1 / 2, 1 / 14, (1 + 1 / 2) / 3, 0, 1 / 2, 1 / 2])
