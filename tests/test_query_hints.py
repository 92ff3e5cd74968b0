"""Publishers and dates named in a question (rag.search.query_hints), as a table."""

from __future__ import annotations

import pytest

from rag.search.query_hints import query_hints

KNOWN = ["The Verge", "TechCrunch", "The Guardian", "AP", "RT", "BBC News", "Sporting News", "The Age",
         "Cnbc | World Business News Leader", "FOX News - Health", "FOX News - Lifestyle"]

# question -> (sources, days, months)
CASES = {
    "What did The Verge report in October 2023?": (["The Verge"], [], ["2023-10"]),
    "Is the company on the verge of collapse?": ([], [], []),  # case matters: not the publisher
    "As reported by Verge on October 5, 2023, what happened?": (["The Verge"], ["2023-10-05"], ["2023-10"]),
    "What did TechCrunch's article on the 5th of October, 2023 say?": (["TechCrunch"], ["2023-10-05"], ["2023-10"]),
    "Which story ran on 2023-11-15 in the Guardian?": (["The Guardian"], ["2023-11-15"], ["2023-11"]),
    "What happened on Sept. 3, 2023?": ([], ["2023-09-03"], ["2023-09"]),
    "Compare Dec 2023 with January 2024.": ([], [], ["2023-12", "2024-01"]),
    "Did AP or BBC News cover it in May 2023?": (["AP", "BBC News"], [], ["2023-05"]),  # "AP" as written
    # word-bounded: "Court" holds no "RT", "Apple" no "AP"; a short name only as written
    "What did the Supreme Court say about Apple and Martin Scorsese?": ([], [], []),
    "Is the map app any good?": ([], [], []),
    "The age of AI: what did CNBC report?": (["Cnbc | World Business News Leader"], [], []),
    "What did The Age report?": (["The Age"], [], []),
    "What did FOX News say about flu?": (["FOX News - Health", "FOX News - Lifestyle"], [], []),
    "Sporting News, 1st Jan 2024": (["Sporting News"], ["2024-01-01"], ["2024-01"]),
    "in march of 2024": ([], [], ["2024-03"]),
    "techcrunch says": ([], [], []),
    "TheVerge reported": ([], [], []),  # whole words only
    "What is the capital of France?": ([], [], []),
}


@pytest.mark.parametrize("question", list(CASES))
def test_query_hints_table(question):
    hints = query_hints(question, KNOWN)
    assert (hints.sources, hints.days, hints.months) == CASES[question]
