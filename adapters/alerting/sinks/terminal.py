"""Human-readable alerts on a terminal (the embedded default and the demo), coloured on a TTY.

A rule's text is one folded paragraph; printed as is it is a 1,000-character
line. So the body is wrapped to the terminal's width, and the sentences an
operator acts on ("Check: ...", "Safe fix: ...") start lines of their own.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from typing import TextIO

from adapters.alerting.limits import MAX_FIELD, FieldLimits
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink
from engine.templates import utc_stamp

_COLOURS = {"critical": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m",
            "resolved": "\x1b[1;32m"}
_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
INDENT = "    "
DEFAULT_WIDTH = 100  # when the stream is not a terminal (a file, a pipe, a test)
# Sentences that start what the operator should do; each begins a new line.
LABELS = ("Check:", "Safe fix:")
_LABEL_ALTERNATIVES = "|".join(map(re.escape, LABELS))
_LABEL_START = re.compile(rf"(?<=[.!?)\]`'\"]) +(?=(?:{_LABEL_ALTERNATIVES}))")


def paragraphs(text: str) -> list[str]:
    """The text's own lines, each split again before a labelled sentence."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(part for part in _LABEL_START.split(line.strip()) if part)
    return out


def wrap(text: str, width: int, first: str = INDENT, rest: str = INDENT) -> list[str]:
    """Wrap at spaces only: ids, UUIDs and URLs stay whole (and so copyable)."""
    return textwrap.wrap(text, width=width, initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first.rstrip()]


class TerminalSink(Sink):
    """Control characters in tenant text are stripped so they cannot drive the terminal."""

    def __init__(self, stream: TextIO | None = None, *, name: str = "terminal",
                 colour: bool | None = None, max_text: int = 2000,
                 width: int | None = None, max_field: int = MAX_FIELD) -> None:
        self.name = name
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() if colour is None else colour
        self.max_text = max_text
        self.width = width
        self.limits = FieldLimits(max_field)

    def columns(self) -> int:
        """The wrap width: fixed, the terminal's (asked per alert: it may be resized), or 100."""
        if self.width is not None:
            return max(self.width, 20)
        if self.stream.isatty():
            return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, 20)
        return DEFAULT_WIDTH

    def format(self, notice: Notice) -> str:
        firing = notice.firing
        key = "resolved" if notice.kind == "resolved" else firing.severity
        width = self.columns()
        head = f"[{notice.headline()}]"
        field = self.limits.text
        title = field(firing.title, "terminal", 300, single_line=True)
        footer = field(notice.footer(), "terminal", 600, single_line=True)
        lines = wrap(f"{head} {utc_stamp(firing.time)} {title}", width, first="")
        if self.colour:  # colour after wrapping: escape codes have no width
            lines[0] = f"{_COLOURS[key]}{head}{_RESET}" + lines[0][len(head):]
        if firing.text and notice.kind != "resolved":
            text = field(firing.text, "terminal", self.max_text)
            for paragraph in paragraphs(text):
                lines.extend(self._label(line) for line in wrap(paragraph, width))
        for action in firing.actions:  # the remediation the rule offers, and its mode
            args = " ".join(f"{k}={v}" for k, v in action.args.items())
            offer = field(f"-> {action.hook} ({action.mode}) {args}".rstrip(),
                          "terminal", 600, single_line=True)
            lines.extend(wrap(offer, width, rest=INDENT * 2))
        for line in wrap(footer, width, rest=INDENT * 2):
            lines.append(f"{INDENT}{_DIM}{line[len(INDENT):]}{_RESET}" if self.colour else line)
        return "\n".join(lines) + "\n"

    def _label(self, line: str) -> str:
        """Bold a leading "Check:" / "Safe fix:" on a colour terminal."""
        if self.colour:
            for label in LABELS:
                if line.startswith(INDENT + label):
                    return f"{INDENT}{_BOLD}{label}{_RESET}{line[len(INDENT) + len(label):]}"
        return line

    def send(self, notice: Notice) -> None:
        self.stream.write(self.format(notice))
        self.stream.flush()
