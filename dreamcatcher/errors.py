"""The CLI's one error shape: ``dreamcatcher: <what>: <why>`` on stderr, and a status.

Commands raise these instead of printing and returning a code, so every mistake
leaves the same way (``cli.main`` prints the line): status 2 when the command
line is wrong, 1 when the world is (a file unreadable, a service down).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit


class CliError(Exception):
    """A failure the user can act on; ``details`` are lines printed before it
    (e.g. every ``file:line: field: message`` of a rule set)."""

    status = 1

    def __init__(self, what: str, why: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.details = list(details)

    def line(self) -> str:
        """The one line, whatever newlines the cause carried."""
        return " ".join(f"dreamcatcher: {self.what}: {self.why}".split("\n"))


class UsageError(CliError):
    """The command line asks for something impossible (status 2)."""

    status = 2


class RuntimeFailure(CliError):
    """The command was right but could not be carried out (status 1)."""

    status = 1


def redact_url(url: str) -> str:
    """``redis://user:secret@host/0`` -> ``redis://user:***@host/0``: error lines end up
    in logs and tickets, passwords must not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable url>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def redact_text(text: str, url: str) -> str:
    """``text`` with the password of ``url`` blanked, should a client echo it back."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    return text.replace(password, "***") if password else text
