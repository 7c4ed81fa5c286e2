"""SIGHUP never kills a dreamcatcher command.

Only ``dreamcatcher run`` reloads on SIGHUP (its own handler, once it is running).
Every other command reads its rules and input once, so a reload means nothing
to it; and SIGHUP's default action, ending the process, would lose a long
replay whose terminal was closed. So from the moment the command line is parsed
a SIGHUP is noted on stderr and otherwise ignored (as under ``nohup``). A SIGHUP
that reaches ``run`` while it starts is remembered, and the rules are read again
once it runs (they may have changed after they were first read).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
from types import FrameType

from dreamcatcher.signalflag import SignalFlag

_received = SignalFlag()  # no lock in a handler: dreamcatcher/signalflag.py


def install(command: str) -> None:
    """Catch SIGHUP for ``command`` (where the platform has it)."""
    if not hasattr(signal, "SIGHUP"):
        return
    if command == "run":
        note = b"dreamcatcher: SIGHUP while starting: the rules are read again once running\n"
    else:
        note = (f"dreamcatcher: SIGHUP ignored: `{command}` reads its rules once "
                "(only `dreamcatcher run` reloads)\n").encode()

    def _noted(signum: int, frame: FrameType | None) -> None:
        _received.set()
        # no logging lock taken in a signal handler; stderr gone with the terminal is
        # still no reason to die
        with contextlib.suppress(OSError):
            os.write(2, note)

    signal.signal(signal.SIGHUP, _noted)
    # the interpreter puts a Python handler back to the default (death) as it
    # finalizes, but leaves "ignore" alone: a SIGHUP during exit must not turn a
    # finished command's status into "killed"
    atexit.register(signal.signal, signal.SIGHUP, signal.SIG_IGN)


def received_while_starting() -> bool:
    """Whether a SIGHUP came before ``run`` installed its own handler (and forget it)."""
    return _received.take()
