"""Where sources disagree (rag.disagree): facts, slots, flags and the citation check,
on small dated articles written here."""

from __future__ import annotations

from rag.disagree.answer_note import flag_line, note_disagreements
from rag.disagree.facts import facts_of
from rag.disagree.flags import Disagreement, Value, checked, find_disagreements
from rag.disagree.numbers import parse_number, quantities, same_figure
from rag.disagree.quotes import speakers
from rag.disagree.when import dates_in
from rag.types import Passage


def article(aid: str, outlet: str, published_at: str | None, text: str) -> Passage:
    return Passage(id=f"{aid}-0", article_id=aid, ordinal=0, text=text, header="", start=0, end=len(text),
                   token_count=len(text.split()), title=f"Story {aid}", source=outlet, published_at=published_at)


FIRE_30 = "A fire at the harbour warehouse killed 30 people on Monday, the fire chief said. Crews worked all night."
FIRE_35 = "The fire at the harbour warehouse killed 35 people on Monday, according to the fire chief."


def never_embed(texts):
    raise AssertionError("nothing should be embedded")


# -- facts -----------------------------------------------------------------------------------


def test_scales_units_and_what_is_counted():
    (q,) = quantities("The city will spend $1.2 million on repairs.")
    assert (q.value, q.unit, q.surface) == (1_200_000, "USD", "$1.2 million")
    (q,) = quantities("The city will spend $1,200,000 on repairs.")
    assert q.value == 1_200_000
    people, injured = quantities("Two people died and 14 were injured.")
    assert (people.value, people.counts) == (2, "peopl")
    assert (injured.value, injured.counts) == (14, "injur")
    (pct,) = quantities("Prices rose 12 per cent in a year.")
    assert (pct.value, pct.unit) == (12, "%")
    miles, km = quantities("a 5 miles route") + quantities("an 8 km route")
    assert miles.unit == km.unit == "m" and same_figure(miles, km)  # rounding of a converted unit


def test_rounding_and_hedges_are_the_same_figure():
    exact, rounded = quantities("It cost $1,234,000.") + quantities("It cost $1.2 million.")
    assert same_figure(exact, rounded)  # "1.2 million" is 1,234,000 written less precisely
    a, b = quantities("It cost $1,200,000.") + quantities("It cost $1,234,000.")
    assert not same_figure(a, b)  # both written out in full: different figures
    more, exact = quantities("more than 30 people") + quantities("35 people")
    assert same_figure(more, exact)
    more_a, more_b = quantities("more than 50% of them") + quantities("more than 67% of them")
    assert not same_figure(more_a, more_b)  # the same hedge on both is framing: figures differ


def test_malformed_numbers_and_non_quantities_never_crash_and_are_skipped():
    assert parse_number("3,00,0") is None and parse_number("1.2.3") is None and parse_number("12,5") is None
    odd = "Totals of 3,00,0 and 1.2.3 and ,,, and 9,99,99,999 on the Pixel 8, COVID-19, at 5 p.m. on Nov. 17 in 2021."
    assert quantities(odd) == []
    assert facts_of(odd + " " + "\x00\u202e 1e309 " * 3, "2023-10-05") is not None  # no exception


def test_dates_resolve_against_the_publication_date():
    (tuesday,) = dates_in("The trial opened on Tuesday.", "2023-10-05T10:00:00+00:00")  # a Thursday
    assert (tuesday.day.isoformat(), tuesday.precision) == ("2023-10-03", "day")
    (nov,) = dates_in("The sale ends Nov. 17.", "2023-11-20")
    assert nov.day.isoformat() == "2023-11-17"
    (month,) = dates_in("Talks began in January.", "2023-10-05")
    assert (month.day.isoformat(), month.precision) == ("2023-01-01", "month")
    assert dates_in("The trial opened on Tuesday.", None) == []  # no publication date: not guessed
    (written,) = dates_in("It opened on March 5, 2021.", None)
    assert written.day.isoformat() == "2021-03-05"


def test_speakers():
    assert [s.name for s in speakers("The plan will fail, said Maria Lopez.")] == ["Maria Lopez"]
    assert [s.name for s in speakers("According to Tom Hale, the plan will fail.")] == ["Tom Hale"]
    assert speakers("He said the plan will fail.") == []


# -- flags -----------------------------------------------------------------------------------


def test_two_outlets_differ_on_a_death_toll():
    sources = [article("a", "Harbour Gazette", "2024-03-05T09:00:00+00:00", FIRE_30),
               article("b", "City Herald", "2024-03-05T11:00:00+00:00", FIRE_35)]
    (flag,) = find_disagreements(sources)
    data = flag.to_dict()
    assert (data["kind"], data["status"]) == ("number", "differ")
    assert [(v["value"], v["n"], v["source"]) for v in data["values"]] == [
        ("30", 1, "Harbour Gazette"), ("35", 2, "City Herald")]
    assert data["values"][0]["sentence"].startswith("A fire at the harbour warehouse killed 30 people")
    assert data["values"][0]["published_at"] == "2024-03-05T09:00:00+00:00"
    assert "people" in data["slot"] and "killed" in data["slot"]


def test_a_later_report_of_the_same_outlet_is_an_update():
    sources = [article("a", "Harbour Gazette", "2024-03-05T09:00:00+00:00", FIRE_30),
               article("a2", "Harbour Gazette", "2024-03-06T08:00:00+00:00", FIRE_35)]
    (flag,) = find_disagreements(sources)
    assert flag.status == "updated"
    line = flag_line(flag)
    assert line.startswith("Updated by Harbour Gazette") and "March 5, 2024" in line and "March 6, 2024" in line


def test_dates_and_attributions_differ():
    opened = [article("a", "Coast Herald", "2023-10-05", "The new harbour bridge opened to traffic on Tuesday."),
              article("b", "Valley News", "2023-10-06", "The new harbour bridge opened to traffic on October 2.")]
    (flag,) = find_disagreements(opened)
    assert flag.kind == "date" and [v.value for v in flag.values] == ["2023-10-03", "2023-10-02"]
    assert [v.stated for v in flag.values] == ["Tuesday", "October 2"]
    quoted = [article("a", "Coast Herald", "2023-10-05",
                      "“The bridge is safe and will stay open all winter,” said Maria Lopez."),
              article("b", "Valley News", "2023-10-05",
                      "“The bridge is safe and will stay open all winter,” said Tom Hale.")]
    (flag,) = find_disagreements(quoted)
    assert flag.kind == "attribution" and [v.value for v in flag.values] == ["Maria Lopez", "Tom Hale"]


def test_a_weekday_or_an_inferred_year_is_not_a_rival_date_for_another_event():
    # "Wednesday" is read against the publication day; "February 2014" is years before it.
    deal = [article("a", "A", "2023-06-01", "In February 2014, Facebook purchased the messaging service WhatsApp."),
            article("b", "B", "2023-06-01", "Facebook announced the purchase of the messaging service WhatsApp "
                                           "on Wednesday.")]
    assert find_disagreements(deal) == []
    # The same weekday, read as last Thursday by one tense and next Thursday by the other.
    premiere = [article("a", "A", "2023-06-01", "Season 17 of the drama will premiere on Thursday with two hours."),
                article("b", "B", "2023-06-01", "Season 17 of the drama premiered on Thursday with two hours.")]
    assert find_disagreements(premiere) == []
    # "October" with no year against "2006": the year of the one is a guess, so nothing is compared.
    bought = [article("a", "A", "2023-06-01", "Google bought the video site YouTube in 2006 for $1.65 billion."),
              article("b", "B", "2023-06-01", "Google bought the video site YouTube in October for $1.65 billion.")]
    assert find_disagreements(bought) == []
    # A weekday a few days from a written date of the same event still differs.
    bridge = [article("a", "A", "2023-10-05", "The new harbour bridge opened to traffic on Tuesday."),
              article("b", "B", "2023-10-06", "The new harbour bridge opened to traffic on October 2.")]
    assert len(find_disagreements(bridge)) == 1


def test_no_flag_without_a_real_difference():
    same = [article("a", "A", "2024-03-05", FIRE_30), article("b", "B", "2024-03-05", FIRE_30)]
    assert find_disagreements(same) == []
    other_things = [article("a", "A", "2024-03-05", "The fire at the harbour killed 30 people on Monday."),
                    article("b", "B", "2024-03-05", "The fire at the harbour destroyed 35 cars on Monday.")]
    assert find_disagreements(other_things) == []
    both_figures = [article("a", "A", "2024-03-05", "The budget was $10 million in 2022 and $12 million in 2023."),
                    article("b", "B", "2024-03-05", "The budget was $12 million in 2023 and $10 million in 2022.")]
    assert find_disagreements(both_figures) == []
    far_apart = [article("a", "A", "2021-03-05", FIRE_30), article("b", "B", "2024-03-05", FIRE_35)]
    assert find_disagreements(far_apart) == []  # years apart: not the same event


def test_sources_without_comparable_facts_give_no_flag_and_embed_nothing():
    plain = [article("a", "A", "2024-03-05", "The council met and talked about the harbour at length."),
             article("b", "B", "2024-03-05", "Residents hope the harbour will be cleaner soon.")]
    assert facts_of(plain[0].text, plain[0].published_at) == ()
    assert find_disagreements(plain, embed=never_embed) == []


def test_the_embedder_can_veto_a_lexical_match():
    sources = [article("a", "Harbour Gazette", "2024-03-05", FIRE_30), article("b", "City Herald", "2024-03-05", FIRE_35)]
    unrelated = lambda texts: [[1.0, 0.0], [0.0, 1.0]][: len(texts)]  # noqa: E731 - orthogonal vectors
    assert find_disagreements(sources, embed=unrelated) == []
    same = lambda texts: [[1.0, 0.0]] * len(texts)  # noqa: E731
    (flag,) = find_disagreements(sources, embed=same)
    assert flag.evidence[0]["cosine"] == 1.0


def test_the_citation_check_drops_a_flag_whose_sentence_does_not_state_its_value():
    texts = [FIRE_30, FIRE_35]
    good = Disagreement("people killed", "number", "differ", [
        Value("30", 0, FIRE_30.split(". ")[0] + ".", "A", None, "a", "30"),
        Value("35", 1, FIRE_35, "B", None, "b", "35")])
    assert checked(good, texts)
    wrong_value = Disagreement("people killed", "number", "differ", [
        Value("40", 0, FIRE_30.split(". ")[0] + ".", "A", None, "a", "40"), good.values[1]])
    assert not checked(wrong_value, texts)
    not_in_source = Disagreement("people killed", "number", "differ", [
        Value("30", 0, "Thirty people were killed, 30 in all.", "A", None, "a", "30"), good.values[1]])
    assert not checked(not_in_source, texts)


def test_the_answer_line_only_when_the_answer_relies_on_the_flag():
    sources = [article("a", "Harbour Gazette", "2024-03-05", FIRE_30), article("b", "City Herald", "2024-03-05", FIRE_35)]
    text, flags = note_disagreements("The fire killed 30 people on Monday [1].", sources)
    assert text.endswith("Outlets differ on " + flags[0].slot + ": 30 [1] vs 35 [2].")
    unrelated, none = note_disagreements("Crews worked all night [1].", sources)
    assert none == [] and unrelated == "Crews worked all night [1]."
