"""False alarms on untouched real text the rules were not written on: RGB's search snippets.

    python benchmarks/disagreement_snippets.py --rgb ../shared/eval/rgb/en_fact.json \
        [--index /work/eval-index/corpus] [--out flags.jsonl] [--labels benchmarks/data/disagreement_flags_snippets_labels.json]

The false-alarm sweep of benchmarks/disagreements.py runs on the MultiHop-RAG
corpus, where the final rules raise only 4 flags, after rules written while
reading that corpus's flags. This sweep gives the check other real text: for
each RGB item, all its untouched snippets (the true ``positive`` ones and the
``negative`` ones, which are about the same query but often another year,
team or product: the hard case for "same slot"; never the falsified ones) as
the sources of one answer, each its own outlet, all published the same day.
Every flag is printed and written to ``--out`` (JSON lines) for hand labels.
With ``--labels``, prints the labelled share real. RGB is for evaluation only:
the labels file holds item ids, values and verdicts, never the snippets' text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rag.disagree.flags import find_disagreements
from rag.eval.pairs import Article

DAY = "2023-06-01T09:00:00+00:00"


def snippet_sources(item: dict) -> list[Article]:
    """An RGB item's untouched snippets as articles of distinct outlets, one day."""
    texts = list(dict.fromkeys([*item.get("positive", []), *item.get("negative", [])]))
    return [Article(f"rgb{item['id']}-{k}", text, f"Outlet {k + 1}", DAY) for k, text in enumerate(texts)]


def flag_rows(rgb: Path, embed) -> list[dict]:
    """One row per flag: the item, its kind and status, and each side's snippet number and value."""
    rows = []
    for line in rgb.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        sources = snippet_sources(item)
        for flag in find_disagreements(sources, embed):
            rows.append({"item": item["id"], "kind": flag.kind, "status": flag.status, "slot": flag.slot,
                         "values": [[v.value, v.source, v.stated] for v in flag.values],
                         "sentences": [v.sentence for v in flag.values]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rgb", type=Path, required=True)
    parser.add_argument("--index", type=Path, help="use this index's embedder (as an answer does)")
    parser.add_argument("--out", type=Path, help="write the flags here (JSON lines; holds RGB text: keep it local)")
    parser.add_argument("--labels", type=Path)
    args = parser.parse_args()
    embed = None
    if args.index:
        from rag.config import load_settings
        from rag.search.open_index import open_index

        opened = open_index(load_settings(index_dir=args.index))
        embed = opened.embedder.embed
    rows = flag_rows(args.rgb, embed)
    items = sum(1 for line in args.rgb.read_text(encoding="utf-8").splitlines() if line.strip())
    print(f"{items} items, {len(rows)} flags ({100 * len(rows) / items:.1f} per 100 items)")
    for k, row in enumerate(rows):
        print(f"[{k}] item {row['item']} {row['kind']}/{row['status']} slot {row['slot']!r}: "
              + " vs ".join(f"{v[0]!r} (snippet {v[1]})" for v in row["values"]))
        for sentence in row["sentences"]:
            print("      ", sentence[:300])
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    if args.labels and args.labels.exists():
        labels = json.loads(args.labels.read_text(encoding="utf-8"))["labels"]
        real = sum(1 for x in labels if x["label"] == "real")
        print(f"hand labels: {real} of {len(labels)} flags real ({real / len(labels):.2f})")


if __name__ == "__main__":
    main()
