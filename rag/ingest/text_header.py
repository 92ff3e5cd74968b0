"""A plain-text article's optional header: ``Source:``, ``Date:``, ``URL:`` lines at the top.

A ``.txt`` file may open with a block of ``Key: value`` lines, ended by a blank
line, before its title line::

    Source: RT
    Date: 2024-09-24
    URL: https://www.rt.com/news/...

    Ukraine's backers want talks with Putin – Bloomberg

    The article text...

The block counts as a header only when every line of it is ``Key: value`` with
a key below (case is ignored), so an ordinary first line such as "Update: markets
fall" stays the title. Keys: ``Source`` (or ``Outlet``, ``Publisher``), ``Date``
(or ``Published``), ``URL`` (or ``Link``) and ``Author`` (or ``Byline``); the
title stays the first line after the block. The values go through the same field mapping and date parsing as a
JSON article's (rag.ingest.records).
"""

from __future__ import annotations

import re

HEADER_KEYS = {
    "source": "source", "outlet": "source", "publisher": "source", "site_name": "source",
    "date": "published_at", "published": "published_at", "published_at": "published_at",
    "url": "url", "link": "url",
    "author": "author", "authors": "author", "byline": "author",
}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z _-]{0,20}?)\s*:\s*(.*?)\s*$")
MAX_HEADER_LINES = 12


def split_header(text: str) -> tuple[dict[str, str], str]:
    """(the header's fields by article field name, the text after it); ({}, text) when the
    file has no header block."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    fields: dict[str, str] = {}
    for i in range(start, min(len(lines), start + MAX_HEADER_LINES + 1)):
        line = lines[i]
        if not line.strip():
            return (fields, "\n".join(lines[i + 1:])) if fields else ({}, text)
        match = _LINE.match(line)
        key = HEADER_KEYS.get(re.sub(r"[ -]+", "_", match.group(1).strip().lower())) if match else None
        if key is None or not match.group(2):
            return {}, text
        fields.setdefault(key, match.group(2))
    return {}, text  # no blank line after it: not a header
