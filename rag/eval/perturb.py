"""Perturbed news: MultiHop-RAG dev articles with one number, date or quoted name changed.

For every gold evidence fact of the dev questions whose sentence is found in its
article's body, the excerpt (the fact's sentence and the sentence on each side)
is copied and one value in the fact's sentence is changed, in this order of
preference: a quantity (its number raised by about a third), a date (the day moved
by three, or the month, weekday or year changed), or a speaker (replaced by
another name). The copy is attributed to another outlet, two hours later. Each
case is the original excerpt against its perturbed copy; its controls are the
original against an unchanged copy from the other outlet, and against the excerpt
of another evidence fact of the same question (another article on the topic).
"""

from __future__ import annotations

import calendar
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from rag.disagree.numbers import quantities
from rag.disagree.quotes import speakers
from rag.disagree.when import dates_in
from rag.eval.pairs import Article, Case
from rag.ingest.sentences import sentence_spans

OTHER_OUTLET = "The Other Outlet"
NEW_NAME = "Jordan Avery"
_WEEKDAYS = list(calendar.day_name)
_MONTHS = list(calendar.month_name)[1:]


def _bigger(number: str) -> str:
    plain = number.replace(",", "")
    if "." in plain:
        decimals = len(plain.split(".")[1])
        return f"{float(plain) * 1.34 + 10 ** -decimals:.{decimals}f}"
    value = int(plain) * 4 // 3 + 1
    return f"{value:,}" if "," in number else str(value)


def change_number(sentence: str) -> tuple[str, str, str] | None:
    """(new sentence, old value, new value) with the first quantity changed."""
    for q in quantities(sentence):
        m = re.search(r"\d[\d,]*(?:\.\d+)?", q.surface)
        if not m:
            continue
        new_surface = q.surface[:m.start()] + _bigger(m.group(0)) + q.surface[m.end():]
        return sentence[:q.start] + new_surface + sentence[q.end:], q.surface.strip(), new_surface.strip()
    return None


def _moved(surface: str) -> str | None:
    for i, day in enumerate(_WEEKDAYS):
        if day in surface:
            return surface.replace(day, _WEEKDAYS[(i + 2) % 7])
    m = re.search(r"(?<!\d)(\d{1,2})(?!\d)", surface)
    if m and int(m.group(1)) <= 31:
        day = int(m.group(1))
        new = day + 3 if day <= 25 else day - 3
        return surface[:m.start()] + str(new) + surface[m.end():]
    for i, month in enumerate(_MONTHS):
        if month in surface:
            return surface.replace(month, _MONTHS[(i + 2) % 12])
    m = re.search(r"\d{4}", surface)
    if m:
        return surface[:m.start()] + str(int(m.group(0)) - 2) + surface[m.end():]
    if "yesterday" in surface:
        return None
    return None


def change_date(sentence: str, published_at: str) -> tuple[str, str, str] | None:
    """(new sentence, old date as written, new date as written) with the first date moved."""
    for w in dates_in(sentence, published_at):
        new = _moved(w.surface)
        if new and new != w.surface:
            return sentence[:w.start] + new + sentence[w.end:], w.surface, new
    return None


def change_speaker(sentence: str) -> tuple[str, str, str] | None:
    """(new sentence, old speaker, new speaker) with the first speaker replaced."""
    for s in speakers(sentence):
        new = NEW_NAME if " " in s.name else NEW_NAME.split()[-1]
        return sentence[:s.start] + new + sentence[s.end:], s.name, new
    return None


def _excerpt(body: str, fact: str) -> tuple[str, int, int] | None:
    """The fact's sentence with one sentence on each side, and the fact's span in it."""
    at = body.find(fact)
    if at < 0:
        return None
    spans = sentence_spans(body)
    inside = [k for k, (s, e) in enumerate(spans) if s < at + len(fact) and e > at]
    if not inside:
        return None
    first, last = max(0, inside[0] - 1), min(len(spans) - 1, inside[-1] + 1)
    start, end = spans[first][0], spans[last][1]
    return body[start:end], at - start, at - start + len(fact)


def _later(published_at: str, hours: int = 2) -> str:
    try:
        return (datetime.fromisoformat(published_at) + timedelta(hours=hours)).isoformat()
    except ValueError:
        return published_at


def perturbed_cases(corpus: Path, queries: Path) -> list[Case]:
    """Cases and controls (module doc), one case per usable gold fact."""
    articles = {a["url"]: a for a in json.loads(Path(corpus).read_text(encoding="utf-8"))}
    cases: list[Case] = []
    seen: set[str] = set()
    for q in json.loads(Path(queries).read_text(encoding="utf-8")):
        excerpts = []
        for ev in q.get("evidence_list") or []:
            article = articles.get(ev.get("url"))
            fact = (ev.get("fact") or "").strip()
            found = _excerpt(article["body"], fact) if article and fact else None
            if found:
                excerpts.append((article, fact, *found))
        for k, (article, fact, text, s, e) in enumerate(excerpts):
            if fact in seen:
                continue
            seen.add(fact)
            when = article["published_at"]
            change = change_number(fact)
            kind = "number"
            if change is None:
                change, kind = change_date(fact, when), "date"
            if change is None:
                change, kind = change_speaker(fact), "attribution"
            if change is None:
                continue
            new_fact, old, new = change
            aid = f"mh{len(cases)}"
            original = Article(aid, text, article["source"], when, article["title"])
            copy = Article(aid + "-copy", text[:s] + new_fact + text[e:], OTHER_OUTLET, _later(when),
                           article["title"])
            cases.append(Case(kind, original, copy, (old, new)))
            cases.append(Case(kind, original, Article(aid + "-same", text, OTHER_OUTLET, _later(when),
                                                      article["title"]), None))
            other = excerpts[(k + 1) % len(excerpts)]
            if len(excerpts) > 1 and other[0]["url"] != article["url"]:
                o = other[0]
                cases.append(Case(kind, original, Article(aid + "-other", other[2], o["source"], o["published_at"],
                                                          o["title"]), None))
    return cases
