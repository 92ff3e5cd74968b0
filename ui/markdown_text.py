"""Text made safe and readable for Streamlit's Markdown (and the Markdown export).

No Streamlit here. Article text, titles, file names and messages are escaped
with :func:`md_escape`; model answers keep their formatting but lose raw HTML,
LaTeX, images and every link that is not http(s), and their ``[n]`` markers
link to the source entries (:func:`answer_markdown`); a URL is a link target
only when :func:`safe_url` accepts it; a cited passage is cut around its
highlighted quote (:func:`highlighted_passage`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote, urlsplit

# "@" too: GitHub-flavoured Markdown turns a bare e-mail address into a mailto: link.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&$:~=\"'^@])")
# A backslash does not stop that: Streamlit's Markdown (remark-gfm) finds
# addresses in the text after escapes are undone. A word joiner (invisible,
# not a word character) after "@" breaks the address pattern, so no mailto:
# or xmpp: link is ever made; the address still reads and copies as typed
# but for that one invisible character.
_AT = "\\@\u2060"
# In answers: a citation marker [n], or an inline link [label](target) (the only
# link syntax kept, and only for an http(s) target).
_ANSWER_TOKEN = re.compile(r"\[(?P<n>\d{1,3})\]"
                           r"|\[(?P<label>[^\[\]\n]{1,300})\]\(\s*(?P<url>[^()\s]{1,2000})\s*\)")
# Everything else in answers: HTML, entities, LaTeX, "!" and brackets (so no
# image and no other link, reference, footnote or :directive[...]) and "@" (no
# mailto: autolink) are shown as text.
_ANSWER_SPECIAL = re.compile(r"([\\<>&$!\[\]@])")


def md_escape(text: str, inline: bool = False) -> str:
    """``text`` shown literally by Streamlit's Markdown: every Markdown, HTML,
    LaTeX (``$``) and directive (``:``) character is backslash-escaped, and
    line breaks are kept (``inline``: whitespace runs become one space, and
    leading and trailing spaces are kept, for pieces of one paragraph)."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    escaped = _MD_SPECIAL.sub(r"\\\1", text).replace("\\@", _AT)
    if inline:
        return re.sub(r"\s+", " ", escaped)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", escaped)]
    return "\n\n".join("  \n".join(line.strip() for line in p.split("\n")) for p in paragraphs if p)


def anchor_id(message_id: str, n: int) -> str:
    """The element id of source entry ``n`` under the answer ``message_id``."""
    return f"src-{message_id}-{n}"


def safe_url(url: str | None) -> str | None:
    """``url`` as a Markdown link target if it is an absolute http(s) URL, else None
    (``javascript:``, ``data:``, ``vbscript:``, relative and malformed URLs)."""
    if not url:
        return None
    text = str(url).strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(text, safe=":/?#&=%+@,;~!*'-._")


def answer_markdown(text: str, message_id: str, n_citations: int) -> str:
    """A model's answer as Markdown: formatting kept; raw HTML, LaTeX, images and
    every link but an http(s) ``[label](url)`` shown as text; each valid ``[n]``
    a link to its source entry below the answer (``n_citations`` 0: none)."""

    def plain(piece: str) -> str:
        return _ANSWER_SPECIAL.sub(r"\\\1", piece).replace("\\@", _AT)

    def token(match: re.Match) -> str:
        if match.group("n"):
            n = int(match.group("n"))
            return f"[\\[{n}\\]](#{anchor_id(message_id, n)})" if 1 <= n <= n_citations else plain(match.group(0))
        url = safe_url(match.group("url"))
        return f"[{plain(match.group('label'))}]({url})" if url else plain(match.group(0))

    text = str(text)
    out, last = [], 0
    for match in _ANSWER_TOKEN.finditer(text):
        out += [plain(text[last:match.start()]), token(match)]
        last = match.end()
    return "".join(out) + plain(text[last:])


def normalize_space(text: str) -> str:
    """``text`` with every run of whitespace (no-break spaces too) as one space."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


def _find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` lies in ``text`` (both space-normalised); the model may have moved
    punctuation, so a long enough quote is also tried without its ends."""
    q = normalize_space(quote)
    if not q:
        return None
    start = text.find(q)
    if start < 0:
        core = q.strip(" .!?…\"'“”‘’")
        start = text.find(core) if len(core) > 20 else -1
        q = core
    return (start, start + len(q)) if start >= 0 else None


def highlighted_passage(passage: str, quotes: str | Sequence[str], context_chars: int = 180) -> tuple[str, bool]:
    """The passage as escaped Markdown with each of ``quotes`` highlighted once, cut to the
    quotes and up to ``context_chars`` around them. Returns (markdown, any quote found)."""
    text = normalize_space(passage)
    spans: list[tuple[int, int]] = []
    for quote in [quotes] if isinstance(quotes, str) else quotes:
        span = _find_quote(text, quote or "")
        if span and not any(s < span[1] and span[0] < e for s, e in spans):  # each sentence once
            spans.append(span)
    if not spans:
        snippet = text if len(text) <= 2 * context_chars else text[: 2 * context_chars].rsplit(" ", 1)[0] + " …"
        return md_escape(snippet), False
    spans.sort()
    first, last = spans[0][0], spans[-1][1]
    lo = max(0, first - context_chars)
    hi = min(len(text), last + context_chars)
    if lo > 0:
        lo = text.find(" ", lo) + 1 or lo
    if hi < len(text):
        cut = text.rfind(" ", last, hi)
        hi = cut if cut > last else hi
    parts = ["… " if lo > 0 else ""]
    pos = lo
    for start, end in spans:
        parts.append(md_escape(text[pos:start], inline=True))
        parts.append(f":orange-background[{md_escape(text[start:end], inline=True)}]")
        pos = end
    parts.append(md_escape(text[pos:hi] + (" …" if hi < len(text) else ""), inline=True))
    return "".join(parts), True


def format_date(value: str | None) -> str | None:
    """An ISO date or timestamp as "5 Mar 2024" (None for nothing)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)[:10]
    return moment.strftime("%-d %b %Y")
