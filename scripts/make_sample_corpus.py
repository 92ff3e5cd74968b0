"""Write the sample corpus in data/articles/ from MultiHop-RAG's corpus.json.

Usage (from the project root)::

    python scripts/make_sample_corpus.py [CORPUS_JSON] [--out data/articles]

CORPUS_JSON defaults to ``../shared/eval/multihop-rag/corpus.json``.

The selection is deterministic: the 30 most frequent sources (ties broken by
first appearance), and for each the first article whose body is 2,000 to
12,000 characters long (a real story, not a giant deals list). In corpus
order, the articles cycle through a fixed pattern of formats so that every
loader sees real data:

* 12 Markdown files with YAML front matter (``mhNNN_slug.md``);
* 8 lines of ``multihop_sample.jsonl``: the MultiHop-RAG objects unchanged;
* 6 items of ``multihop_list.json``: the same data under other common field
  names (headline, text, publisher {"name"}, date, link, byline), so the
  field mapping is exercised too;
* 4 HTML pages (``mhNNN_slug.html``): title, author, og:site_name,
  article:published_time, canonical link and an <article> of <p> paragraphs.
  The script checks that the loader gets each page's full body and metadata
  back.

It also copies the project's seed article (if found) and writes
``data/ATTRIBUTION.md`` beside the articles folder.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rag.ingest.articles import load_path  # noqa: E402
from rag.ingest.cleaning import clean_body  # noqa: E402
from rag.ingest.records import normalise_date  # noqa: E402

N_SOURCES = 30
MIN_BODY, MAX_BODY = 2_000, 12_000
# 15 slots: 6 md, 4 jsonl, 3 json, 2 html; twice over gives 12/8/6/4.
PATTERN = ["md", "jsonl", "md", "json", "md", "jsonl", "html", "md",
           "json", "md", "jsonl", "md", "json", "jsonl", "html"]
SEED_NAME = "000_ed08602e7532188b.txt"


def select(corpus: list[dict]) -> list[tuple[int, dict]]:
    """(index, article) pairs, in corpus order: one per frequent source."""
    counts = Counter(a["source"] for a in corpus)
    first_index = {}
    for i, a in enumerate(corpus):
        first_index.setdefault(a["source"], i)
    sources = sorted(counts, key=lambda s: (-counts[s], first_index[s]))
    chosen = []
    for source in sources:
        for i, a in enumerate(corpus):
            if a["source"] == source and MIN_BODY <= len(a["body"]) <= MAX_BODY:
                chosen.append((i, a))
                break
        if len(chosen) == N_SOURCES:
            break
    return sorted(chosen, key=lambda pair: pair[0])


def slug(title: str, limit: int = 48) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return words[:limit].rstrip("-") or "article"


def markdown(article: dict) -> str:
    meta = {k: article[k] for k in ("title", "source", "published_at", "url", "author", "category")
            if article.get(k)}
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    return f"---\n{front}---\n\n{article['body']}\n"


def html_page(article: dict) -> str:
    e = lambda s: html.escape(s, quote=True)  # noqa: E731
    head = [f"<title>{e(article['title'])}</title>"]
    if article.get("author"):
        head.append(f'<meta name="author" content="{e(article["author"])}">')
    head.append(f'<meta property="og:site_name" content="{e(article["source"])}">')
    head.append(f'<meta property="article:published_time" content="{e(article["published_at"])}">')
    head.append(f'<link rel="canonical" href="{e(article["url"])}">')
    paragraphs = [f"<p>{e(p.strip())}</p>" for p in article["body"].split("\n") if p.strip()]
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">', *head, "</head>",
        "<body>", "<article>", f"<h1>{e(article['title'])}</h1>", *paragraphs, "</article>",
        "</body>", "</html>", ""])


def list_item(article: dict) -> dict:
    """The same article under other common field names."""
    return {"headline": article["title"], "byline": article.get("author"),
            "publisher": {"name": article["source"]}, "date": article["published_at"],
            "category": article["category"], "link": article["url"], "text": article["body"]}


def check_html(path: Path, article: dict) -> None:
    """The loader must get the page's whole (cleaned) body and metadata back."""
    result = load_path(path)
    assert not result.skipped and len(result.articles) == 1, (path, result.skipped)
    got = result.articles[0]
    want_lines = [line.strip() for line in clean_body(article["body"]).split("\n") if line.strip()]
    got_lines = [line for line in got.body.split("\n") if line.strip()]
    assert got_lines == want_lines, f"{path}: trafilatura did not return the full body"
    assert got.title == article["title"], (path, got.title)
    assert got.source == article["source"], (path, got.source)
    assert got.url == article["url"], (path, got.url)
    # trafilatura title-cases author names ("zee business" -> "Zee Business")
    assert (got.author or "").casefold() == (article.get("author") or "").casefold(), path
    assert got.published_at == normalise_date(article["published_at"]), (path, got.published_at)


def attribution(rows: list[tuple[str, dict]], seed_copied: bool) -> str:
    lines = [
        "# Sample articles: where they come from",
        "",
        "The files in `articles/` are a small sample corpus for trying the app and for tests.",
        "They are generated by `scripts/make_sample_corpus.py` (except the seed article).",
        "",
        "## The seed article",
        "",
    ]
    if seed_copied:
        lines += [
            f"`{SEED_NAME}` is the project's seed article: a news report by RT (rt.com),",
            "September 2024, \"Ukraine’s backers want talks with Putin – Bloomberg\", about a",
            "Bloomberg report on Western calls for talks with Vladimir Putin and on Vladimir",
            "Zelensky's \"victory plan\". It is third-party news text, kept unchanged, including",
            "the site's \"Read more\" and \"READ MORE:\" promo blocks that the news clean-up removes.",
            "",
        ]
    lines += [
        "## MultiHop-RAG articles",
        "",
        f"The other {len(rows)} articles come from the MultiHop-RAG corpus: Yixuan Tang and Yi Yang,",
        "\"MultiHop-RAG: Benchmarking Retrieval-Augmented Generation for Multi-Hop Queries\"",
        "(2024), arXiv:2401.15391, https://github.com/yixuantt/MultiHop-RAG. The dataset is",
        "licensed under the Open Data Commons Attribution License (ODC-BY 1.0). The article",
        "bodies are third-party news text that the authors collected through the mediastack",
        "API; copyright in each article stays with its publisher. Bodies are unchanged; only",
        "the file format differs (the `.json` list uses other field names for the same data).",
        "",
        "| file | title | source | url |",
        "|---|---|---|---|",
    ]
    cell = lambda s: (s or "").replace("|", "\\|")  # noqa: E731
    for file, a in rows:
        lines.append(f"| `{file}` | {cell(a['title'])} | {cell(a['source'])} | {a['url']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", nargs="?", default="../shared/eval/multihop-rag/corpus.json")
    parser.add_argument("--out", default="data/articles", help="articles folder to write")
    parser.add_argument("--seed", default=f"../shared/seeds/{SEED_NAME}")
    args = parser.parse_args(argv)

    corpus = json.loads(Path(args.corpus).read_text(encoding="utf-8"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    seed = Path(args.seed)
    if seed.is_file():
        shutil.copyfile(seed, out / SEED_NAME)

    rows: list[tuple[str, dict]] = []
    jsonl_lines, list_items, html_checks = [], [], []
    for n, (index, article) in enumerate(select(corpus)):
        fmt = PATTERN[n % len(PATTERN)]
        stem = f"mh{index:03d}_{slug(article['title'])}"
        if fmt == "md":
            (out / f"{stem}.md").write_text(markdown(article), encoding="utf-8")
            rows.append((f"{stem}.md", article))
        elif fmt == "html":
            (out / f"{stem}.html").write_text(html_page(article), encoding="utf-8")
            rows.append((f"{stem}.html", article))
            html_checks.append((out / f"{stem}.html", article))
        elif fmt == "jsonl":
            jsonl_lines.append(json.dumps(article, ensure_ascii=False))
            rows.append((f"multihop_sample.jsonl:{len(jsonl_lines)}", article))
        else:
            list_items.append(list_item(article))
            rows.append((f"multihop_list.json#{len(list_items) - 1}", article))
    (out / "multihop_sample.jsonl").write_text("\n".join(jsonl_lines) + "\n", encoding="utf-8")
    (out / "multihop_list.json").write_text(
        json.dumps(list_items, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out.parent / "ATTRIBUTION.md").write_text(
        attribution(rows, (out / SEED_NAME).is_file()), encoding="utf-8")
    for path, article in html_checks:
        check_html(path, article)

    formats = Counter(PATTERN[n % len(PATTERN)] for n in range(len(rows)))
    print(f"wrote {len(rows)} articles to {out}: {dict(formats)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
