"""News clean-up: drop the lines of an article body that are not the story.

Promo lines ("READ MORE: ...", "Advertisement", newsletter sign-ups, share
rows), photo captions and credits, a leading byline and "Read more" blocks.
"""

from __future__ import annotations

import re

# A line alone that opens a "Read more" promo block (caption + related headline).
_READ_MORE_ALONE = re.compile(r"read more", re.IGNORECASE)

_SHARE_BUTTON = (r"(?:facebook|twitter|x|whatsapp|reddit|e-?mail|linkedin|pinterest|flipboard"
                 r"|messenger|telegram|share|copy link|print)")
# Whole lines (stripped) that are promos, not story; matched ignoring case.
_PROMO_LINES_ANY_CASE = [
    r"read more\s*:.*",                                   # READ MORE: headline / Read more:
    r"read more (?:on|about|from) [^.!?]{1,80}:",          # Read more on ski holidays:
    r"related(?: stories| articles| content| coverage| reading| links| pages)?\s*:.*",
    r"see (?:more|also)\s*:.*",
    r"advertisement(?:\s*[-–—:|]?\s*(?:article|story|content) continues below(?: this)?"
    r"(?: ad(?:vertisement)?)?)?",
    r"(?:article|story|content) continues below(?: this)? ad(?:vertisement)?",
    r"(?:sign up|subscribe) (?:to|for|now|here)\b.{0,150}\b(?:newsletters?|inbox|e-?mails?|alerts?)\b.*",
    r"skip past newsletter promotion.*",
    r"click here\b.*",
    r"app users:? click here",
    r"like what you(?:'|’)re reading\?.*",
    r"follow us (?:on|at)\b.*",
    r"share (?:this|the) (?:article|story|post|page)\b.*",
    rf"{_SHARE_BUTTON}(?:\s+{_SHARE_BUTTON})+",          # a row of share buttons
    r"(?:image|photo|photograph|picture|pic|(?:image|photo) credit|photo illustration)s?\s*:.*",
    r"\(\s*(?:top |main |lead |header )?(?:photo|image|picture)s?\b.*\)",   # (Photo by ...)
    r"(?:photo|image|picture)s?\s+(?:by|courtesy of|credit)\b.{0,100}(?<![.!?])",
    r"embed from getty images",
]
_NAME = r"[A-Z][\w.'’&-]*"
_PROMO_LINES_EXACT_CASE = [
    # a credit alone: "Getty Images", "(AFP via Getty Images)", "Jane Doe / Reuters"
    rf"\(?(?:(?:{_NAME}\s+)*{_NAME}\s*(?:/|\||\bvia\b)\s*)*(?:Getty Images|Getty|Shutterstock"
    rf"|Alamy|AP Photo|AFP|AP|Reuters|EPA)(?:\s+file)?\)?",
    r"GO DEEPER\b.*",                                      # The Athletic's related link
]
_PROMO_ANY_CASE = re.compile("|".join(f"(?:{p})" for p in _PROMO_LINES_ANY_CASE), re.IGNORECASE)
_PROMO_EXACT_CASE = re.compile("|".join(f"(?:{p})" for p in _PROMO_LINES_EXACT_CASE))
# A caption whose last words are the photo credit.
_CAPTION_CREDIT_END = re.compile(
    r"(?:\bPhotograph:\s*[^.!?]{1,80}|\bCredit:\s*[^.!?]{1,40}|\((?:[^()]*\s)?Getty(?: Images)?\)"
    r"|\bvia Getty Images(?: file)?)$")
# "By Jane Doe", "By Chad Jennings, C. Trent Rosecrans and Stephen J. Nesbitt"
_BYLINE = re.compile(
    rf"(?:By|BY):?\s+{_NAME}(?:\s+{_NAME})*(?:(?:\s*,|\s+(?:and|&|\||[–—-]))\s+{_NAME}(?:\s+{_NAME})*)*")
_MAX_PROMO_LINE = 500  # longer lines are paragraphs, never promos
_MAX_BLOCK_LINE = 300  # "Read more" block: caption and headline are short


def clean_body(text: str) -> str:
    """Drop the lines of a news body that are not part of the story.

    Only whole lines go: promo lines ("READ MORE: ...", "Advertisement",
    "Sign up for our newsletter ...", share rows), photo captions and credits,
    a "By Jane Doe" byline at the very top, and the "Read more" block (the
    line "Read more", then up to 3 short lines until the next blank line: a
    photo caption and the related headline). Every kept line is unchanged;
    runs of blank lines become one blank line. A sentence that merely
    contains "read more" stays: patterns match whole lines from their start.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    seen_content = False
    i = 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        i += 1
        if not stripped:
            kept.append("")
            continue
        if _READ_MORE_ALONE.fullmatch(stripped):
            i = _end_of_read_more_block(lines, i)
            continue
        at_top, seen_content = not seen_content, True
        if (at_top and len(stripped) <= 120 and _BYLINE.fullmatch(stripped)) or _is_promo(stripped):
            continue
        kept.append(line)
    return _collapse_blank_lines(kept)


def _is_promo(stripped: str) -> bool:
    if len(stripped) > _MAX_PROMO_LINE:
        return False
    return bool(_PROMO_ANY_CASE.fullmatch(stripped) or _PROMO_EXACT_CASE.fullmatch(stripped)
                or (len(stripped) < _MAX_BLOCK_LINE and _CAPTION_CREDIT_END.search(stripped)))


def _end_of_read_more_block(lines: list[str], start: int) -> int:
    """Where the lines after "Read more" end: past the block, or ``start``.

    The block is the lines up to the next blank line (after skipping blank
    lines right after "Read more"); it goes only when it is 1 to 3 lines,
    each shorter than 300 characters. Otherwise only "Read more" goes.
    """
    j = start
    while j < len(lines) and not lines[j].strip():
        j += 1
    block_start = j
    while j < len(lines) and lines[j].strip():
        j += 1
    block = lines[block_start:j]
    if 1 <= len(block) <= 3 and all(len(line) < _MAX_BLOCK_LINE for line in block):
        return j
    return start


def _collapse_blank_lines(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)
