"""Citation markers: parsing variants, dropping, renumbering and support checks."""

from __future__ import annotations

from dataclasses import dataclass

from rag.answer.citations import (
    SUPPORT_THRESHOLD,
    parse_markers,
    process_citations,
    renumber,
    strip_markers,
    support_score,
)


@dataclass
class P:
    id: str
    text: str
    title: str = "T"
    article_id: str = "a"
    source: str | None = "Wire"
    published_at: str | None = "2023-10-01"
    url: str | None = None
    header: str = ""

    @property
    def full_text(self) -> str:
        return f"{self.title}\n{self.text}"


PARIS = P("p1", "Paris is the capital of France and its largest city. The Eiffel Tower was finished in 1889.",
          title="Paris guide", article_id="paris")
TOKYO = P("p2", "Stock markets in Tokyo fell sharply on Monday after the central bank raised interest rates.",
          title="Markets", article_id="tokyo")
KYIV = P("p3", "Ukraine asked Western allies for long-range missiles and a NATO invitation.",
         title="Victory plan", article_id="kyiv")


def numbers(text):
    return [n for m in parse_markers(text) for n in m.numbers]


def test_parse_variants():
    assert numbers("a [1] b") == [1]
    assert numbers("a [1, 2] b [3;4]") == [1, 2, 3, 4]
    assert numbers("a [1][2]") == [1, 2]
    assert numbers("a [1-3] b [2–4]") == [1, 2, 3, 2, 3, 4]
    assert numbers("a [1 and 2] [Passage 3] [source 4]") == [1, 2, 3, 4]
    assert numbers("[1-500]") == [1, 500]  # not a plausible range: ends only
    assert numbers("no [a] (1) {2} [x1] markers") == []
    marker = parse_markers("abc [12]")[0]
    assert (marker.start, marker.end) == (4, 8)


def test_strip_markers():
    assert strip_markers("Paris is big [1][2]. Yes [3, 4].") == "Paris is big. Yes."


def test_renumber_by_first_appearance_and_drop():
    text, picked, dropped, raw = renumber("B [3]. A [1][7]. C [0] [2-3]. D [3, 1].", 3)
    assert text == "B [1]. A [2]. C [1][3]. D [1][2]."
    assert picked == [2, 0, 1]  # new number n -> passage index picked[n-1]
    assert dropped == 2 and raw == 8


def test_drop_all_markers_leaves_clean_text():
    text, picked, dropped, _ = renumber("Claim [7]. Other claim [9, 10].", 2)
    assert text == "Claim. Other claim." and picked == [] and dropped == 3


def test_process_maps_citations_to_passages():
    raw = ("Stock markets in Tokyo fell sharply on Monday [2]. Paris is the capital of France [1]. "
           "Ukraine wants long-range missiles [9].")
    cited = process_citations(raw, [PARIS, TOKYO])
    assert cited.text == ("Stock markets in Tokyo fell sharply on Monday [1]. Paris is the capital of France [2]. "
                          "Ukraine wants long-range missiles.")
    assert [c.passage_id for c in cited.citations] == ["p2", "p1"]
    assert [c.n for c in cited.citations] == [1, 2]
    assert cited.dropped == 1 and cited.raw_numbers == 3
    assert abs(cited.raw_valid_share - 2 / 3) < 1e-9
    first = cited.citations[0]
    assert (first.article_id, first.title, first.source, first.published_at) == ("tokyo", "Markets", "Wire", "2023-10-01")
    assert first.supported and cited.unsupported == 0
    assert cited.citations[1].quote == "Paris is the capital of France and its largest city."
    # The invariant: every marker left names a citation.
    assert set(numbers(cited.text)) <= {c.n for c in cited.citations}


def test_unsupported_claim_is_flagged_not_hidden():
    cited = process_citations("Berlin hosts the Bundestag building [1]. Paris is the capital of France [1].", [PARIS])
    (citation,) = cited.citations
    assert not citation.supported and cited.unsupported == 1
    assert [c.supported for c in citation.claims] == [False, True]


def test_numbers_must_agree():
    assert support_score("The Eiffel Tower was finished in 1889", PARIS.full_text) == 1.0
    assert support_score("The Eiffel Tower was finished in 1925", PARIS.full_text) == 0.0
    cited = process_citations("The Eiffel Tower was finished in 1925 [1].", [PARIS])
    assert not cited.citations[0].supported


def test_threshold_boundary():
    # 2 of 4 content words (paris, capital | germany, berlin) found: exactly at 0.5.
    score = support_score("Paris capital Germany Berlin", PARIS.full_text)
    assert score == 0.5 and (score >= SUPPORT_THRESHOLD)
    assert support_score("Germany Berlin Munich Paris", PARIS.full_text) < SUPPORT_THRESHOLD


def test_claim_split_at_markers_and_joint_citations():
    text = "Paris is the capital of France [1] while Tokyo stock markets fell sharply [2]."
    cited = process_citations(text, [PARIS, TOKYO])
    assert [c.supported for c in cited.citations] == [True, True]
    # One claim citing two passages is judged on their union; each must carry part of it.
    joint = process_citations("Paris is the capital of France and Tokyo stock markets fell [1][2].", [PARIS, TOKYO])
    assert all(c.supported for c in joint.citations)
    padded = process_citations("Paris is the capital of France and its largest city [1][2].", [PARIS, KYIV])
    assert [c.supported for c in padded.citations] == [True, False]


def test_marker_opening_next_sentence_belongs_to_previous():
    cited = process_citations("Stock markets in Tokyo fell sharply. [1] Something else entirely.", [TOKYO])
    assert cited.citations[0].supported
    assert cited.citations[0].claims[0].text.startswith("Stock markets in Tokyo")


def test_short_claim_uses_its_sentence_and_context():
    cited = process_citations("The central bank raised interest rates. Markets fell [1].", [TOKYO])
    assert cited.citations[0].supported
    empty = process_citations("[1]", [TOKYO])
    assert not empty.citations[0].supported  # nothing to check: never shown as supported


def test_marker_opening_a_line_labels_what_follows():
    cited = process_citations("Here is what I found:\n\n[1] Stock markets in Tokyo fell sharply.", [TOKYO])
    assert cited.citations[0].claims[0].text == "Stock markets in Tokyo fell sharply."
    assert cited.citations[0].supported


def test_bare_verdict_is_checked_as_the_question():
    about_tokyo = "Did stock markets in Tokyo fall after the central bank raised interest rates?"
    assert process_citations("No [1].", [TOKYO], question=about_tokyo).citations[0].supported
    # The same verdict citing a passage that is not about what was asked stays flagged.
    wrong = process_citations("No [1].", [PARIS], question=about_tokyo)
    assert not wrong.citations[0].supported and wrong.unsupported == 1
    # Without the question there is nothing to check: flagged, never shown as supported.
    assert not process_citations("No [1].", [TOKYO]).citations[0].supported
    # A claim with words of its own is checked on them, not on the question.
    own = process_citations("Paris is the capital of France [1].", [TOKYO], question=about_tokyo)
    assert not own.citations[0].supported
