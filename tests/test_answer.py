"""The answer pipeline over a small hashing-embedder index, with the loopback
OpenAI server, the extractive model and SmolLM2 as chat models."""

from __future__ import annotations

import importlib.util
import json

import pytest
from typer.testing import CliRunner

from rag.answer.citations import parse_markers
from rag.answer.pipeline import (
    FALLBACK_INTRO,
    NOT_COVERED,
    Answer,
    Answerer,
    is_refusal,
    keyword_rewrite,
    looks_like_followup,
)
from rag.answer.prompts import SYSTEM_PROMPT, estimate_tokens
from rag.config import Settings
from rag.eval.answers import (
    evaluate_answers,
    score_answers,
    strict_correct,
    word_overlap_correct,
)
from rag.index.building import build_index
from rag.llm.registry import make_chat_model
from rag.search.open_index import open_index
from tests.conftest import SMOLLM2_FILE, smollm2_path  # noqa: F401
from tests.openai_server import FakeOpenAIServer

ARTICLES = {
    "kyiv.md": """---
title: Ukraine presents its victory plan
source: Wire Service
published_at: '2024-10-16T10:00:00+00:00'
url: https://example.com/kyiv
---

Ukraine's victory plan asks the West for permission to strike targets deep inside Russia with long-range weapons.
The plan also asks for an invitation to join NATO and for long-term financial support from Western allies.
Moscow dismissed the victory plan as unrealistic and said it would only prolong the war.
""",
    "tokyo.md": """---
title: Tokyo stocks slide after central bank decision
source: Market Daily
published_at: '2023-09-26T08:00:00+00:00'
url: https://example.com/tokyo
---

Stock markets in Tokyo fell sharply on Monday after the Bank of Japan raised interest rates.
The Nikkei index lost 3 per cent, its worst day since March, as exporters led the decline.
""",
    "paris.md": """---
title: A weekend guide to Paris
source: Travel Weekly
published_at: '2023-05-02T09:00:00+00:00'
url: https://example.com/paris
---

Paris is the capital of France and its largest city, with more than two million residents.
The Eiffel Tower was finished in 1889 for the World's Fair and remains the city's best known landmark.
""",
}

VICTORY_Q = "What does Ukraine's victory plan ask the West for?"
TWO_Q = "What does Ukraine's victory plan ask for, and why did stock markets in Tokyo fall?"
OFF_TOPIC_Q = "Xylophone quokka marmalade zeppelin?"


@pytest.fixture(scope="module")
def index_settings(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("answer")
    folder = root / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text)
    settings = Settings(index_dir=root / "index", embedding={"backend": "hashing"})
    build_index(settings, [folder])
    return settings


@pytest.fixture(scope="module")
def opened(index_settings):
    handle = open_index(index_settings)
    yield handle
    handle.close()


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def answerer(index_settings, opened, server):
    server.clear()
    settings = index_settings.model_copy(deep=True)
    settings.llm = settings.llm.model_copy(update={"backend": "openai", "base_url": server.base_url,
                                                   "model": "fake-chat", "max_retries": 0, "timeout": 5.0})
    settings.answer.check_evidence = False  # tested on its own below
    return Answerer(settings, opened_index=opened, chat_model=make_chat_model(settings.llm))


def answer_of(items) -> Answer:
    assert isinstance(items[-1], Answer)
    assert all(isinstance(x, str) for x in items[:-1])
    return items[-1]


# -- the pipeline with the OpenAI backend --------------------------------------------------


def test_markers_dropped_renumbered_and_mapped(answerer, server):
    plan = answerer.plan(TWO_Q)
    assert [s.title for s in plan.sources] == ["Ukraine presents its victory plan",
                                               "Tokyo stocks slide after central bank decision"]
    server.script_reply("Stock markets in Tokyo fell sharply after the Bank of Japan raised interest rates [2]. "
                        "The plan asks for an invitation to join NATO [1][9].")
    items = list(answerer.stream(TWO_Q))
    answer = answer_of(items)
    assert "".join(items[:-1]) == answer.raw_text  # the raw text is what streamed
    assert answer.dropped_citations == 1 and not answer.refused
    assert answer.text == ("Stock markets in Tokyo fell sharply after the Bank of Japan raised interest rates [1]. "
                           "The plan asks for an invitation to join NATO [2].")
    assert [c.passage_id for c in answer.citations] == [answer.passages[1].id, answer.passages[0].id]
    assert all(c.supported for c in answer.citations) and answer.repairs["fallback"] == 0
    assert {n for m in parse_markers(answer.text) for n in m.numbers} <= {c.n for c in answer.citations}
    timings = answer.timings
    assert 0 <= timings["retrieval_ms"] <= timings["first_token_ms"] <= timings["total_ms"]
    # The model saw one numbered source per article with title, source and date.
    (request,) = server.chat_requests()
    system, user = request.body["messages"]
    assert system["content"] == SYSTEM_PROMPT
    label = f"[1] {answer.passages[0].title} — {answer.passages[0].source}, October 16, 2024"
    assert label in user["content"] and f"Question: {TWO_Q}" in user["content"]
    assert answer.prompt_tokens == sum(estimate_tokens(m["content"]) for m in request.body["messages"])


def test_unsupported_citation_is_flagged(answerer, server):
    server.script_reply("The plan asks for permission to strike targets deep inside Russia [1]. "
                        "It was drafted by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer(VICTORY_Q)
    assert answer.unsupported_citations == 1 and answer.repairs["fallback"] == 0
    assert answer.citations[0].supported is False
    assert [c.supported for c in answer.citations[0].claims] == [True, False]


def test_answer_nothing_supports_is_replaced_by_quotes(answerer, server):
    server.script_reply("The plan was drafted by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer(VICTORY_Q)
    assert answer.repairs["fallback"] == 1 and not answer.refused
    assert answer.text.startswith(FALLBACK_INTRO) and "Moon" not in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)
    assert "Moon" in answer.raw_text  # what the model said is kept for inspection


def test_yes_no_verdict_is_kept_when_only_its_reasons_are_unsupported(answerer, server):
    server.script_reply("No, the plan was drafted by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer("Does Ukraine's victory plan ask the West for permission to strike Russia?")
    assert answer.repairs["fallback"] == 1 and not answer.refused
    assert answer.text.startswith("No, by the model's reading of the sources;") and "Moon" not in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)
    assert strict_correct(answer.text, "No") and not strict_correct(answer.text, "Yes")


def test_the_option_a_two_answer_question_asked_for_is_kept_like_a_verdict(answerer, server):
    server.script_reply("Inconsistent. The plan was drafted by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer("Were the reports on Ukraine's victory plan consistent or inconsistent?")
    assert answer.repairs["fallback"] == 1
    assert answer.text.startswith("Inconsistent, by the model's reading of the sources;") and "Moon" not in answer.text
    server.script_reply("Perhaps. The plan was drafted by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer("Were the reports on Ukraine's victory plan consistent or inconsistent?")
    assert answer.text.startswith(FALLBACK_INTRO)  # no option named: nothing to keep


def test_the_name_a_question_asked_for_is_kept_when_a_source_says_it(answerer, server):
    question = "Which city's stock markets fell after the central bank raised interest rates?"
    server.script_reply("Tokyo is the city whose markets were sold by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer(question)
    assert answer.repairs["fallback"] == 1
    assert answer.text.startswith("Tokyo, by the model's reading of the sources;") and "Moon" not in answer.text
    server.script_reply("Atlantis is the city whose markets were sold by astronauts on the Moon in 1850 [1].")
    answer = answerer.answer(question)
    assert answer.text.startswith(FALLBACK_INTRO)  # no source names Atlantis: nothing to keep


def test_leading_answer_is_a_short_phrase_a_source_text_says():
    from types import SimpleNamespace

    from rag.answer.pipeline import leading_answer
    from rag.answer.question import parse_question

    sources = [SimpleNamespace(title="Sam Altman backs a startup", text="Sam  Bankman-Fried faces seven counts.")]
    who = parse_question("Who is facing seven counts of fraud?")
    assert leading_answer("Sam Bankman-Fried is the individual facing [1].", who, sources) == "Sam Bankman-Fried"
    assert leading_answer("“Sam Bankman-Fried”, [1] faces them.", who, sources) == "Sam Bankman-Fried"
    assert leading_answer("Sam Altman [1]", who, sources) is None  # in a title only
    assert leading_answer("Bankman-Fried faces seven counts of fraud and conspiracy [1].", who, sources) is None
    assert leading_answer("Sam Bankman-Fried [1]", parse_question("Does Sam Bankman-Fried face trial?"), sources) is None


def test_uncited_sentence_is_cited_in_code(answerer, server):
    server.script_reply("Yes. Stock markets in Tokyo fell sharply after the Bank of Japan raised interest rates.")
    answer = answerer.answer(TWO_Q)
    assert answer.repairs["cited"] == 1 and answer.unsupported_citations == 0
    assert answer.text.endswith("raised interest rates [1].")
    assert answer.citations[0].title.startswith("Tokyo stocks")


def test_first_question_is_not_rewritten(answerer, server):
    server.script_reply("Answer [1].")
    answer = answerer.answer("And what did Moscow say about it?")
    assert answer.standalone_question == "And what did Moscow say about it?"
    assert len(server.chat_requests()) == 1


def test_followup_rewrite_is_used_for_retrieval(answerer, server):
    history = [{"role": "user", "content": VICTORY_Q},
               {"role": "assistant", "content": "It asks for long-range weapons [1]."}]
    rewrite = "How did Tokyo stock markets react to the Bank of Japan?"
    server.script_reply(f"Standalone question: {rewrite}", "They fell sharply [1].")
    answer = answerer.answer("And what about them?", history)
    assert answer.standalone_question == rewrite
    assert answer.passages[0].title.startswith("Tokyo stocks")  # retrieved with the rewrite
    rewrite_request, answer_request = server.chat_requests()
    transcript = rewrite_request.body["messages"][-1]["content"]
    assert VICTORY_Q in transcript and "And what about them?" in transcript
    assert "[1]" not in transcript  # markers of earlier answers are not shown
    assert f"Question: {rewrite}" in answer_request.body["messages"][-1]["content"]


def test_self_contained_question_with_history_is_not_rewritten(answerer, server):
    history = [{"role": "user", "content": VICTORY_Q}, {"role": "assistant", "content": "Weapons [1]."}]
    question = "Why did stock markets in Tokyo fall sharply on Monday?"
    server.script_reply("Because of interest rates [1].")
    answer = answerer.answer(question, history)
    assert answer.standalone_question == question and len(server.chat_requests()) == 1


def test_refusal_without_calling_the_model(answerer, server):
    items = list(answerer.stream(OFF_TOPIC_Q))
    answer = answer_of(items)
    assert answer.refused and answer.refusal_reason == "no_evidence"
    assert answer.citations == [] and answer.passages == []
    assert server.chat_requests() == [] and answer.prompt_tokens is None
    assert answer.relevance["coverage"] == 0.0
    assert items[0] == answer.text


def test_explicit_relevance_threshold(answerer, server):
    answerer.settings.answer.min_relevance = 0.999  # above any real cosine
    try:
        answer = answerer.answer(VICTORY_Q)
    finally:
        answerer.settings.answer.min_relevance = 0.0
    assert answer.refused and answer.refusal_reason == "no_evidence" and server.chat_requests() == []


def test_model_saying_it_cannot_answer_is_a_refusal(answerer, server):
    server.script_reply("Insufficient information. The articles discuss Ukraine's plan [1] but not its cost.")
    answer = answerer.answer(VICTORY_Q)
    assert answer.refused and answer.refusal_reason == "model"
    assert answer.citations  # what it did cite is still checked and shown


def test_reply_of_bare_markers_falls_back_to_quotes(answerer, server):
    server.script_reply("[1]")
    answer = answerer.answer(VICTORY_Q)  # no error shown: the sources can answer
    assert answer.repairs["fallback"] == 1 and not answer.refused
    assert answer.text.startswith(FALLBACK_INTRO)
    assert "Ukraine's victory plan asks the West for permission to strike targets" in answer.text
    assert answer.citations and all(c.supported for c in answer.citations)


def test_evidence_check_no_refuses_before_answering(answerer, server):
    answerer.settings.answer.check_evidence = True
    server.script_reply("No.")
    answer = answerer.answer(VICTORY_Q)
    assert answer.refused and answer.refusal_reason == "check" and answer.text == NOT_COVERED
    (check,) = server.chat_requests()  # the answer itself was never asked for
    assert check.body["max_tokens"] == 3
    server.clear()
    server.script_reply("Yes", "It asks for permission to strike targets deep inside Russia [1].")
    answer = answerer.answer(VICTORY_Q)
    assert not answer.refused and answer.citations[0].supported
    check, reply = server.chat_requests()
    # The same prompt up to the question: a model that caches its prompt reads the sources once.
    ask, asked = check.body["messages"][-1]["content"], reply.body["messages"][-1]["content"]
    shared = ask[: ask.index(VICTORY_Q) + len(VICTORY_Q)]
    assert asked.startswith(shared) and ask != asked
    assert check.body["messages"][0] == reply.body["messages"][0]


def test_question_about_an_unindexed_publisher_is_refused_without_the_model(answerer, server):
    answer = answerer.answer("What did Bloomberg report about Ukraine's victory plan?")
    assert answer.refused and answer.refusal_reason == "unknown_outlet"
    assert "No indexed article is from Bloomberg" in answer.text and server.chat_requests() == []
    server.script_reply("It asks for an invitation to join NATO [1].")
    ok = answerer.answer("What did Wire Service report about Ukraine's victory plan?")
    assert not ok.refused and ok.passages[0].source == "Wire Service"


def test_question_about_an_unindexed_name_is_refused_without_the_model(answerer, server):
    answer = answerer.answer("What does the victory plan say about Surin Kimura?")
    assert answer.refused and answer.refusal_reason == "unknown_name"
    assert answer.text.endswith("No indexed article mentions Surin Kimura.") and server.chat_requests() == []


def test_backend_error_propagates(answerer, server):
    from rag.errors import BackendError

    server.script_error(500)
    with pytest.raises(BackendError):
        answerer.answer(VICTORY_Q)


# -- helpers ------------------------------------------------------------------------------


def test_followup_heuristics():
    assert looks_like_followup("And what did Moscow say?")
    assert looks_like_followup("What did they decide?")
    assert looks_like_followup("Why?")
    assert not looks_like_followup("Why did stock markets in Tokyo fall sharply on Monday?")


def test_keyword_rewrite_is_deterministic():
    history = [{"role": "user", "content": VICTORY_Q}, {"role": "assistant", "content": "x"}]
    out = keyword_rewrite("And what did Moscow say?", history)
    assert out == "And what did Moscow say? (Ukraine's victory plan ask West)"
    standalone = [{"role": "user", "content": "and?", "standalone": "Tokyo markets"}]
    assert keyword_rewrite("Why?", standalone) == "Why? (Tokyo markets)"


def test_is_refusal():
    assert is_refusal("Insufficient information.")
    assert is_refusal("The articles do not contain the answer [1].")
    assert not is_refusal("[1]")  # no words at all is not a refusal either
    assert not is_refusal("Yes. The plan asks for weapons [1]; it does not mention money.")


def test_context_budget_and_whole_passages(answerer):
    answerer.settings.answer.context_tokens = 40  # room for one sentence
    try:
        small = answerer.plan(VICTORY_Q).sources
    finally:
        answerer.settings.answer.context_tokens = 400
    assert len(small) == 1 and len(small[0].sentences) == 1
    assert sum(estimate_tokens(s) + 1 for s in small[0].sentences) <= 40
    answerer.settings.answer.context = "passages"
    try:
        whole = answerer.plan(VICTORY_Q).sources
    finally:
        answerer.settings.answer.context = "sentences"
    kyiv = next(s for s in whole if s.title.startswith("Ukraine"))
    assert kyiv.text == " ".join(kyiv.sentences) and "Moscow dismissed" in kyiv.text


# -- other backends -------------------------------------------------------------------------


def test_extractive_end_to_end(index_settings, opened):
    settings = index_settings.model_copy(deep=True)
    settings.llm = settings.llm.model_copy(update={"backend": "extractive"})
    answerer = Answerer(settings, opened_index=opened)
    answer = answerer.answer(VICTORY_Q)
    assert answer.backend == "extractive" and not answer.refused
    assert answer.text.startswith("No language model was used")
    assert answer.citations and all(c.supported for c in answer.citations)
    assert answer.citations[0].title == "Ukraine presents its victory plan"
    history = [{"role": "user", "content": VICTORY_Q}, {"role": "assistant", "content": answer.text}]
    follow = answerer.answer("And what did Moscow say?", history)
    assert follow.standalone_question == "And what did Moscow say? (Ukraine's victory plan ask West)"
    assert "Moscow dismissed the victory plan" in follow.text






@pytest.mark.slow  # the real SmolLM2 through llama.cpp
def test_llama_cpp_smollm2_structure(index_settings, opened):
    if importlib.util.find_spec("llama_cpp") is None or smollm2_path() is None:
        pytest.skip("llama-cpp-python or the SmolLM2 test model is not installed")
    settings = index_settings.model_copy(deep=True)
    settings.llm = settings.llm.model_copy(update={
        "backend": "llama-cpp", "model": str(smollm2_path()), "context_tokens": 1024,
        "max_answer_tokens": 48, "threads": 2, "temperature": 0.0})
    answerer = Answerer(settings, opened_index=opened)
    items = list(answerer.stream(VICTORY_Q))
    answer = answer_of(items)
    assert answer.backend == "llama-cpp" and answer.model.endswith(SMOLLM2_FILE)
    assert 1 <= len(answer.passages) and isinstance(answer.text, str) and answer.raw_text.strip()
    assert {n for m in parse_markers(answer.text) for n in m.numbers} <= {c.n for c in answer.citations}
    assert all(c.passage_id in {p.id for p in answer.passages} for c in answer.citations)
    assert answer.timings["first_token_ms"] is not None
    json.dumps(answer.to_dict())


# -- the command ---------------------------------------------------------------------------


def test_ask_json_shape(index_settings, server, monkeypatch):
    from rag.cli import app

    server.clear()
    server.script_reply("It asks for an invitation to join NATO [1]. Tokyo stocks fell after a rate rise [2][8].")
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    monkeypatch.setenv("RAG_LLM__BACKEND", "llama-cpp")  # the flags win over the environment
    monkeypatch.setenv("RAG_ANSWER__CHECK_EVIDENCE", "false")
    result = CliRunner().invoke(app, ["ask", TWO_Q, "--index", str(index_settings.index_dir), "--llm", "openai",
                                      "--base-url", server.base_url, "--model", "fake-chat", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("answer", "citations", "passages", "refused", "dropped_citations", "unsupported_citations",
                "backend", "model", "timings"):
        assert key in data
    assert data["backend"] == "openai" and data["model"] == "fake-chat" and data["dropped_citations"] == 1
    assert data["prompt_tokens"] > 0 and set(data["repairs"]) == {"cited", "recited", "uncited", "trimmed", "fallback"}
    assert set(data["timings"]) >= {"retrieval_ms", "first_token_ms", "total_ms"}
    for citation in data["citations"]:
        assert set(citation) >= {"n", "passage_id", "article_id", "title", "source", "published_at", "url",
                                 "quote", "quotes", "supported", "file", "text"}
        assert citation["file"].endswith(".md") and citation["quote"] in citation["text"]
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert data["passages"][0]["n"] == 1 and "text" in data["passages"][0]


def test_ask_plain_output(index_settings, monkeypatch):
    from rag.cli import app

    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    result = CliRunner().invoke(app, ["ask", VICTORY_Q, "--index", str(index_settings.index_dir), "--llm", "extractive"])
    assert result.exit_code == 0, result.output
    assert "No language model was used" in result.stdout and "Sources:" in result.stdout
    assert "[1] Ukraine presents its victory plan — Wire Service" in result.stdout


def test_ask_without_index_fails_cleanly(tmp_path, monkeypatch):
    from rag.cli import app

    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    result = CliRunner().invoke(app, ["ask", "x", "--index", str(tmp_path / "none"), "--llm", "extractive"])
    assert result.exit_code == 1 and "error:" in result.output


# -- answer metrics ---------------------------------------------------------------------------


def test_answer_metrics():
    assert word_overlap_correct("It was Sam Altman.", "Sam Altman")
    assert not word_overlap_correct("Nobody", "Sam Altman")
    assert strict_correct("Yes, both reported it [1].", "Yes") and not strict_correct("No, yes.", "Yes")
    assert strict_correct("No [2].", "no") and strict_correct("no", "No")
    assert not strict_correct("No language model was used: ...", "no")
    assert strict_correct("It was Sam Bankman-Fried [1].", "Sam Bankman-Fried")
    assert not strict_correct("Sam", "Sam Bankman-Fried")
    assert strict_correct("Insufficient information.", "Insufficient information.")
    assert strict_correct("The articles do not say.", "Insufficient information.", refused=True)
    base = {"overlap_correct": True, "strict_correct": False, "markers": 2, "valid_markers": 2,
            "raw_markers": 4, "raw_valid_markers": 2, "evidence_cited": True, "unsupported": 1, "cited": True}
    scores = score_answers([{**base, "null": False, "refused": False}, {**base, "null": True, "refused": True}])
    assert scores["citation_validity"] == 1.0 and scores["raw_citation_validity"] == 0.5
    assert scores["null_refusal_rate"] == 1.0 and scores["false_refusal_rate"] == 0.0 and scores["n"] == 2


def test_evaluate_answers_extractive(tmp_path):
    corpus = [
        {"title": "Ukraine presents its victory plan", "source": "Wire Service", "url": "https://e.com/k",
         "published_at": "2024-10-16T10:00:00+00:00", "body": ARTICLES["kyiv.md"].split("---")[-1].strip()},
        {"title": "Tokyo stocks slide", "source": "Market Daily", "url": "https://e.com/t",
         "published_at": "2023-09-26T08:00:00+00:00", "body": ARTICLES["tokyo.md"].split("---")[-1].strip()},
    ]
    fact = "Moscow dismissed the victory plan as unrealistic and said it would only prolong the war."
    queries = [
        {"query": "How did Moscow describe Ukraine's victory plan?", "answer": "unrealistic",
         "question_type": "inference_query", "evidence_list": [{"fact": fact, "url": "https://e.com/k", "title": "Ukraine presents its victory plan"},
                           {"fact": "Tokyo stocks slid.", "title": "An article not indexed"}]},
        {"query": "Xylophone quokka marmalade zeppelin?", "answer": "Insufficient information.",
         "question_type": "null_query", "evidence_list": []},
    ]
    (tmp_path / "corpus.json").write_text(json.dumps(corpus))
    (tmp_path / "queries.json").write_text(json.dumps(queries))
    settings = Settings(index_dir=tmp_path / "index", embedding={"backend": "hashing"}, llm={"backend": "extractive"})
    result = evaluate_answers(settings, tmp_path / "corpus.json", tmp_path / "queries.json")
    overall = result["overall"]
    assert overall["n"] == 2 and overall["n_null"] == 1
    assert overall["null_refusal_rate"] == 1.0 and overall["false_refusal_rate"] == 0.0
    assert overall["citation_validity"] == 1.0 and overall["evidence_cited"] == 1.0
    assert overall["evidence_articles_given"] == 0.5  # the indexed gold article was read, the other was not
    assert overall["accuracy"] == 1.0 and overall["invalid_markers"] == 0
    assert set(result["by_type"]) == {"inference", "null"} and result["by_type"]["null"]["n"] == 1
    assert overall["mean_seconds"] > 0 and overall["mean_prompt_tokens"] > 0  # one question reached the model
    assert [r["refusal_reason"] for r in result["records"]] == [None, "no_evidence"]

    from rag.cli import app

    out = CliRunner().invoke(app, ["eval", "answers", "--corpus", str(tmp_path / "corpus.json"), "--queries",
                                   str(tmp_path / "queries.json"), "--index", str(tmp_path / "index"),
                                   "--llm", "extractive"], env={"RAG_EMBEDDING__BACKEND": "hashing"})
    assert out.exit_code == 0, out.output
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines() if line.strip()}
    assert rows["inference"][1] == "1" and rows["null"][3] == "1.000" and rows["all"][1] == "2"
    assert "mean_prompt_tokens" in out.stdout and "mean_seconds" in out.stdout


def test_chat_keeps_history_for_followups(index_settings, monkeypatch):
    from rag.cli import app

    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    script = f"{VICTORY_Q}\nAnd what did Moscow say?\n/new\nAnd what did Moscow say?\n/quit\n"
    result = CliRunner().invoke(app, ["chat", "--index", str(index_settings.index_dir), "--llm", "extractive"],
                                input=script)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("(searched for: And what did Moscow say? (Ukraine's victory plan ask West))") == 1
    assert "(new conversation)" in out
    assert "Moscow dismissed the victory plan" in out


def test_chat_json_one_object_per_line_with_history(index_settings, server, monkeypatch):
    from rag.cli import app

    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")
    script = f"{VICTORY_Q}\n\nAnd what did Moscow say?\n/new\nAnd what did Moscow say?\n"
    result = CliRunner().invoke(app, ["chat", "--index", str(index_settings.index_dir), "--json", "--llm", "extractive"],
                                input=script)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]  # every line is one JSON object
    assert len(lines) == 4
    first, followup, new, fresh = lines
    assert first["question"] == VICTORY_Q and first["citations"] and "long-range weapons" in first["answer"]
    assert followup["standalone_question"] != followup["question"]  # rewritten with the history
    assert new == {"new_conversation": True}
    assert fresh["standalone_question"] == fresh["question"]  # no history after /new

    server.clear()
    server.script_error(500, endpoint="chat")
    monkeypatch.setenv("RAG_LLM__MAX_RETRIES", "0")
    errored = CliRunner().invoke(app, ["chat", "--index", str(index_settings.index_dir), "--json", "--llm", "openai",
                                          "--base-url", server.base_url, "--model", "fake-chat"],
                                    input="What did Moscow say?\n")
    assert errored.exit_code == 0
    [failed] = [json.loads(line) for line in errored.stdout.splitlines()]
    assert failed["question"] == "What did Moscow say?" and "500" in failed["error"]
