"""A signal handler that runs again inside itself must not hang the process.

Python runs a handler between two bytecodes, also between those of the handler
already running. ``hangup``'s handler used ``threading.Event.set``, whose lock a
second SIGHUP found held by the same thread: two SIGHUPs close together hung
``replay`` (1 run in 10 here). This makes the re-entry certain instead of
lucky: a trace function sends a SIGHUP at every line the first handler runs
(its callees' lines too), so the handler is re-entered at each point of its code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.paths import REPO

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from dreamcatcher import hangup

    hangup.install("replay")
    handler = signal.getsignal(signal.SIGHUP)
    sent = 0

    def trace(frame, event, arg):
        global sent
        if event == "line" and sent < 200:
            sent += 1
            os.kill(os.getpid(), signal.SIGHUP)  # delivered at the next bytecode
        return trace

    def first(signum, frame):
        signal.signal(signal.SIGHUP, handler)  # the signals sent from here go to it
        sys.settrace(trace)
        try:
            handler(signum, frame)
        finally:
            sys.settrace(None)

    signal.signal(signal.SIGHUP, first)
    os.kill(os.getpid(), signal.SIGHUP)
    print("re-entered", sent, "times; seen:", hangup.received_while_starting())
""")


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_the_sighup_handler_survives_a_signal_at_every_line_of_itself() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                          text=True, timeout=30, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    sent = int(done.stdout.split()[1])
    assert sent >= 2 and done.stdout.strip().endswith("seen: True"), done.stdout
    assert done.stderr.count("SIGHUP ignored") >= 2
