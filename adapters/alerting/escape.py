"""Make tenant-controlled text safe for each kind of sink.

The engine renders a rule's templates with instance names, console output and
user names in them and does not escape: it cannot know where the text goes.
Here, per dialect, we make sure such text cannot ping a room (``@channel``,
``@here``, ``<!channel>``), inject markup or disguised links, hide itself with
control or bidi characters, or blow past a service's size limit.
"""

from __future__ import annotations

import html
import re
from typing import Literal

Dialect = Literal["markdown", "plain", "terminal", "raw"]

ZWSP = "\u200b"
MARKER = "… [truncated {n} chars]"

# C0/C1 controls (keeping tab and newline), DEL, and bidi overrides/isolates that
# can make text display differently from what it says.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
# '@' introducing a mention in Slack/Mattermost/Matrix/Discord/Teams, and Slack's
# special mentions written as '<!channel>', '<!here>', '<!subteam^ID>'.
_MENTION = re.compile(r"@(?=[\w.\-])")
_SLACK_SPECIAL = re.compile(r"<!")
# Clickable schemes and bare www. hosts that chat services auto-link.
_URL_SCHEME = re.compile(r"(?i)\b(http|https|ftp|file|mailto|javascript|data)(:)")
_WWW = re.compile(r"(?i)\bwww\.")
# CommonMark punctuation that can start emphasis, code, links, images, headings, tables.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#|~!{}])")


def clean(text: str) -> str:
    """Drop control and bidi characters; normalise newlines."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def break_mentions(text: str) -> str:
    """Insert a zero-width space after '@' so no service reads it as a mention."""
    return _SLACK_SPECIAL.sub("<" + ZWSP + "!", _MENTION.sub("@" + ZWSP, text))


def defang_links(text: str) -> str:
    """``https://x`` -> ``https[:]//x``: still readable, no longer a link."""
    text = _URL_SCHEME.sub(lambda m: f"{m.group(1)}[:]", text)
    return _WWW.sub("www[.]", text)


def escape(text: str, dialect: Dialect, *, single_line: bool = False) -> str:
    """Escape ``text`` for ``dialect`` (no truncation; see ``escape_limited``)."""
    if dialect == "raw":
        return text
    text = clean(text)
    if single_line:
        text = " ".join(text.split())
    if dialect == "terminal":
        return text
    text = break_mentions(text)
    if dialect == "plain":
        return defang_links(text)
    # markdown: entities first (so '<!channel>' and HTML are inert), then
    # backslash escapes, then defang; defang adds '[:]', which it escapes itself.
    text = html.escape(text, quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _URL_SCHEME.sub(lambda m: f"{m.group(1)}\\[:\\]", text)
    text = _WWW.sub("www\\[.\\]", text)
    # a line starting with '>' is a quote, '-'/'+' a list, '=' a heading underline
    return re.sub(r"(?m)^([-+=])", r"\\\1", text)


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters, saying how much was dropped."""
    if len(text) <= limit:
        return text
    cut = max(0, limit - len(MARKER.format(n=len(text))))
    while cut < limit and cut + 1 + len(MARKER.format(n=len(text) - cut - 1)) <= limit:
        cut += 1  # the count got shorter than the first guess: use the room
    return text[:cut] + MARKER.format(n=len(text) - cut)


def escape_limited(text: str, dialect: Dialect, limit: int, *, single_line: bool = False) -> str:
    """Escape and keep the result within ``limit`` characters.

    Cutting after escaping could split an escape sequence (``\\`` from ``\\*``,
    half of ``&amp;``), so the raw text is cut instead, as little as needed.
    """
    full = escape(text, dialect, single_line=single_line)
    if len(full) <= limit:
        return full
    lo, hi = 0, min(len(text), limit)
    best = ""
    while lo <= hi:  # longest raw prefix whose escaped form plus marker fits
        mid = (lo + hi) // 2
        candidate = escape(text[:mid], dialect, single_line=single_line)
        candidate += MARKER.format(n=len(text) - mid)
        if len(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best
