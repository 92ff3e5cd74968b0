"""What changed in updated articles: known edits of MultiHop-RAG dev-corpus articles.

    python benchmarks/changes.py [--corpus /work/shared/eval/multihop-rag/corpus.json]
        [--n 105] [--seed 0] [--embedding hashing] [--keep DIR]

Makes ``--n`` second versions of corpus articles, one known edit each, in turn
of the seven kinds: a number changed, a date changed, a name changed, a
sentence added, a sentence removed, paragraphs reordered only, typography only
(curly quotes, dashes, no-break and doubled spaces). Builds a small index of
the originals in a temporary folder (the default offline embedder unless
``--embedding`` names another), rebuilds it with the edited copies at the same
paths, and reads what ``rag changes`` reads (rag.timeline.updates).

Per kind it prints the recall (the edit is reported as it was made: a number,
date or name edit as one changed sentence whose numbers, dates or names hold
the old and the new value; an added or removed sentence as added or removed)
and the precision (reported items that are the edit, of all reported items:
changed, added and removed sentences and headlines). For the reorder-only and
typography-only copies, every reported item is a false change. Then the extra
index size per revision: the rebuilt index against a fresh index of the edited
copies alone (the same passages, no revisions).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import load_settings
from rag.index.building import build_index
from rag.index.stores import make_store
from rag.ingest.articles import load_paths
from rag.ingest.sentences import sentence_spans
from rag.timeline.changes import normalised
from rag.timeline.dates import DATE_EXPRESSION
from rag.timeline.updates import updated_articles

KINDS = ("number", "date", "name", "added", "removed", "reorder", "typography")
NAMES = ("Okonkwo", "Lindqvist", "Marchetti", "Haddad", "Vasquez", "Nakamura", "Fairweather")
_NUMBER = re.compile(r"(?<![\d.,:/$-])\b(\d{1,4})\b(?![\d.,:/%]\d)")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_CAPITAL = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{3,})\b")
_CALENDAR = set(_WEEKDAYS) | {"January", "February", "March", "April", "May", "June", "July", "August",
                              "September", "October", "November", "December"}


def candidate_sentences(body: str) -> list[tuple[int, int]]:
    """Spans of sentences worth editing: 8+ words, ending a clause, written once in the body."""
    spans = sentence_spans(body)
    texts = [body[s:e] for s, e in spans]
    return [(s, e) for (s, e), t in zip(spans, texts) if len(t.split()) >= 8 and texts.count(t) == 1
            and t.rstrip()[-1:] in ".!?\"'”’"]


def edit_in_sentence(body: str, rng: random.Random, find) -> dict | None:
    """Apply ``find(sentence) -> (new_sentence, old_value, new_value) | None`` to one sentence."""
    spans = candidate_sentences(body)
    rng.shuffle(spans)
    for s, e in spans:
        found = find(body[s:e])
        if found:
            new_sentence, old_value, new_value = found
            return {"body": body[:s] + new_sentence + body[e:], "old": body[s:e], "new": new_sentence,
                    "values": (old_value, new_value)}
    return None


def number_edit(sentence: str):
    for m in _NUMBER.finditer(sentence):
        if DATE_EXPRESSION.search(sentence[max(0, m.start() - 12):m.end() + 6]) or len(m.group(1)) == 4:
            continue  # a day of a date, or a year: the date kind's
        new = str(int(m.group(1)) + 7)
        return sentence[:m.start()] + new + sentence[m.end():], m.group(1), new
    return None


def date_edit(sentence: str):
    for m in DATE_EXPRESSION.finditer(sentence):
        text = m.group(0)
        if m.group("wd"):
            day = next(d for d in _WEEKDAYS if d in text)
            new = text.replace(day, _WEEKDAYS[(_WEEKDAYS.index(day) + 2) % 7])
        elif m.group("md") or m.group("dm"):
            digits = re.search(r"\d{1,2}", text)
            new = text[:digits.start()] + str(int(digits.group(0)) % 27 + 1) + text[digits.end():]
        else:
            continue
        return sentence[:m.start()] + new + sentence[m.end():], text, new
    return None


def name_edit(sentence: str, taken: str):
    for m in _CAPITAL.finditer(sentence):
        if m.group(1) in _CALENDAR:
            continue
        new = next(n for n in NAMES if n not in taken)
        return sentence[:m.start()] + new + sentence[m.end():], m.group(1), new
    return None


def typography(body: str) -> str:
    curly = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", body).replace("'", "\u2019")
    curly = curly.replace("\u2014", "\x00").replace(" - ", " \u2014 ").replace("\x00", " - ")
    return curly.replace(". ", ".  ").replace(", ", ",\u00a0", 3)


def make_edit(kind: str, article: dict, rng: random.Random, others: list[str]) -> dict | None:
    body = article["body"]
    if kind == "number":
        return edit_in_sentence(body, rng, number_edit)
    if kind == "date":
        return edit_in_sentence(body, rng, date_edit)
    if kind == "name":
        return edit_in_sentence(body, rng, lambda s: name_edit(s, body))
    spans = candidate_sentences(body)
    if kind == "removed" and len(spans) >= 3:
        s, e = rng.choice(spans)
        end = e + len(body[e:]) - len(body[e:].lstrip(" "))
        return {"body": body[:s] + body[end:], "old": body[s:e]}
    if kind == "added" and spans:
        sentence = rng.choice([o for o in others if o not in body])
        _, e = rng.choice(spans)
        return {"body": body[:e] + " " + sentence + body[e:], "new": sentence}
    if kind == "reorder":
        paragraphs = [p for p in body.split("\n\n") if p.strip()]
        if len(paragraphs) >= 3:
            moved = paragraphs[:]
            while moved == paragraphs:
                rng.shuffle(moved)
            return {"body": "\n\n".join(moved)}
    if kind == "typography":
        new = typography(body)
        return {"body": new} if new != body else None
    return None


def score(kind: str, edit: dict, revision: dict | None) -> tuple[bool, int, int]:
    """(edit reported as made, reported items, reported items that are the edit)."""
    if revision is None:
        return False, 0, 0
    items = len(revision["added"]) + len(revision["removed"]) + len(revision["changed"]) + bool(revision["headline"])
    if kind in ("reorder", "typography"):
        return not items, items, 0
    if kind == "added":
        hit = normalised(edit["new"]) in {normalised(s) for s in revision["added"]}
    elif kind == "removed":
        hit = normalised(edit["old"]) in {normalised(s) for s in revision["removed"]}
    else:
        field = {"number": "numbers", "date": "dates", "name": "names"}[kind]
        old, new = edit["values"]
        hit = any(normalised(c["old"]) == normalised(edit["old"]) and normalised(c["new"]) == normalised(edit["new"])
                  and any(old in v for v in c[field]) and any(new in v for v in c[field]) for c in revision["changed"])
    return hit, items, int(hit)


def write(folder: Path, articles: list[dict], bodies: dict[int, str]) -> None:
    for i, a in enumerate(articles):
        record = {k: a.get(k) for k in ("title", "source", "published_at", "url")}
        (folder / f"a{i:03d}.json").write_text(json.dumps({**record, "body": bodies.get(i, a["body"])}))


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/eval/multihop-rag/corpus.json"))
    parser.add_argument("--n", type=int, default=105)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--embedding", default=None, help="embedding backend (default: the settings' default)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it")
    parser.add_argument("--misses", action="store_true", help="print each edit not reported as made")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = args.keep or Path(tempfile.mkdtemp(prefix="changes-bench-"))
    (work / "originals").mkdir(parents=True, exist_ok=True)
    corpus = json.loads(args.corpus.read_text())
    # Edits are made on the text as ingested (the news clean-up drops captions and boilerplate).
    write(work / "originals", corpus, {})
    cleaned = {a.url: a.body for a in load_paths([work / "originals"]).articles}
    corpus = [{**a, "body": cleaned[a["url"]]} for a in corpus if a["url"] in cleaned]
    order = list(range(len(corpus)))
    rng.shuffle(order)
    others = [body[s:e] for body in (a["body"] for a in corpus[:50]) for s, e in candidate_sentences(body)]
    chosen: list[tuple[dict, str, dict]] = []
    for i in order:
        kind = KINDS[len(chosen) % len(KINDS)]
        edit = make_edit(kind, corpus[i], rng, others)
        if edit is not None:
            chosen.append((corpus[i], kind, edit))
        if len(chosen) == args.n:
            break
    articles = [a for a, _, _ in chosen]
    embedding = {"backend": args.embedding} if args.embedding else {}
    (work / "edited").mkdir(exist_ok=True)
    write(work / "edited", articles, {i: e["body"] for i, (_, _, e) in enumerate(chosen)})
    settings = load_settings(index_dir=work / "index", embedding=embedding)
    articles_dir = work / "articles"
    articles_dir.mkdir(exist_ok=True)
    write(articles_dir, articles, {})
    build_index(settings, [articles_dir])
    write(articles_dir, articles, {i: e["body"] for i, (_, _, e) in enumerate(chosen)})
    report = build_index(settings, [articles_dir])
    fresh = load_settings(index_dir=work / "fresh", embedding=embedding)
    build_index(fresh, [work / "edited"])
    snapshot = make_store(settings).open()
    started = time.perf_counter()
    entries = {e["url"]: e for e in updated_articles(snapshot)}
    seconds = time.perf_counter() - started
    kept = sum(snapshot.revised_articles().values())
    revision_bytes = [len(r.title.encode()) + len(r.body.encode()) for i in snapshot.revised_articles()
                      for r in snapshot.revisions(i)]
    snapshot.close()
    print(f"{len(chosen)} edited copies; build: {report.updated} updated, {report.revisions} revisions kept")
    print(f"{'kind':>11} {'n':>3} {'recall':>7} {'precision':>9} {'false changes':>13}")
    for kind in KINDS:
        rows = [score(kind, e, (entries.get(a["url"]) or {"revisions": [None]})["revisions"][-1])
                for a, k, e in chosen if k == kind]
        hits, items, right = sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] for r in rows)
        if args.misses:
            for (a, k, e), r in zip([c for c in chosen if c[1] == kind], rows):
                if not r[0] or r[1] != r[2]:
                    print(json.dumps({"kind": kind, "edit": {x: e[x] for x in e if x != "body"},
                                      "reported": (entries.get(a["url"]) or {"revisions": [None]})["revisions"][-1]},
                                     indent=1)[:3000])
        precision = "-" if kind in ("reorder", "typography") else f"{right / items:.3f}" if items else "n/a"
        print(f"{kind:>11} {len(rows):>3} {hits / len(rows):>7.3f} {precision:>9} {items - right:>13}")
    extra = folder_size(Path(make_store(settings).info()["path"])) - folder_size(Path(make_store(fresh).info()["path"]))
    print(f"extra index size: {extra} bytes for {kept} revisions = {extra / max(kept, 1):.0f} bytes per revision "
          f"(revision text: mean {statistics.mean(revision_bytes):.0f} bytes)")
    print(f"updated_articles over {kept} revisions: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
