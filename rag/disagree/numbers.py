"""Quantities in a sentence: the value (scale applied), its unit and what it counts.

"30 people were killed" -> 30, unit "", counts "peopl"; "$1.2 billion in aid" ->
1,200,000,000 "USD"; "12 per cent" -> 12 "%"; "5 miles" -> 8,046.72 "m". A number
that is part of a date, a time, a year, a label ("No. 3", "Week 13"), a model
name ("Pixel 8", "COVID-19") or a score ("3-2") is not a quantity here.

A regular expression over the sentence, not quantulum3: measured on 300
MultiHop-RAG sentences with a digit (benchmarks/disagree_extractors.py), quantulum3
took about 12 ms a sentence against well under 0.1 ms here, which alone is more than
the whole check may cost an answer, and it read "13 PPR" as poise-roentgen; see
docs/disagreements.md. Malformed numbers ("3,00,0") are skipped, never raised on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.index.words import content_terms

_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9,
           "b": 1e9, "trillion": 1e12, "tn": 1e12, "hundred": 1e2, "dozen": 12}
_CURRENCY = {"$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "£": "GBP",
             "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "€": "EUR", "eur": "EUR", "euro": "EUR",
             "euros": "EUR", "¥": "JPY", "yen": "JPY", "yuan": "CNY", "rupees": "INR", "₹": "INR"}
# Unit words normalised to one base unit (factor to the base).
_UNITS = {"km": ("m", 1000.0), "kilometers": ("m", 1000.0), "kilometres": ("m", 1000.0),
          "miles": ("m", 1609.344), "mile": ("m", 1609.344), "meters": ("m", 1.0), "metres": ("m", 1.0),
          "feet": ("m", 0.3048), "ft": ("m", 0.3048), "kg": ("kg", 1.0), "kilograms": ("kg", 1.0),
          "tonnes": ("kg", 1000.0), "tons": ("kg", 907.18474), "lbs": ("kg", 0.45359237),
          "hours": ("s", 3600.0), "minutes": ("s", 60.0), "days": ("s", 86400.0), "weeks": ("s", 604800.0),
          "months": ("month", 1.0), "years": ("year", 1.0), "year": ("year", 1.0)}
_WORD_NUMBERS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}
_WORD_NUMBERS.update({"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "sixty": 60.0, "seventy": 70.0,
                      "eighty": 80.0, "ninety": 90.0})
_HEDGES = {"about": "approx", "around": "approx", "roughly": "approx", "approximately": "approx",
           "some": "approx", "an estimated": "approx", "estimated": "approx", "nearly": "upper",
           "almost": "upper", "up to": "upper", "less than": "upper", "fewer than": "upper",
           "under": "upper", "at most": "upper", "more than": "lower", "over": "lower",
           "at least": "lower", "as many as": "upper", "upwards of": "lower", "exceeding": "lower"}
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|"
          r"july|august|september|october|november|december)")
_LABELS = frozenset("""no no. number week weeks section article chapter route rule phase level stage
    season episode game round page vol version v model series grade step part act title room gate
    covid covid-19 top""".split())

_QUANTITY = re.compile(
    r"(?P<cur>US\$|\$|£|€|¥|₹|\b(?:USD|EUR|GBP)\s?)?"
    r"(?P<num>(?<![\w.,:/-])\d+(?:[.,]\d+)*(?![\w:/-]|[.,]\d))"
    r"(?P<scale>\s?(?:thousand|million|billion|trillion|hundred|bn|mn|tn|[kmb])\b)?"
    r"(?P<unit>\s?%|\s(?:percent|per cent|percentage points)\b"
    r"|\s(?:dollars|euros|pounds|yen|yuan|rupees)\b)?",
    re.IGNORECASE)
_WORD_QUANTITY = re.compile(r"\b(?P<word>" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) +
                            r")(?P<scale>\s(?:thousand|million|billion|trillion|hundred|dozen))?\s+"
                            r"(?=[a-z])", re.IGNORECASE)
_HEDGE = re.compile(r"(?:\b(" + "|".join(sorted(_HEDGES, key=len, reverse=True)) + r"))\s+$", re.I)
_DATE_BEFORE = re.compile(_MONTH + r"\.?\s+$", re.I)
_DATE_AFTER = re.compile(r"^\s*(?:st|nd|rd|th)?\s*(?:of\s+)?" + _MONTH + r"\b|^(?:st|nd|rd|th)\b", re.I)
_TIME_AFTER = re.compile(r"^\s*(?:a\.?m\.?|p\.?m\.?|o'clock|GMT|UTC|[AP]M\b|ET\b|EST\b|PT\b)", re.I)
_COMPARATIVE = re.compile(r"\s+(?:\w+\s+)?(more|less|fewer|higher|lower|greater|bigger|smaller)\s+than\b", re.I)
_WORD_AFTER = re.compile(r"[A-Za-z][\w'’-]*")
_WORD_BEFORE = re.compile(r"([A-Za-z][\w.-]*)\s*$")


@dataclass(frozen=True)
class Quantity:
    """One quantity: ``value`` in ``unit`` ("" for a count), what it ``counts`` (a stem, or
    ""), as written (``surface``, at ``start:end`` of the sentence), and a hedge: "approx",
    "lower" ("more than 30"), "upper" ("up to 30") or None."""

    value: float
    unit: str
    counts: str
    surface: str
    start: int
    end: int
    hedge: str | None = None


def parse_number(text: str) -> float | None:
    """``text`` ("1,200", "3.5", "12") as a number; None when malformed ("3,00,0", "1.2.3")."""
    if "," in text:
        head, *groups = text.split(",")
        last = groups[-1]
        if "." in last:
            last, _, frac = last.partition(".")
            if not frac.isdigit():
                return None
            groups[-1] = last
        if not (1 <= len(head) <= 3 and head.isdigit() and all(len(g) == 3 and g.isdigit() for g in groups)):
            return None
        text = text.replace(",", "")
    if text.count(".") > 1:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _counted(sentence: str, end: int) -> str:
    """The stem of the first content word after ``end`` within three words ("people").
    A capitalised word there is a name, not what is counted ("12 Bijan Robinson, Falcons"
    is a rank); "$50 million more than ..." counts a difference, marked "more than"."""
    comparative = _COMPARATIVE.match(sentence, end)
    if comparative:
        return comparative.group(1).lower() + " than"
    for i, match in enumerate(_WORD_AFTER.finditer(sentence, end)):
        if i >= 3:
            break
        terms = content_terms(match.group(0))
        if terms:
            return "" if match.group(0)[0].isupper() else next(iter(terms))
    return ""


def _hedge(before: str) -> str | None:
    match = _HEDGE.search(before[-24:])
    return _HEDGES.get(match.group(1).lower()) if match else None


def _not_a_quantity(sentence: str, start: int, end: int, value: float, has_unit: bool) -> bool:
    before, after = sentence[max(0, start - 16):start], sentence[end:end + 16]
    if _DATE_BEFORE.search(before) or _DATE_AFTER.search(after) or _TIME_AFTER.search(after):
        return True
    if not has_unit and value.is_integer() and 1800 <= value <= 2100:
        return True  # a year: a date, not a quantity
    word = _WORD_BEFORE.search(before)
    if word and not has_unit:
        prev = word.group(1).lower()
        if prev.rstrip(".") in _LABELS or prev in _LABELS:
            return True
        # "Pixel 8", "Windows 11": a capitalised word right before a bare number names a thing.
        first_word = not sentence[:start - len(word.group(0))].strip()
        if word.group(1)[0].isupper() and not first_word and word.group(1).lower() not in _HEDGES:
            return True
    if re.match(r"^\s?[-–]\s?\d", after):  # "3-2", "10–12": a score or a range
        return True
    return False


def quantities(sentence: str) -> list[Quantity]:
    """The quantities stated in ``sentence`` (see the module doc). Never raises on odd text."""
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(sentence):
        value = parse_number(m.group("num"))
        if value is None:
            continue
        scale_word = (m.group("scale") or "").strip().lower()
        unit_word = (m.group("unit") or "").strip().lower()
        currency = (m.group("cur") or "").strip().lower()
        if scale_word in ("m", "b", "k") and not currency:
            scale_word = ""  # "5 m" alone is a length or a typo, not millions
        has_unit = bool(currency or unit_word or scale_word)
        end = m.end("unit") if m.group("unit") else m.end("scale") if scale_word else m.end("num")
        start = m.start("cur") if currency else m.start("num")
        if _not_a_quantity(sentence, m.start("num"), m.end("num"), value, has_unit):
            continue
        value *= _SCALES.get(scale_word, 1.0)
        unit = _CURRENCY.get(currency) or _CURRENCY.get(unit_word) or ""
        if unit_word in ("%", "percent", "per cent"):
            unit = "%"
        elif unit_word == "percentage points":
            unit = "pp"
        counts = ""
        if not unit:
            nxt = _WORD_AFTER.match(sentence, end + 1) if end < len(sentence) else None
            word = nxt.group(0).lower() if nxt and sentence[end:nxt.start()].strip() == "" else ""
            if word in _UNITS:
                unit, factor = _UNITS[word]
                value *= factor
                end = nxt.end()
            counts = _counted(sentence, end)
        out.append(Quantity(value, unit, counts, sentence[start:end], start, end, _hedge(sentence[:start])))
    for m in _WORD_QUANTITY.finditer(sentence):
        word = m.group("word").lower()
        if word in ("one", "zero"):
            continue  # "one of the", "one day": rarely a count
        value = _WORD_NUMBERS[word] * _SCALES.get((m.group("scale") or "").strip().lower(), 1.0)
        end = m.end("scale") if m.group("scale") else m.end("word")
        counts = _counted(sentence, end)
        if counts:
            out.append(Quantity(value, "", counts, sentence[m.start():end], m.start(), end,
                                _hedge(sentence[:m.start()])))
    out.sort(key=lambda q: q.start)
    return out


def interval(q: Quantity) -> tuple[float, float]:
    """The values ``q`` allows: exact (with rounding to its written precision), or a
    range for a hedged quantity ("about 30": 27..33; "more than 30": 30..inf)."""
    v = q.value
    if q.hedge == "lower":
        return v, float("inf")
    if q.hedge == "upper":
        return float("-inf"), v
    if q.hedge == "approx":
        return v * 0.9, v * 1.1
    step = _rounding_step(q)
    return v - step / 2, v + step / 2


def _rounding_step(q: Quantity) -> float:
    """What the last written digit stands for, when a scale word multiplies it ("1.2
    million" -> 100,000): a figure within half of it is the same one written less
    precisely. A figure written out in full ("1,200,000", "30") is exact."""
    digits = re.search(r"\d[\d,.]*", q.surface)
    written = digits.group(0).replace(",", "") if digits else ""
    base = parse_number(written) if written else None
    if not base:
        return 0.0
    decimals = len(written.split(".")[1]) if "." in written else 0
    return (10.0 ** -decimals) * (q.value / base)


def same_figure(a: Quantity, b: Quantity) -> bool:
    """True when ``a`` and ``b`` can be the same figure. With one hedge, or none, their
    intervals must overlap ("more than 30" and "35" can); when both carry the same hedge
    it is shared framing and the figures themselves are compared ("more than 50%" and
    "more than 67%" differ)."""
    if a.hedge and a.hedge == b.hedge:
        a, b = Quantity(a.value, a.unit, a.counts, a.surface, a.start, a.end), \
            Quantity(b.value, b.unit, b.counts, b.surface, b.start, b.end)
    lo_a, hi_a = interval(a)
    lo_b, hi_b = interval(b)
    if a.hedge or b.hedge or lo_a == hi_a or lo_b == hi_b:
        return lo_a <= hi_b and lo_b <= hi_a  # "over 15.5" and "under 15.5" meet at 15.5
    return lo_a < hi_b and lo_b < hi_a  # two written figures: adjacent roundings are different figures


def display(q: Quantity) -> str:
    """A short readable value: the figure as written ("$1.2 billion", "30")."""
    return q.surface.strip()
