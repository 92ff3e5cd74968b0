"""The timeline of a story on small articles written here: dated, syndicated, undated,
an unparseable date, one unrelated; the library, `rag timeline --json` and the terminal."""

from __future__ import annotations

import json
import logging
from dataclasses import fields
from datetime import date, datetime, timezone

import pytest
from typer.testing import CliRunner

from rag.answer.citations import Citation
from rag.cli import app
from rag.cli_output import terminal_safe
from rag.config import load_settings
from rag.index.building import build_index
from rag.search.open_index import open_index
from rag.timeline.build import build_timeline
from rag.timeline.dates import delay_text, stated_date
from tests.conftest import write_article

COLLAPSE = ("The harbour bridge collapsed on Monday evening during the storm. Two cars fell into the "
            "water and rescue teams pulled both drivers out alive. The port authority closed the harbour.")


@pytest.fixture
def story(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "herald.md", "Harbour bridge collapses in storm", COLLAPSE, source="Coast Herald",
                  published_at="2023-10-03T08:00:00+00:00", url="https://example.org/herald")
    write_article(folder, "bay.md", "Harbour bridge collapses in storm", "(Wire) " + COLLAPSE, source="Bay News",
                  published_at="2023-10-03T22:00:00+00:00", url="https://example.org/bay")
    write_article(folder, "metro.md", "Council votes to rebuild harbour bridge",
                  "The city council voted on Thursday to rebuild the collapsed harbour bridge within two years. "
                  "The new harbour bridge will cost forty million dollars, the mayor said.",
                  source="Metro Times", published_at="2023-10-06T09:00:00+00:00", url="https://example.org/metro")
    write_article(folder, "explainer.md", "The harbour bridge collapse: what we know",
                  "Engineers had warned that the harbour bridge cables were corroded long before the collapse.",
                  source="Coast Blog", url="https://example.org/explainer")
    write_article(folder, "baddate.md", "Harbour bridge collapse inquiry opens",
                  "An inquiry into the harbour bridge collapse heard from the engineers who inspected the cables.",
                  source="Inquiry Watch", published_at="sometime last spring", url="https://example.org/baddate")
    write_article(folder, "sport.md", "Striker signs new contract",
                  "The club's top striker signed a four-year contract. Fans celebrated outside the stadium.",
                  source="Sports Daily", published_at="2023-10-04", url="https://example.org/sport")
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=folder, embedding={"backend": "hashing"},
                             llm={"backend": "extractive"})
    return settings


@pytest.fixture
def built(story, caplog):
    with caplog.at_level(logging.WARNING):
        build_index(story)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    opened = open_index(story)
    yield opened, warnings
    opened.close()


def test_events_outlets_dates_and_undated(built):
    opened, warnings = built
    timeline = build_timeline(opened, "harbour bridge collapse")
    out = timeline.to_dict()
    assert set(out) == {"query", "events", "undated", "articles"}
    events = out["events"]
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)
    collapse = next(e for e in events if e["first"]["source"] == "Coast Herald")
    # "on Monday" in Tuesday's paper; the syndicated copy is one event with both outlets.
    assert (collapse["date"], collapse["date_kind"]) == ("2023-10-02", "stated")
    assert collapse["first"] == {"source": "Coast Herald", "published_at": "2023-10-03T08:00:00+00:00",
                                 "article_id": collapse["first"]["article_id"]}
    assert [(o["source"], o["delay_s"]) for o in collapse["outlets"]] == [("Bay News", 14 * 3600)]
    rebuild = next(e for e in events if e["first"]["source"] == "Metro Times")
    assert (rebuild["date"], rebuild["date_kind"]) == ("2023-10-05", "stated")  # Thursday before Friday
    assert not any(o["source"] == "Sports Daily" for e in events for o in [e["first"], *e["outlets"]])
    for event in events:
        assert event["citations"] and all(c["supported"] for c in event["citations"])
        assert {c["n"] for c in event["citations"]} == set(range(1, len(event["citations"]) + 1))
        assert set(event["citations"][0]) == {f.name for f in fields(Citation)}  # as `rag ask --json`
        assert f"[{len(event['citations'])}]" in event["text"]
    undated = {u["source"] for u in out["undated"]}
    assert undated == {"Coast Blog", "Inquiry Watch"}  # the unparseable date is listed as undated
    assert out["articles"] == 5
    assert any("baddate.md" in w and "sometime last spring" in w for w in warnings)


def test_filters_and_limit(built):
    opened, _ = built
    from rag.types import SearchFilters

    only = build_timeline(opened, "harbour bridge collapse", SearchFilters(sources=["Metro Times"]))
    assert [e.first.source for e in only.events] == ["Metro Times"] and not only.undated
    since = build_timeline(opened, "harbour bridge collapse", SearchFilters(since=date(2023, 10, 5)))
    assert {e.first.source for e in since.events} == {"Metro Times"}
    assert len(build_timeline(opened, "harbour bridge collapse", limit=1).events) == 1


def test_nothing_found(built):
    opened, _ = built
    assert build_timeline(opened, "zeppelin xylophone quasar").empty


def run(*args):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result.exit_code, result.stdout


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDING__BACKEND", "hashing")


def test_cli_json_shape_and_terminal(built, story):
    code, out = run("timeline", "harbour bridge collapse", "--index", str(story.index_dir), "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"query", "events", "undated", "articles"}
    event = data["events"][0]
    assert set(event) == {"date", "date_kind", "first", "outlets", "text", "citations"}
    assert set(event["first"]) == {"source", "published_at", "article_id"}
    assert all(set(o) == {"source", "published_at", "delay_s", "article_id"} for e in data["events"]
               for o in e["outlets"])
    code, out = run("timeline", "harbour bridge collapse", "--index", str(story.index_dir))
    assert code == 0 and "Coast Herald" in out and "Bay News +14 h" in out and "Undated" in out
    code, out = run("timeline", "zeppelin xylophone quasar", "--index", str(story.index_dir))
    assert code == 0 and "No articles about" in out


def test_control_characters_never_reach_the_terminal(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    write_article(folder, "evil.md", "Bridge \x1b[2J\x1b]8;;http://x\x07 collapse \u202e", COLLAPSE,
                  source="Evil\x1b[31m News", published_at="2023-10-03T08:00:00+00:00")
    settings = load_settings(index_dir=tmp_path / "index", articles_dir=folder, embedding={"backend": "hashing"})
    build_index(settings)
    code, out = run("timeline", "harbour bridge collapse", "--index", str(settings.index_dir))
    assert code == 0 and "Evil" in out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert terminal_safe("a\x1bb\nc", one_line=True) == "a\\x1bb c"


TUESDAY = datetime(2023, 10, 3, 8, tzinfo=timezone.utc)


@pytest.mark.parametrize("sentence, expected", [
    ("The trial started on Monday.", date(2023, 10, 2)),
    ("The trial started Tuesday.", date(2023, 10, 3)),  # the publication's own weekday
    ("It rained yesterday.", date(2023, 10, 2)),
    ("The vote is next Monday.", date(2023, 10, 9)),
    ("Come Thursday, the jury will be sworn in.", date(2023, 10, 5)),
    ("The council will meet on Friday to vote.", date(2023, 10, 6)),
    ("The trial, which began on Monday, will resume.", date(2023, 10, 2)),
    ("The hearing is set for Oct. 12.", date(2023, 10, 12)),
    ("He left on 28 September 2022.", date(2022, 9, 28)),
    ("The plant opened on March 3.", date(2023, 3, 3)),  # past, not next March
    ("In October sales rose.", None),  # a month is not the date of a development
    ("May will tell.", None),
])
def test_stated_dates_resolve_against_publication(sentence, expected):
    assert stated_date(sentence, TUESDAY) == expected


def test_no_publication_time_no_stated_date_and_delays():
    assert stated_date("It happened on Monday.", None) is None
    assert [delay_text(s) for s in (0, 14 * 3600, 47 * 3600, 3 * 86400)] == ["+0 h", "+14 h", "+47 h", "+3 days"]


def test_chat_answers_story_questions_from_the_timeline(built, story):
    from rag.answer.pipeline import Answerer

    opened, _ = built
    with Answerer(story, opened_index=opened) as answerer:
        first = answerer.answer("Who reported first that the harbour bridge collapsed?")
        develop = answerer.answer("How did the harbour bridge collapse story develop?")
        plain = answerer.answer("How much will the new harbour bridge cost?")
    assert first.backend == "timeline" and not first.refused
    assert first.text.startswith("Coast Herald reported it first, on 2023-10-03.")
    assert "Bay News (+14 h)" in first.text
    assert first.citations and all(c.supported for c in first.citations)
    assert {c.source for c in first.citations} == {"Coast Herald", "Bay News"}
    assert develop.backend == "timeline"
    lines = [line for line in develop.text.splitlines() if line.startswith("- ")]
    assert [line[2:12] for line in lines] == sorted(line[2:12] for line in lines) and len(lines) >= 2
    assert "- 2023-10-02, the date the article names, Coast Herald (then Bay News +14 h)." in develop.text
    assert all(c.supported for c in develop.citations)
    assert plain.backend == "extractive"  # not a story question: the usual pipeline


def test_story_question_patterns():
    from rag.timeline.chat import story_kind, story_topic

    assert story_kind("Who reported first on the FTX verdict?") == "first"
    assert story_kind("Which outlet was the first to report the merger?") == "first"
    assert story_kind("When did the recall first appear in the news?") == "first"
    assert story_kind("How did the story develop?") == "develop"
    assert story_kind("How did the FTX trial story unfold?") == "develop"
    assert story_kind("Who won the first game of the series?") is None
    assert story_kind("What did the council decide?") is None
    assert "FTX verdict" in story_topic("Who reported first on the FTX verdict?")


def test_model_summaries_are_kept_only_when_checked(built, story):
    from rag.llm.registry import make_chat_model
    from rag.timeline.summaries import summarize_events
    from tests.openai_server import FakeOpenAIServer

    opened, _ = built
    timeline = build_timeline(opened, "harbour bridge collapse")
    assert [e.first.source for e in timeline.events][:2] == ["Coast Herald", "Metro Times"]
    with FakeOpenAIServer() as srv:
        srv.script_reply("The harbour bridge collapsed in the storm and rescue teams pulled out both drivers [1][2].",
                         "The bridge will cost nine billion dollars and open in 2031 [1].")
        model = make_chat_model(story.llm.model_copy(update={"backend": "openai", "base_url": srv.base_url,
                                                             "model": "fake-chat"}))
        kept = summarize_events(timeline, model)
        sent = [r.body["messages"][1]["content"] for r in srv.chat_requests()[:2]]
    collapse, rebuild = timeline.events[:2]
    assert collapse.summary.startswith("The harbour bridge collapsed") and rebuild.summary is None  # unsupported
    assert kept == 1 and collapse.to_dict()["summary"] == collapse.summary and "summary" not in rebuild.to_dict()
    assert sent[0].startswith("[1] ") and "Coast Herald" not in sent[0]  # the cited sentences only


def test_a_summary_written_without_its_marker_is_cited_and_still_checked(built, story):
    from rag.llm.registry import make_chat_model
    from rag.timeline.summaries import summarize_events
    from tests.openai_server import FakeOpenAIServer

    opened, _ = built
    timeline = build_timeline(opened, "harbour bridge collapse")
    with FakeOpenAIServer() as srv:
        srv.script_reply("The harbour bridge collapsed in the storm.",  # no marker: its source supports it
                         "The bridge will cost nine billion dollars and open in 2031.")  # no source says so
        model = make_chat_model(story.llm.model_copy(update={"backend": "openai", "base_url": srv.base_url,
                                                             "model": "fake-chat"}))
        kept = summarize_events(timeline, model)
    collapse, rebuild = timeline.events[:2]
    assert kept == 1 and collapse.summary.startswith("The harbour bridge collapsed in the storm")
    assert "[" in collapse.summary and rebuild.summary is None
