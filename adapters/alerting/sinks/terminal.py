"""Human-readable alerts on a terminal (the embedded default and the demo), coloured on a TTY."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.alerting.escape import escape_limited
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.base import Sink

_COLOURS = {"critical": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m",
            "resolved": "\x1b[1;32m"}
_DIM, _RESET = "\x1b[2m", "\x1b[0m"


class TerminalSink(Sink):
    """Control characters in tenant text are stripped so they cannot drive the terminal."""

    def __init__(self, stream: TextIO | None = None, *, name: str = "terminal",
                 colour: bool | None = None, max_text: int = 2000) -> None:
        self.name = name
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() if colour is None else colour
        self.max_text = max_text

    def format(self, notice: Notice) -> str:
        firing = notice.firing
        key = "resolved" if notice.kind == "resolved" else firing.severity
        head = f"[{notice.headline()}]"
        title = escape_limited(firing.title, "terminal", 300, single_line=True)
        when = firing.time.strftime("%Y-%m-%d %H:%M:%S")
        footer = escape_limited(notice.footer(), "terminal", 600, single_line=True)
        lines = []
        if self.colour:
            lines.append(f"{_COLOURS[key]}{head}{_RESET} {when} {title}")
        else:
            lines.append(f"{head} {when} {title}")
        if firing.text and notice.kind != "resolved":
            text = escape_limited(firing.text, "terminal", self.max_text)
            lines.extend("    " + line for line in text.splitlines())
        for action in firing.actions:  # the remediation the rule offers, and its mode
            args = " ".join(f"{k}={v}" for k, v in action.args.items())
            offer = escape_limited(f"-> {action.hook} ({action.mode}) {args}".rstrip(),
                                   "terminal", 600, single_line=True)
            lines.append("    " + offer)
        lines.append(f"    {_DIM}{footer}{_RESET}" if self.colour else f"    {footer}")
        return "\n".join(lines) + "\n"

    def send(self, notice: Notice) -> None:
        self.stream.write(self.format(notice))
        self.stream.flush()
