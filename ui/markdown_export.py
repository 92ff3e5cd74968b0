"""Text for the downloaded conversation: safe in any Markdown viewer, readable as plain text.

No Streamlit here. The page escapes every Markdown character
(:func:`rag.ui.markdown_text.md_escape`); a file read raw would then be full
of backslashes ("approved\\." "\\[1\\]"). The export escapes only what could
change how a viewer shows the text or make it fetch or run something:

- raw HTML and entities: every ``<``, and ``&`` where it starts an entity;
- links and images: every ``[`` and ``]`` in plain text (so no ``[x](javascript:...)``,
  no ``![pixel](...)``), and in answers every link but an http(s) ``[label](url)``,
  every ``!`` before ``[`` and every reference definition (``[ref]: url``); the
  answers' ``[n]`` markers stay as they are (no definition exists for them);
- emphasis, code and strike-through characters (``*``, `````, ``~``, and ``_`` at a
  word edge), ``\\``, and ``$`` when two of them could make a formula;
- a character that would open a heading, quote or list where a piece starts.
"""

from __future__ import annotations

import re

from rag.ui.markdown_text import safe_url

_INLINE = re.compile(r"[\\`*~<\[\]]|&(?=#?\w+;)|(?<!\w)_|_(?!\w)")
_LEADING_BLOCK = re.compile(r"^(\s*)([#>+\-=|]|\d+(?=[.)]))")
_LINK = re.compile(r"(?P<bang>!?)\[(?P<label>[^\[\]\n]{1,300})\]\(\s*(?P<url>[^()\s]{1,2000})\s*\)")
_MARKER = re.compile(r"\[\d{1,3}\]")
_DEFINITION = re.compile(r"^(\s{0,3})\[(?=[^\]\n]*\]:)", re.MULTILINE)
_ANSWER_UNSAFE = re.compile(r"<|&(?=#?\w+;)|!(?=\[)")


def _dollars(text: str) -> str:
    return text.replace("$", "\\$") if text.count("$") >= 2 else text


def export_text(text: str) -> str:
    """``text`` (a question, title, quote or message) as one line of literal Markdown."""
    line = re.sub(r"\s+", " ", str(text)).strip()
    line = _dollars(_INLINE.sub(lambda m: "\\" + m.group(0), line))
    return _LEADING_BLOCK.sub(lambda m: m.group(1) + "\\" + m.group(2), line, count=1)


def export_answer(text: str) -> str:
    """A model's answer with its own formatting kept and its ``[n]`` markers as they are;
    raw HTML, images, reference definitions and every link but an http(s) one neutralised."""
    text = _DEFINITION.sub(lambda m: m.group(1) + "\\[", str(text).strip())
    out, last = [], 0
    for match in _LINK.finditer(text):
        out.append(_plain_answer(text[last:match.start()]))
        url = safe_url(match.group("url"))
        label = _plain_answer(match.group("label")).replace("[", "\\[").replace("]", "\\]")
        if url and not match.group("bang"):
            out.append(f"[{label}]({url})")
        else:
            bang = "\\!" if match.group("bang") else ""
            out.append(f"{bang}\\[{label}\\]({_plain_answer(match.group('url'))})")
        last = match.end()
    out.append(_plain_answer(text[last:]))
    return _dollars("".join(out))


def _plain_answer(piece: str) -> str:
    """Answer text outside links: HTML, entities and image marks escaped; a bracket that is
    not a citation marker escaped too (no other link or reference can form)."""
    piece = _ANSWER_UNSAFE.sub(lambda m: "\\" + m.group(0), piece)
    out, last = [], 0
    for match in _MARKER.finditer(piece):
        out.append(re.sub(r"(?<!\\)[\[\]]", lambda m: "\\" + m.group(0), piece[last:match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(re.sub(r"(?<!\\)[\[\]]", lambda m: "\\" + m.group(0), piece[last:]))
    return "".join(out)
