"""Which library finds quantities and dates in news sentences well and fast enough.

    python benchmarks/disagree_extractors.py --corpus ../shared/eval/multihop-rag/corpus.json

On sentences of MultiHop-RAG articles (a fixed sample, seed 0), in one process:

- quantities: quantulum3 ``parser.parse`` against rag.disagree.numbers.quantities
  (milliseconds per sentence; how often each finds a value in sentences with a
  digit; and the hand-labelled sentences of benchmarks/data/quantity_labels.json:
  share of the labelled values found with the right value and unit, and of
  values found that are labelled);
- dates: dateparser's ``search_dates`` over the whole sentence against
  rag.disagree.when.dates_in (candidates by regular expression, each resolved
  by dateparser), milliseconds per sentence.

price-parser is not in the run: it reads one price out of a short string (a
product page's price field), not every amount of a sentence.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
import warnings
from pathlib import Path

from rag.disagree.numbers import quantities
from rag.disagree.when import dates_in
from rag.ingest.sentences import split_sentences

LABELS = Path(__file__).parent / "data" / "quantity_labels.json"


def sample(corpus: Path, n: int, seed: int = 0) -> list[tuple[str, str]]:
    articles = json.loads(corpus.read_text(encoding="utf-8"))
    random.Random(seed).shuffle(articles)
    out = []
    for a in articles:
        for s in split_sentences(a["body"]):
            if re.search(r"\d", s) and 20 < len(s) < 400:
                out.append((s, a["published_at"]))
        if len(out) >= n:
            break
    return out[:n]


def timed(fn, items) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = [fn(x) for x in items]
    return (time.perf_counter() - t0) * 1000 / max(len(items), 1), out


def _q3_values(parse, sentence: str) -> set[tuple[float, str]]:
    units = {"dollar": "USD", "percentage": "%", "euro": "EUR", "pound sterling": "GBP"}
    return {(round(q.value, 6), units.get(q.unit.name, "")) for q in parse(sentence)
            if q.unit.entity.name in ("currency", "dimensionless") or q.unit.name == "percentage"}


def _own_values(sentence: str) -> set[tuple[float, str]]:
    return {(round(q.value, 6), q.unit if q.unit in ("USD", "%", "EUR", "GBP") else "") for q in quantities(sentence)}


def labelled(score_fn) -> tuple[float, float]:
    """(recall, precision) of (value, unit) pairs on the hand-labelled sentences."""
    items = json.loads(LABELS.read_text(encoding="utf-8"))
    found = expected = right = 0
    for item in items:
        gold = {(round(float(v), 6), u) for v, u in item["quantities"]}
        got = score_fn(item["sentence"])
        expected += len(gold)
        found += len(got)
        right += len(gold & got)
    return right / max(expected, 1), right / max(found, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    sentences = sample(args.corpus, args.n)
    texts = [s for s, _ in sentences]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from quantulum3 import classifier, parser as q3

        # Its scikit-learn classifier (when scikit-learn is installed) only
        # disambiguates unit names, and its pickle fails to load on recent
        # scikit-learn; the rules alone are what is measured.
        classifier.USE_CLF = False

        q3.parse("warm up 3 people")
    q3_ms, q3_out = timed(q3.parse, texts)
    own_ms, own_out = timed(quantities, texts)
    print(f"quantities on {len(texts)} sentences with a digit:")
    print(f"  quantulum3   {q3_ms:8.3f} ms/sentence, a value in {sum(map(bool, q3_out)) / len(texts):.2f} of them")
    print(f"  rag.disagree {own_ms:8.3f} ms/sentence, a value in {sum(map(bool, own_out)) / len(texts):.2f} of them"
          f"  (quantulum3 / rag.disagree: {q3_ms / max(own_ms, 1e-9):.0f}x)")
    if LABELS.is_file():
        r, p = labelled(lambda s: _q3_values(q3.parse, s))
        print(f"  labelled ({LABELS.name}): quantulum3 recall {r:.2f} precision {p:.2f}", end="")
        r, p = labelled(_own_values)
        print(f"; rag.disagree recall {r:.2f} precision {p:.2f}")
    from dateparser.search import search_dates

    search_dates("warm up on Tuesday", languages=["en"])
    dp_ms, _ = timed(lambda sp: search_dates(sp[0], languages=["en"]), sentences[:60])
    own_ms, own = timed(lambda sp: dates_in(*sp), sentences)
    print("dates:")
    print(f"  dateparser.search_dates {dp_ms:8.3f} ms/sentence (first 60 sentences)")
    print(f"  rag.disagree.when       {own_ms:8.3f} ms/sentence, a date in {sum(map(bool, own)) / len(texts):.2f}"
          f"  (search_dates / dates_in: {dp_ms / max(own_ms, 1e-9):.0f}x)")


if __name__ == "__main__":
    main()
