"""Article loaders, the news clean-up and the sample corpus."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from rag.ingest import articles
from rag.ingest.articles import article_id_for, load_path, load_paths
from rag.ingest.cleaning import clean_body
from rag.ingest.records import normalise_date

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"
SEED = SAMPLE / "000_ed08602e7532188b.txt"

HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Rivers rise after a week of rain</title>
<meta name="author" content="Jane Doe">
<meta property="og:site_name" content="The Example Herald">
<meta property="article:published_time" content="2024-03-05T14:30:00+01:00">
<link rel="canonical" href="https://example.com/news/rivers-rise">
</head>
<body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Rivers rise after a week of rain</h1>
<p>Rivers across the region rose to their highest level in a decade on Tuesday, officials said.</p>
<p>Advertisement</p>
<p>Emergency crews moved sandbags to the lowest streets &amp; asked residents to stay alert.</p>
<p>More rain is expected on Thursday, according to the weather service.</p>
</article>
<footer>Copyright The Example Herald</footer>
</body>
</html>
"""


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only(result):
    assert not result.skipped, result.skipped
    assert len(result.articles) == 1
    return result.articles[0]


# -- each format ------------------------------------------------------------


def test_txt_first_line_is_title(tmp_path):
    write(tmp_path, "a.txt", "\n  Storm hits coast  \n\nWinds reached 120 km/h.\n\nPower is out.\n")
    a = only(load_path(tmp_path))
    assert a.title == "Storm hits coast"
    assert a.body == "Winds reached 120 km/h.\n\nPower is out."
    assert a.id == article_id_for("a.txt")
    assert a.path == str(tmp_path / "a.txt")
    assert a.source is a.url is a.published_at is a.author is None


def test_markdown_front_matter(tmp_path):
    write(tmp_path, "m.md", "---\ntitle: Budget passes\nsource: Daily News\n"
          "published_at: 2024-02-01T09:00:00Z\nurl: https://news.example/budget\n"
          "author: [Ann Lee, Bo Chan]\ncategory: politics\n---\n\n"
          "# Budget passes\n\nThe budget passed by 60 votes to 40.\n")
    a = only(load_path(tmp_path))
    assert a.title == "Budget passes"
    assert a.body == "The budget passed by 60 votes to 40."  # heading repeating the title goes
    assert (a.source, a.url, a.author) == ("Daily News", "https://news.example/budget", "Ann Lee, Bo Chan")
    assert a.published_at == "2024-02-01T09:00:00+00:00"
    assert a.id == article_id_for("https://news.example/budget")
    assert a.extra == {"category": "politics"}


def test_markdown_title_from_heading_or_stem(tmp_path):
    write(tmp_path, "h.md", "Intro line.\n\n# The real headline\n\nStory text.\n")
    write(tmp_path, "plain.markdown", "Just a story, no heading.\n")
    result = load_path(tmp_path)
    assert not result.skipped
    by_name = {Path(a.path).name: a for a in result.articles}
    assert by_name["h.md"].title == "The real headline"
    assert by_name["h.md"].body == "Intro line.\n\nStory text."
    assert by_name["plain.markdown"].title == "plain"
    assert by_name["plain.markdown"].body == "Just a story, no heading."


def test_html_main_text_and_metadata(tmp_path):
    write(tmp_path, "page.html", HTML_PAGE)
    a = only(load_path(tmp_path))
    assert a.title == "Rivers rise after a week of rain"
    assert a.author == "Jane Doe"
    assert a.source == "The Example Herald"
    assert a.url == "https://example.com/news/rivers-rise"
    assert a.published_at == "2024-03-05T13:30:00+00:00"
    assert a.body == (
        "Rivers across the region rose to their highest level in a decade on Tuesday, officials said.\n\n"
        "Emergency crews moved sandbags to the lowest streets & asked residents to stay alert.\n\n"
        "More rain is expected on Thursday, according to the weather service.")
    assert a.id == article_id_for("https://example.com/news/rivers-rise")


def test_json_object_and_list_with_common_field_names(tmp_path):
    write(tmp_path, "one.json", json.dumps({
        "title": "One", "body": "Body one.", "source": "Src", "published_at": "2023-11-27",
        "url": "https://x.example/1", "author": "A B", "category": "science"}))
    write(tmp_path, "many.json", json.dumps([
        {"headline": "Two", "text": ["Para one.", "Para two."], "publisher": {"name": "Pub"},
         "date": "Mon, 27 Nov 2023 08:45:59 GMT", "link": "https://x.example/2",
         "authors": ["C D", {"name": "E F"}], "lang": "en"},
        {"title": "Three", "content": "Body three.", "site_name": "Site", "pubDate": "2023/11/28",
         "byline": "G H"},
        {"title": "Four", "article": "Body four.", "outlet": "Out", "datetime": 1700000000},
        {"title": "Five", "maintext": "Body five.", "sitename": "Sn", "publication_date": "not a date"},
    ]))
    result = load_path(tmp_path)
    assert not result.skipped
    a = {x.title: x for x in result.articles}
    assert [x.title for x in result.articles] == ["Two", "Three", "Four", "Five", "One"]
    assert (a["One"].body, a["One"].source, a["One"].published_at) == ("Body one.", "Src", "2023-11-27")
    assert a["One"].extra == {"category": "science"}
    assert a["One"].id == article_id_for("https://x.example/1")
    assert a["Two"].body == "Para one.\n\nPara two."
    assert (a["Two"].source, a["Two"].author) == ("Pub", "C D, E F")
    assert a["Two"].published_at == "2023-11-27T08:45:59+00:00"
    assert a["Two"].url == "https://x.example/2"
    assert a["Two"].extra == {"lang": "en"}
    assert (a["Three"].source, a["Three"].author, a["Three"].published_at) == ("Site", "G H", "2023-11-28")
    assert a["Three"].id == article_id_for("many.json#1")
    assert (a["Four"].source, a["Four"].published_at) == ("Out", "2023-11-14T22:13:20+00:00")
    assert a["Five"].source == "Sn"
    assert a["Five"].published_at is None  # unparseable date: dropped, article kept
    assert a["Five"].extra == {}


def test_jsonl_bad_line_skips_only_that_line(tmp_path):
    path = write(tmp_path, "feed.jsonl", "\n".join([
        json.dumps({"title": "A", "body": "Body A."}),
        '{"title": "B", "body": ',
        "",
        json.dumps({"title": "C", "body": "Body C."}),
    ]) + "\n")
    result = load_path(tmp_path)
    assert [a.title for a in result.articles] == ["A", "C"]
    assert [a.id for a in result.articles] == [article_id_for("feed.jsonl#0"), article_id_for("feed.jsonl#2")]
    assert len(result.skipped) == 1
    err = result.skipped[0]
    assert err.path == f"{path}:2"
    assert f"{path}:2" in str(err) and "malformed JSON" in err.reason


@pytest.mark.parametrize("item, field", [
    ({"title": "T", "body": 42}, "body"),
    ({"title": "T", "body": [1, 2]}, "body"),
    ({"title": {"en": "T"}, "body": "Text."}, "title"),
    ({"title": "T", "body": "Text.", "url": ["https://a"]}, "url"),
    ({"title": "T", "body": "Text.", "author": 7}, "author"),
    ({"title": "T", "body": "Text.", "source": ["S"]}, "source"),
])
def test_wrong_field_type_skips_that_item(tmp_path, item, field):
    path = write(tmp_path, "list.json", json.dumps([{"title": "Good", "body": "Fine."}, item]))
    result = load_path(tmp_path)
    assert [a.title for a in result.articles] == ["Good"]
    assert len(result.skipped) == 1
    err = result.skipped[0]
    assert err.path == str(path)
    assert "item 1" in err.reason and f"'{field}'" in err.reason


def test_duplicate_ids_keep_the_first(tmp_path):
    first = write(tmp_path, "a.json", json.dumps({"title": "A", "body": "x", "url": "https://same"}))
    second = write(tmp_path, "b.md", "---\ntitle: B\nurl: https://same\n---\nbody\n")
    write(tmp_path, "c.json", json.dumps([{"title": "C", "body": "y", "url": "https://other"},
                                          {"title": "D", "body": "z", "url": "https://other"}]))
    result = load_path(tmp_path)
    assert [a.title for a in result.articles] == ["A", "C"]
    assert len(result.skipped) == 2
    by_path = {e.path: e.reason for e in result.skipped}
    assert f"duplicate of {first}" in by_path[str(second)]
    assert "item 1: duplicate of" in by_path[str(tmp_path / "c.json")]


@pytest.mark.parametrize("value, expected", [
    ("2023-11-27T08:45:59+00:00", "2023-11-27T08:45:59+00:00"),
    ("2023-11-27T10:45:59+02:00", "2023-11-27T08:45:59+00:00"),
    ("2023-11-27T08:45:59.123Z", "2023-11-27T08:45:59+00:00"),
    ("2023-11-27 08:45", "2023-11-27T08:45:00+00:00"),
    ("2023-11-27T00:00:00Z", "2023-11-27T00:00:00+00:00"),
    ("Nov 27, 2023 3:45 PM EST", "2023-11-27T20:45:00+00:00"),
    ("Mon, 27 Nov 2023 08:45:59 GMT", "2023-11-27T08:45:59+00:00"),
    ("2023-11-27", "2023-11-27"),
    ("27 November 2023", "2023-11-27"),
    (date(2023, 11, 27), "2023-11-27"),
    (datetime(2023, 11, 27, 8, 45, 59), "2023-11-27T08:45:59+00:00"),
    (1700000000, "2023-11-14T22:13:20+00:00"),
    (1700000000000, "2023-11-14T22:13:20+00:00"),
    ("2023", None),
    ("November 2023", None),
    ("three days ago", None),
    ("", None),
    (None, None),
    (True, None),
    ({"$date": 1}, None),
])
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected


def test_date_normalised_while_loading(tmp_path):
    write(tmp_path, "d.jsonl", "\n".join(json.dumps(x) for x in [
        {"title": "A", "body": "a", "date": "2024-01-02T03:04:05-05:00"},
        {"title": "B", "body": "b", "published_at": "sometime"},
    ]))
    result = load_path(tmp_path)
    assert not result.skipped
    assert [a.published_at for a in result.articles] == ["2024-01-02T08:04:05+00:00", None]


# -- bad input: one error naming the file, the good file beside it loads -------


def _nested_json(depth: int) -> str:
    return "[" * depth + "]" * depth


BAD_FILES = {
    "empty": ("bad.txt", b"", "empty"),
    "blank": ("bad.md", b"  \n\n \t\n", "empty"),
    "title only": ("bad.txt", b"Just a title\n\n", "no body text"),
    "binary": ("bad.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    "utf-16": ("bad.md", "Title\n\nBody".encode("utf-16"), "binary"),
    "not utf-8": ("bad.txt", "Titre\n\nCafé crème".encode("latin-1"),
                  "not valid UTF-8; re-save the file as UTF-8"),
    "malformed json": ("bad.json", b'{\n  "title": "x",\n  "body": \n}', "line 4, column 1"),
    "jsonl lines in .json": ("bad.json", b'{"title": "a", "body": "b"}\n{"title": "c", "body": "d"}\n',
                             "name it .jsonl"),
    "nested json": ("bad.json", _nested_json(100_000).encode(), "nested too deeply"),
    "json scalar": ("bad.json", b"42", "must be an article object"),
    "json without body": ("bad.json", b'{"title": "No body"}', "no body text"),
    "bad front matter": ("bad.md", b"---\ntitle: [unclosed\n---\nBody\n", "front matter"),
    "html without text": ("bad.html", b"<html><head><title>x</title><script>var a=1;</script>"
                          b"</head><body></body></html>", "no main article text"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_file_gives_one_error_and_good_files_load(tmp_path, kind):
    name, content, reason = BAD_FILES[kind]
    write(tmp_path, "good.txt", "Good title\n\nGood body.\n")
    bad = write(tmp_path, name, content)
    result = load_path(tmp_path)
    assert [a.title for a in result.articles] == ["Good title"]
    assert len(result.skipped) == 1, result.skipped
    err = result.skipped[0]
    assert err.path == str(bad) and str(bad) in str(err)
    assert reason in err.reason


def test_missing_html_parser_skips_only_the_html_files(tmp_path, monkeypatch):
    """Without lxml_html_clean (what pip 23.2 left out), jusText under trafilatura
    cannot be imported: the HTML page is skipped with a message, the rest loads."""
    for name in [m for m in sys.modules if m.split(".")[0] in ("trafilatura", "justext")] + ["lxml.html.clean"]:
        monkeypatch.delitem(sys.modules, name, raising=False)  # imported afresh, restored afterwards
    monkeypatch.setitem(sys.modules, "lxml_html_clean", None)  # `import lxml_html_clean` fails
    write(tmp_path, "good.txt", "Good title\n\nGood body.\n")
    page = write(tmp_path, "page.html", HTML_PAGE)
    before = set(sys.modules)
    try:
        result = load_path(tmp_path)
    finally:
        for name in set(sys.modules) - before:  # half-imported modules of the failed import
            del sys.modules[name]
    assert [a.title for a in result.articles] == ["Good title"]
    assert [err.path for err in result.skipped] == [str(page)]
    reason = result.skipped[0].reason
    assert "lxml_html_clean" in reason and "pip install" in reason and "convert this page" in reason


def test_file_over_size_limit(tmp_path):
    write(tmp_path, "good.txt", "Good title\n\nGood body.\n")
    bad = write(tmp_path, "big.txt", "Big\n\n" + "word " * 400)
    result = load_path(tmp_path, max_bytes=1000)
    assert [a.title for a in result.articles] == ["Good title"]
    assert len(result.skipped) == 1
    err = result.skipped[0]
    assert err.path == str(bad)
    assert "0.001 MB limit" in err.reason and "split" in err.reason


def test_unreadable_file(tmp_path, monkeypatch):
    write(tmp_path, "good.txt", "Good title\n\nGood body.\n")
    bad = write(tmp_path, "locked.txt", "Locked\n\nSecret.\n")
    bad.chmod(0)
    if os.access(bad, os.R_OK):  # root reads anything: make open() refuse like the OS would

        def refusing_open(file, *args, **kwargs):
            if Path(file) == bad:
                raise PermissionError(13, "Permission denied", str(file))
            return builtins.open(file, *args, **kwargs)

        monkeypatch.setattr(articles, "open", refusing_open, raising=False)
    try:
        result = load_path(tmp_path)
    finally:
        bad.chmod(0o644)
    assert [a.title for a in result.articles] == ["Good title"]
    assert len(result.skipped) == 1
    assert result.skipped[0].path == str(bad)
    assert "permission denied" in result.skipped[0].reason


def test_utf8_bom_and_crlf_are_fine(tmp_path):
    write(tmp_path, "bom.txt", "\ufeffTitle\r\n\r\nLine one.\r\nLine two.\r\n".encode("utf-8"))
    a = only(load_path(tmp_path))
    assert (a.title, a.body) == ("Title", "Line one.\nLine two.")


def test_missing_path_and_unsupported_file(tmp_path):
    pdf = write(tmp_path, "paper.pdf", b"%PDF-1.4")
    result = load_paths([tmp_path / "nope", pdf])
    assert not result.articles
    assert [e.path for e in result.skipped] == [str(tmp_path / "nope"), str(pdf)]
    assert "no such file" in result.skipped[0].reason
    assert "unsupported file type .pdf" in result.skipped[1].reason


# -- walking folders --------------------------------------------------------


def test_walk_is_recursive_sorted_and_ignores_hidden_and_unknown(tmp_path):
    root = tmp_path / "corpus"
    write(root, "b.txt", "B\n\nb")
    write(root, "a.txt", "A\n\na")
    write(root, "sub/c.md", "# C\n\nc")
    write(root, "sub/deeper/d.txt", "D\n\nd")
    write(root, ".hidden.txt", "H\n\nh")
    write(root, ".git/e.txt", "E\n\ne")
    write(root, "notes.docx", b"\x00binary")
    write(root, "image.png", b"\x89PNG\x00")
    (root / "sub" / "loop").symlink_to(root, target_is_directory=True)
    result = load_path(root)
    assert not result.skipped
    assert [a.title for a in result.articles] == ["A", "B", "C", "D"]
    assert result.articles[3].id == article_id_for("sub/deeper/d.txt")


def test_ids_survive_moving_the_folder(tmp_path):
    write(tmp_path / "one", "x/a.txt", "A\n\na")
    write(tmp_path / "one", "list.json", json.dumps([{"title": "L", "body": "l"}]))
    shutil.copytree(tmp_path / "one", tmp_path / "elsewhere" / "two")
    ids_one = [a.id for a in load_path(tmp_path / "one").articles]
    ids_two = [a.id for a in load_path(tmp_path / "elsewhere" / "two").articles]
    assert ids_one == ids_two == [article_id_for("list.json#0"), article_id_for("x/a.txt")]


# -- the seed article and the news clean-up -----------------------------------

SEED_DROPPED = {
    "Read more",
    "Vladimir Zelensky arrives at a meeting of the United Nations Security Council in New York "
    "on September 24, 2024.",
    "Zelensky speaks out against peace talks with Russia",
    "READ MORE: US must get out of Ukraine – Trump",
}


def test_seed_article_title_and_clean_body():
    a = only(load_path(SEED))
    assert a.title == "Ukraine’s backers want talks with Putin – Bloomberg"
    body_lines = a.body.split("\n")
    assert "Read more" not in body_lines
    assert not any(line.startswith("READ MORE:") for line in body_lines)
    assert "Vladimir Zelensky arrives at a meeting of the United Nations Security Council" not in a.body
    assert "Zelensky speaks out against peace talks with Russia" not in a.body
    original = SEED.read_text(encoding="utf-8").split("\n")
    assert original[:2] == ["Source: RT", ""] and a.source == "RT"  # the header block, then the text
    original = original[2:]
    assert SEED_DROPPED <= set(original)  # the fixture still has what we drop
    kept = [line for line in original[1:] if line.strip() and line not in SEED_DROPPED]
    assert kept == [line for line in body_lines if line.strip()]  # verbatim, same order
    assert "\n\n\n" not in a.body


def test_clean_body_drops_promo_lines_only():
    text = "\n".join([
        "By Jane Doe",
        "",
        "The council voted on Monday. Readers can read more about it in the minutes.",
        "Advertisement",
        "ADVERTISEMENT",
        "Read more: Council faces budget gap",
        "Read More",
        "RELATED: Earlier vote fails",
        "Related:",
        "Sign up for our newsletter to get the latest news.",
        "Click here to subscribe.",
        "Follow us on Twitter",
        "Share this article",
        "Facebook Twitter Whatsapp Reddit Email Share",
        "Image: City council",
        "Photo: John Smith",
        "(Photo by John Smith/Getty Images)",
        "Getty Images",
        "The mayor speaks to reporters. Photograph: Ann Lee/Reuters",
        "",
        "",
        "",
        "Read more books, the librarian said, because it helps.",
        "Turnout was 40%.  ",
    ])
    assert clean_body(text) == "\n".join([
        "The council voted on Monday. Readers can read more about it in the minutes.",
        "",
        "Read more books, the librarian said, because it helps.",
        "Turnout was 40%.  ",
    ])


def test_clean_body_byline_only_at_the_top():
    assert clean_body("By Chad Jennings, C. Trent Rosecrans and Stephen J. Nesbitt\n\nStory.") == "Story."
    text = "By Thursday afternoon, the storm had passed.\n\nBy Jane Doe"
    assert clean_body(text) == text


def test_read_more_block_only_when_short():
    short = "Before.\n\nRead more\n\nA caption.\nA headline\n\nAfter."
    assert clean_body(short) == "Before.\n\nAfter."
    long_block = "Before.\n\nRead more\n\n" + "\n".join(f"Line {i}." for i in range(4)) + "\n\nAfter."
    assert clean_body(long_block) == long_block.replace("Read more\n\n", "")
    long_line = "Before.\n\nRead more\n\n" + "x" * 300 + "\n\nAfter."
    assert clean_body(long_line) == long_line.replace("Read more\n\n", "")


# -- the sample corpus ------------------------------------------------------


def test_sample_corpus_loads_completely():
    result = load_path(SAMPLE)
    assert not result.skipped, result.skipped
    assert len(result.articles) == 31
    suffixes = [Path(a.path).suffix for a in result.articles]
    assert {s: suffixes.count(s) for s in set(suffixes)} == {
        ".txt": 1, ".md": 12, ".jsonl": 8, ".json": 6, ".html": 4}
    for a in result.articles:
        assert a.title and a.body
        if a.path != str(SEED):
            assert a.source and a.url and a.published_at, a.path
            assert a.id == article_id_for(a.url)
    assert not (SAMPLE / "ATTRIBUTION.md").exists()
    assert (SAMPLE.parent / "ATTRIBUTION.md").is_file()
