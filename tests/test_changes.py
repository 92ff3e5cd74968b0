"""The sentence diff of two article versions (rag.timeline.changes): kinds of edit and
what counts as no substantive change."""

from __future__ import annotations

from rag.timeline.changes import compare

BODY = ("The storm killed 12 people on Monday, officials said. Mayor Ana Ruiz declared an emergency. "
        "Schools will stay closed.\n\nThe port reopened at noon. Power returned to most homes.")


def test_number_date_and_name_edits_are_changed_sentences():
    new = BODY.replace("12 people on Monday", "14 people on Tuesday").replace("Ana Ruiz", "Ana Gomez")
    changes = compare("Storm hits coast", BODY, "Storm hits coast", new)
    assert changes.substantive and not changes.added and not changes.removed and changes.headline is None
    by_old = {c.old: c for c in changes.changed}
    storm = by_old["The storm killed 12 people on Monday, officials said."]
    assert storm.new == "The storm killed 14 people on Tuesday, officials said."
    assert storm.numbers == ["12", "14"] and storm.dates == ["Monday", "Tuesday"]
    assert by_old["Mayor Ana Ruiz declared an emergency."].names == ["Mayor Ana Gomez", "Mayor Ana Ruiz"]


def test_added_removed_and_headline():
    new = BODY.replace("Schools will stay closed.", "") + " Rescuers found two more survivors overnight."
    changes = compare("Storm hits coast", BODY, "Storm kills 12 on the coast", new)
    assert changes.added == ["Rescuers found two more survivors overnight."]
    assert changes.removed == ["Schools will stay closed."]
    assert changes.headline == {"old": "Storm hits coast", "new": "Storm kills 12 on the coast"}


def test_reorder_and_typography_are_no_substantive_change():
    first, second = BODY.split("\n\n")
    assert not compare("T", BODY, "T", second + "\n\n" + first).substantive
    curly = BODY.replace("officials said", "officials said — “officially”").replace("—", "-")
    plain = BODY.replace("officials said", 'officials said - "officially"')
    assert not compare("Storm’s toll", curly, "Storm's toll", plain.replace(". ", ".  ")).substantive


def test_a_name_written_twice_and_changed_once_is_picked_out():
    old = "Microsoft sells the Elite Series 2, and a cheaper Elite Series 2 Core for less money."
    new = "Microsoft sells the Okonkwo Series 2, and a cheaper Elite Series 2 Core for less money."
    (change,) = compare("T", old, "T", new).changed
    assert change.names == ["Elite Series", "Okonkwo Series"] and not change.numbers


def test_a_sentence_the_splitter_joins_to_its_neighbour_is_still_added_or_removed():
    # Sentence splitting depends on the neighbours: "3 yrs. Ja'Marr ..." is one sentence to the
    # splitter once the sentence between them is gone.
    old = "Age: 24 • Experience: 3 yrs. The Texans offense looks weak while Stroud is out. Ja'Marr Chase WR #1"
    new = "Age: 24 • Experience: 3 yrs. Ja'Marr Chase WR #1"
    changes = compare("T", old, "T", new)
    assert changes.removed == ["The Texans offense looks weak while Stroud is out."]
    assert not changes.added and not changes.changed
    back = compare("T", new, "T", old)
    assert back.added == ["The Texans offense looks weak while Stroud is out."] and not back.removed


def test_numbers_written_in_words_are_picked_out():
    (change,) = compare("T", "The repairs will cost two million dollars, the council said.", "T",
                        "The repairs will cost three million dollars, the council said.").changed
    assert change.numbers == ["three", "two"]
