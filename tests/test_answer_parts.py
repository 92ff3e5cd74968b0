"""The answer pipeline's parts on their own: evidence excerpts, publishers and names the
index lacks, relative dates, citation repair, yes/no questions, and the UI's highlights."""

from __future__ import annotations

from datetime import date

import pytest

from rag.answer.context import GAP, build_sources, merge_spans
from rag.answer.dates import date_range
from rag.answer.evidence import articles_in_turn, min_cosine
from rag.answer.names import mentions, missing_names, question_names
from rag.answer.outlets import attributions, matches_source, unknown_outlets
from rag.answer.prompts import answer_messages
from rag.answer.question import answer_options, parse_question
from rag.search.query_hints import outlet_mentions
from rag.answer.citations import process_citations
from rag.answer.repair import repair_citations
from rag.llm.base import estimate_tokens
from rag.types import Passage
from rag.ui.markdown_text import highlighted_passage

BODY = ("The council met on Monday. The harbour bridge will close in May for repairs. "
        "Engineers said the cables are worn. Ferries will run every ten minutes. "
        "The mayor thanked residents. A new bus lane opens in June.")


def passage(pid: str, start: int, end: int, article: str = "a", title: str = "Bridge closes", score: float = 1.0,
            body: str = BODY, source: str = "Coast Herald") -> Passage:
    return Passage(id=pid, article_id=article, ordinal=0, text=body[start:end], header=title, start=start, end=end,
                   token_count=0, title=title, source=source, published_at="2023-10-02", score=score,
                   path=f"/data/{article}.md")


def test_overlapping_passages_of_one_article_merge():
    first, second = passage("p1", 0, 90), passage("p2", 60, 160)
    assert merge_spans([second, first]) == [(0, BODY[:160])]
    apart = passage("p3", 170, len(BODY))
    assert merge_spans([first, apart]) == [(0, BODY[:90]), (170, BODY[170:])]


def test_sources_hold_the_evidence_sentences_per_article():
    other_body = "Tokyo stocks fell on Monday. The Nikkei lost three per cent. Exporters led the fall."
    passages = [passage("p1", 0, 90), passage("p2", 60, len(BODY)),
                passage("t1", 0, len(other_body), article="t", title="Markets", body=other_body, source="Wire")]
    sources = build_sources("When will the harbour bridge close and why?", passages, budget_tokens=60,
                            count=estimate_tokens)
    assert len(sources) == 1  # the Tokyo article shares no word with the question
    bridge = sources[0]
    assert bridge.passage_ids == ["p1", "p2"] and bridge.file == "a.md" and bridge.source == "Coast Herald"
    assert "The harbour bridge will close in May for repairs." in bridge.text
    assert sum(estimate_tokens(s) + 1 for s in bridge.sentences) <= 60
    assert bridge.full_text.startswith("Bridge closes (Coast Herald, 2023-10-02)\n")
    # A neighbour comes with the best sentence; sentences that are not adjacent are marked.
    wide = build_sources("Will ferries run while the harbour bridge is closed?", passages[:2], budget_tokens=200,
                         count=estimate_tokens)[0]
    assert "Engineers said the cables are worn." in wide.text
    narrow = build_sources("Who thanked residents about the harbour bridge?", passages[:2], budget_tokens=40,
                           count=estimate_tokens, neighbours=False)[0]
    assert GAP.strip() in narrow.text and narrow.text.index("bridge") < narrow.text.index("thanked")


def test_every_matching_article_is_heard_within_the_budget():
    other_body = "Ferries will also run at night, the port said. Tickets cost two dollars."
    passages = [passage("p1", 0, len(BODY)),
                passage("f1", 0, len(other_body), article="f", title="Ferries", body=other_body)]
    sources = build_sources("When do ferries run while the bridge is closed?", passages, budget_tokens=34,
                            count=estimate_tokens)
    assert [s.article_id for s in sources] == ["a", "f"]


def test_attributed_publishers_and_unknown_ones():
    known = ["The Verge", "Cnbc | World Business News Leader", "The Independent - Life and Style", "TechCrunch"]
    q = ("Considering an article from The Verge and a report by Bloomberg, and the Wall Street Journal piece "
         "on Apple, what did CNBC report in October?")
    parsed = parse_question(q, known)
    assert parsed.sources == ["The Verge", "Cnbc | World Business News Leader"]
    assert [a.name for a in parsed.attributions] == ["Bloomberg", "Wall Street Journal"]
    assert unknown_outlets(parsed.attributions, known) == ["Bloomberg", "Wall Street Journal"]
    assert matches_source("CNBC", known[1]) and matches_source("The Independent", known[2])
    assert matches_source("Techcrunch", "TechCrunch") and matches_source("New York Times", "The New York Times")
    assert not matches_source("Independent Times", "The Verge") and not matches_source("CNET", known[1])

    def unknown(question: str, mentioned=lambda name: False) -> list[str]:
        return unknown_outlets(attributions(question, outlet_mentions(question, known)), known, mentioned)

    # A publisher's own "and" is not two publishers; possessives and months are not publishers.
    assert unknown("Did the report from The Independent - Life and Style on Taylor Swift's tour "
                   "published in October and the TechCrunch review of Google's phone agree?") == []
    # A quoted title is not a publisher; a quoted publisher still is one.
    assert unknown("Does the 'NBA Rookie of the Year Odds' article from TechCrunch agree with "
                   "the \"Forbes\" article?") == ["Forbes"]


def test_a_report_that_is_a_subject_is_not_an_outlet():
    known = ["The Verge", "TechCrunch"]

    def unknown(question: str, mentioned=lambda name: False) -> list[str]:
        return unknown_outlets(attributions(question, outlet_mentions(question, known)), known, mentioned)

    for subject in ("What did the IPCC report say about warming?", "What did the Mueller report find?",
                    "How did markets take the jobs report?", "What is in the Pentagon report on drones?"):
        assert unknown(subject) == [], subject
    # "according to X", "what did X report": X may be an outlet or a source the articles quote
    assert unknown("According to Forbes, what did Apple earn?") == ["Forbes"]
    assert unknown("According to the IMF, will growth slow?", mentioned=lambda name: name == "IMF") == []
    assert unknown("What did the Pentagon report about the drones?", mentioned=lambda name: True) == []
    # a news work of a name is an outlet's, whatever the articles mention
    assert unknown("What did a Bloomberg article say about BHP?", mentioned=lambda name: True) == ["Bloomberg"]


def test_names_the_question_asks_about():
    q = "Considering The Verge's report, which university did Surin Kim attend before joining Google's AI team?"
    assert question_names(q, outlet_mentions(q, ["The Verge"])) == ["Surin Kim", "Google"]  # "AI": too short
    assert mentions("Surin Kim", "Surin Kim's first job") and not mentions("Surin Kim", "Kim Jong Un visited")
    texts = {"Surin Kim": ["Kim Jong Un visited Seoul."], "Google": ["Google said so."], "AI": ["AI is here"]}
    assert missing_names(["Surin Kim", "Google", "AI"], lambda name: texts[name]) == ["Surin Kim"]


def test_initials_are_not_names_to_look_up():
    q = "Did Fortune report that U.S. home sales fell while U.S. Steel rose?"
    assert question_names(q, outlet_mentions(q, ["Fortune"])) == ["U.S. Steel"]


def test_publishers_are_cut_out_of_names_as_whole_words():
    q = "What did the Supreme Court say about Apple and Martin Scorsese?"
    assert question_names(q, outlet_mentions(q, ["RT", "AP"])) == ["Supreme Court", "Apple", "Martin Scorsese"]
    q = "Did OpenAI or Google release Gemini on Monday?"
    assert parse_question(q).names == ["Gemini"]  # the options and a weekday are no names to look up


def test_relative_dates_resolve_against_the_newest_article():
    newest = date(2023, 12, 20)
    last_week = date_range("What happened to Apple last week?", newest)
    assert (last_week.since, last_week.until) == (date(2023, 12, 13), newest)
    before = date_range("Did TechCrunch report on it before October?", newest)
    assert before.until == date(2023, 9, 30) and before.since is None
    after = date_range("What changed after November 5, 2023?", newest)
    assert after.since == date(2023, 11, 6)
    assert date_range("What is the latest on the trial?", newest).latest
    assert date_range("Who won the match?", newest) is None


def test_repair_cites_recites_and_counts():
    sources = [passage("p1", 0, len(BODY)),
               Passage(id="f1", article_id="f", ordinal=0, text="Ferries run every ten minutes from the port.",
                       header="Ferries", start=0, end=44, token_count=0, title="Ferries")]
    text, repairs = repair_citations("The bridge will close in May for repairs. Ferries run every ten minutes [1].",
                                     sources)
    assert repairs.cited == 1 and repairs.recited == 0
    assert text.startswith("The bridge will close in May for repairs [1].")
    text, repairs = repair_citations("Ferries will run every ten minutes [1].", sources)
    assert (repairs.recited, text) == (0, "Ferries will run every ten minutes [1].")  # [1] supports it: kept
    text, repairs = repair_citations("Tickets are free on Sundays.", sources)
    assert repairs.uncited == 1 and text == "Tickets are free on Sundays."
    text, repairs = repair_citations("Yes.", sources, question="Will the harbour bridge close in May for repairs?")
    assert text == "Yes [1]." and repairs.cited == 1


def test_repair_moves_a_citation_to_the_source_that_supports_it():
    ferry = Passage(id="f1", article_id="f", ordinal=0, text="Night ferries start in March, the port operator said.",
                    header="Ferries", start=0, end=53, token_count=0, title="Ferries")
    text, repairs = repair_citations("Night ferries start in March [1].", [passage("p1", 0, len(BODY)), ferry])
    assert repairs.recited == 1 and text == "Night ferries start in March [2]."


def _source(pid: str, text: str, title: str) -> Passage:
    return Passage(id=pid, article_id=pid, ordinal=0, text=text, header=title, start=0, end=len(text),
                   token_count=0, title=title)


def test_repair_drops_a_cited_source_that_carries_nothing_of_the_claim():
    ferry = _source("f1", "Night ferries start in March, the port operator said.", "Ferries")
    rugby = _source("r1", "The All Blacks won the rugby final in Paris.", "Rugby")
    text, repairs = repair_citations("The harbour bridge will close in May for repairs [1][3].",
                                     [passage("p1", 0, len(BODY)), ferry, rugby])
    assert (text, repairs.trimmed) == ("The harbour bridge will close in May for repairs [1].", 1)
    assert process_citations(text, [passage("p1", 0, len(BODY)), ferry, rugby]).unsupported == 0
    # A trailing group re-pointed to what the group before it already cites is not repeated.
    text, _ = repair_citations("The harbour bridge will close in May for repairs [1][2], [3].",
                               [passage("p1", 0, len(BODY)), ferry, rugby])
    assert text == "The harbour bridge will close in May for repairs [1]."
    # Two sources that each carry part of the claim are both kept.
    both = "The harbour bridge will close in May while night ferries start in March [1][2]."
    assert repair_citations(both, [passage("p1", 0, len(BODY)), ferry, rugby]) [0] == both


def test_repair_points_a_two_source_claim_at_the_pair_that_supports_it():
    bridge = _source("b1", "The harbour bridge will close in May for repairs, the council said.", "Bridge")
    ferry = _source("f1", "Night ferries start in March, the port operator said.", "Ferries")
    rugby = _source("r1", "The All Blacks won the rugby final in Paris.", "Rugby")
    claim = "The harbour bridge closes in May and night ferries start in March, officials confirmed"
    sources = [ferry, rugby, bridge]
    assert process_citations(f"{claim} [3].", sources).unsupported == 1  # neither alone carries half
    text, repairs = repair_citations(f"{claim} [3].", sources)
    assert (text, repairs.recited) == (f"{claim} [1][3].", 1)
    assert process_citations(text, sources).unsupported == 0


def test_each_named_publishers_best_article_takes_its_turn():
    def passage(article: str, n: int) -> Passage:
        return Passage(id=f"{article}#{n}", article_id=article, ordinal=n, text="", header="", start=0, end=0,
                       token_count=1)

    # the question's search: TechCrunch articles t1, t3, t4 and the Verge article v0
    question = [passage("t1", 0), passage("t1", 1), passage("v0", 0), passage("t3", 0), passage("t4", 0)]
    verge = [passage("v0", 5), passage("v1", 0), passage("v2", 0)]  # the search filtered to The Verge
    fortune = [passage("f1", 0)]
    order = [p.id for p in articles_in_turn([question, verge, fortune])]
    assert order == ["t1#0", "t1#1", "v0#5", "f1#0", "v0#0", "t3#0", "v1#0", "t4#0", "v2#0"]
    articles = list(dict.fromkeys(i.split("#")[0] for i in order))
    assert articles[:3] == ["t1", "v0", "f1"]  # three places hold the best of each search
    assert articles_in_turn([question]) == question


def kind(question: str) -> str:
    return parse_question(question).kind


def test_yes_no_questions():
    assert kind("Did The Verge report it?") == kind("Between A and B, was there a change?") == "yes_no"
    assert kind("Which company, as reported by TechCrunch, did it?") == kind("Who won?") == "fact"


def test_a_question_that_offers_options_is_a_choice():
    consistent = "Were the two reports on the strike consistent or inconsistent?"
    assert answer_options(consistent) == ("consistent", "inconsistent") and kind(consistent) == "choice"
    assert answer_options("Did it happen before or after the vote?") == ("before", "after")
    assert answer_options("Do they agree or disagree on rates?") == ("agree", "disagree")
    assert answer_options("Is the summit on Monday or Tuesday?") == ("Monday", "Tuesday")
    assert answer_options("Did OpenAI or Google release Gemini?") == ("OpenAI", "Google")
    assert answer_options("Is the new policy a tax cut or a tax increase?") == ("a tax cut", "a tax increase")
    assert answer_options("Which company, OpenAI or Google, released Gemini?") == ("OpenAI", "Google")
    # Outlets offered as options, asking which reported: a choice between the outlets.
    assert answer_options("Did the Verge or TechCrunch report guides for consumers?") == ("the Verge", "TechCrunch")
    assert answer_options("Who spoke before or after the vote?") is None  # asks for a name
    for question in ("Do both say it rose, or do they present different figures?",  # "or" between clauses
                     "Will the deal close or not?", "Did ten or more players leave?"):
        assert answer_options(question) is None and kind(question) == "yes_no", question
    prompt = answer_messages(parse_question(consistent), [])[-1]["content"]
    assert prompt.endswith('Answer "consistent" or "inconsistent" first (or "Both" or "Neither" if that is what '
                           'the sources say; never Yes or No), then give the reason in one short sentence, '
                           'with [n] citations:')


@pytest.mark.parametrize("question, expected", [
    ("Why did the ECB raise rates?", "explanation"),
    ("How did the Astros cheat in 2017?", "explanation"),
    ("What caused the outage?", "explanation"),
    ("Summarise the coverage of the strike", "summary"),
    ("What's the story with the Bank of Japan?", "summary"),
    ("What did the IPCC report say about sea levels?", "summary"),
    ("Tell me about the new Pixel phone", "summary"),
    ("What is the difference between the two phones?", "comparison"),
    ("How does the iPhone compare with the Pixel?", "comparison"),
    ("How did the FTX trial unfold?", "timeline"),
    ("What are the charges against Sam Bankman-Fried?", "list"),
    ("List the teams that qualified", "list"),
    ("How many games did they win?", "fact"),
    ("Who won the 2022 World Cup?", "fact"),
])
def test_question_kinds(question, expected):
    assert kind(question) == expected


def test_each_cited_sentence_is_highlighted_once():
    body, found = highlighted_passage(BODY, ["The harbour bridge will close in May for repairs.",
                                             "Ferries will run every ten minutes.",
                                             "The harbour bridge will close in May for repairs."])
    assert found and body.count(":orange-background[") == 2


def test_an_onnx_runtime_shares_its_models_refusal_threshold():
    assert min_cosine("sentence-transformers/all-MiniLM-L6-v2") == 0.35
    assert min_cosine("sentence-transformers/all-MiniLM-L6-v2+onnx-int8") == 0.35
    assert min_cosine("sentence-transformers/all-MiniLM-L6-v2+onnx") == 0.35
    assert min_cosine("hashing/words-256") is None
