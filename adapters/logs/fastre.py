"""Compiling the parsers' patterns so that ``re`` tests ASCII characters first.

``\\d`` and ``\\w`` on ``str`` are Unicode classes: ``re`` asks the Unicode database
for every character they meet (``\\w`` up to four times). A class that also lists
the ASCII members as a range (``[0-9\\d]``) is first tested against a bitmap, and
the database is only asked about characters outside it. The set of characters is
the same, so is every match; on an oslo access line it is a quarter of the match.
The patterns stay written with ``\\d`` and ``\\w``, as anyone reads them.
"""

from __future__ import annotations

import re

#: What each escape becomes inside a class; outside one it is wrapped in brackets.
_ASCII_FIRST: dict[str, str] = {"d": r"0-9\d", "w": r"a-zA-Z0-9_\w"}


def ascii_first(pattern: str) -> str:
    """``pattern`` with every ``\\d`` and ``\\w`` spelt with its ASCII range in front."""
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            escape = pattern[i + 1]
            spelt = _ASCII_FIRST.get(escape)
            if spelt is None:
                out.append(pattern[i:i + 2])
            else:
                out.append(spelt if in_class else f"[{spelt}]")
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            i += 1
            # A "]" right after "[" or "[^" is a member, not the end of the class.
            for lead in ("^", "]"):
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        if c == "]" and in_class:
            in_class = False
        out.append(c)
        i += 1
    return "".join(out)


def compile_ascii_first(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile`` of ``ascii_first(pattern)``: the same matches, found sooner."""
    return re.compile(ascii_first(pattern), flags)
