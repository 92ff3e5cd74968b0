"""Measuring the disagreement check: RGB counterfactual pairs and perturbed news.

Both build pairs of small articles and give them to
:func:`rag.disagree.flags.find_disagreements` as the two sources of an answer
(retrieval is not part of this measurement: a pair is what the model would be
given). A *case* is a pair that differs on purpose; a *control* is a pair that
should raise no flag. Per kind of item:

- ``recall``: share of cases with a flag whose two values come from the two
  articles and are the planted pair (the true and the changed value);
- ``flagged``: share of cases with any flag;
- ``precision``: flagged cases / (flagged cases + flagged controls), with as many
  controls as cases;
- ``both_cited_and_stated``: share of flags on cases that cite both articles and
  whose sentences state the value each is said to state.

RGB (``../shared/eval/rgb/en_fact.json``, non-commercial, evaluation only): each
true passage (outlet "Daily Ledger", 1 June 2023) against its falsified twin
(outlet "Evening Courier", 2 June 2023); controls: two different true passages
of the item, and a true passage with one of its unrelated (negative) passages.
Items are "number" or "date" by their answer; the rest ("other": names, places)
are reported too, though the check does not compare names other than speakers.

Perturbed news (MultiHop-RAG dev evidence): :mod:`rag.eval.perturb`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from rag.disagree.flags import Embed, find_disagreements
from rag.disagree.numbers import quantities
from rag.disagree.when import dates_in
from rag.eval.pairs import Article, Case
from rag.eval.perturb import perturbed_cases

TRUE_OUTLET, FAKE_OUTLET = "Daily Ledger", "Evening Courier"


def _answers(value) -> list[str]:
    """RGB's answer field as a flat list of accepted strings."""
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    for part in value:
        out.extend(_answers(part))
    return out


def rgb_kind(answer: str) -> str:
    """"date" when the answer is a date, "number" when a quantity, else "other"."""
    if dates_in(f"in {answer}", "2023-06-01") or re.search(r"\b(?:19|20)\d\d\b", answer):
        return "date"
    if quantities(answer) or re.fullmatch(r"[\d,.]+", answer.strip()):
        return "number"
    return "other"


def rgb_cases(path: Path) -> list[Case]:
    """Cases and controls from RGB's en_fact.json (JSON lines)."""
    cases: list[Case] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        answers = _answers(item["answer"])
        kind = rgb_kind(answers[0])
        pid = item["id"]
        true_passages, fake_passages = item["positive"], item["positive_wrong"]
        for k, (true, fake) in enumerate(zip(true_passages, fake_passages)):
            if true == fake:
                continue
            a = Article(f"rgb{pid}-t{k}", true, TRUE_OUTLET, "2023-06-01T09:00:00+00:00")
            planted_true = next((x for x in answers if x in true), answers[0])
            cases.append(Case(kind, a, Article(f"rgb{pid}-f{k}", fake, FAKE_OUTLET, "2023-06-02T09:00:00+00:00"),
                              (planted_true, item["fakeanswer"])))
            other_true = true_passages[(k + 1) % len(true_passages)]
            if len(true_passages) > 1 and other_true != true:
                cases.append(Case(kind, a, Article(f"rgb{pid}-t{k}b", other_true, FAKE_OUTLET,
                                                   "2023-06-02T09:00:00+00:00"), None))
            negatives = item.get("negative") or []
            if negatives:
                cases.append(Case(kind, a, Article(f"rgb{pid}-n{k}", negatives[k % len(negatives)], FAKE_OUTLET,
                                                   "2023-06-02T09:00:00+00:00"), None))
    return cases


def _states(stated: str, sentence: str, planted: str) -> bool:
    """True when a flag's value is the planted one (as written, or the sentence has it)."""
    p, s = planted.lower(), stated.lower()
    return bool(s) and (s in p or p in s or (p in sentence.lower() and s in sentence.lower()))


def score(cases: Sequence[Case], embed: Embed | None = None,
          judge: Callable[[Case, list], bool] | None = None) -> dict[str, dict]:
    """The metrics of the module doc, per kind and over all kinds."""
    rows: dict[str, dict[str, int]] = {}
    for case in cases:
        flags = find_disagreements([case.a, case.b], embed)
        for key in (case.kind, "all"):
            r = rows.setdefault(key, {"cases": 0, "controls": 0, "found": 0, "flagged": 0,
                                      "flagged_controls": 0, "flags": 0, "good_flags": 0})
            if case.planted is None:
                r["controls"] += 1
                r["flagged_controls"] += bool(flags)
                continue
            r["cases"] += 1
            r["flagged"] += bool(flags)
            hit = (judge or _planted_found)(case, flags)
            r["found"] += hit
            r["flags"] += len(flags)
            r["good_flags"] += sum(_cites_both_and_states(case, f) for f in flags)
    out = {}
    for key, r in rows.items():
        cases_n, controls_n = r["cases"], r["controls"]
        control_rate = r["flagged_controls"] / controls_n if controls_n else 0.0
        expected_false = control_rate * cases_n  # as many controls as cases
        out[key] = {
            "cases": cases_n, "controls": controls_n,
            "recall": r["found"] / cases_n if cases_n else 0.0,
            "flagged": r["flagged"] / cases_n if cases_n else 0.0,
            "control_flag_rate": control_rate,
            "precision": r["flagged"] / (r["flagged"] + expected_false) if r["flagged"] else 0.0,
            "both_cited_and_stated": r["good_flags"] / r["flags"] if r["flags"] else 0.0,
        }
    return out


def _cites_both_and_states(case: Case, flag) -> bool:
    sources = {v.source for v in flag.values}
    return sources == {0, 1} and all(v.stated and v.stated in v.sentence for v in flag.values)


def _planted_found(case: Case, flags: Iterable) -> bool:
    true, fake = case.planted
    for flag in flags:
        by_source = {v.source: v for v in flag.values}
        if 0 in by_source and 1 in by_source:
            va, vb = by_source[0], by_source[1]
            if _states(va.stated, va.sentence, true) and _states(vb.stated, vb.sentence, fake):
                return True
    return False


def evaluate_rgb(path: Path, embed: Embed | None = None) -> dict[str, dict]:
    """RGB counterfactual pairs (module doc)."""
    return score(rgb_cases(path), embed)


def evaluate_perturbed(corpus: Path, queries: Path, embed: Embed | None = None) -> dict[str, dict]:
    """Perturbed MultiHop-RAG dev articles (:mod:`rag.eval.perturb`)."""
    return score(perturbed_cases(corpus, queries), embed)
