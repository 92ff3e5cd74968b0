"""Where sources disagree: numbers, dates and attributions that differ between articles.

- :mod:`rag.disagree.numbers`, :mod:`rag.disagree.when`, :mod:`rag.disagree.quotes`:
  quantities, dates and speakers in a sentence;
- :mod:`rag.disagree.facts`: the comparable facts of a source's sentences;
- :mod:`rag.disagree.slots`: the evidence that two facts are about the same thing;
- :mod:`rag.disagree.flags`: :func:`find_disagreements` over the sources of an answer
  or a topic, with the citation check;
- :mod:`rag.disagree.answer_note`: the "Outlets differ" line of an answer;
- :mod:`rag.disagree.topic`: the differences among the articles of a topic
  (``rag disagreements``).

Nothing here imports :mod:`rag.answer`; the answer pipeline calls this package.
"""
