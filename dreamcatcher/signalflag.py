"""A flag a signal handler may set without taking a lock.

Python runs a handler in the main thread between two bytecodes, even inside
another handler or inside ``threading.Event.set``/``wait``, which hold a lock:
a handler that takes that lock again waits for itself for ever (two SIGHUPs
close together hung ``replay``). So a handler only sets this flag, one
attribute store, and the main thread acts on it at its next look.
"""

from __future__ import annotations


class SignalFlag:
    """``set()`` from a handler; ``is_set()``/``take()`` from the main thread."""

    __slots__ = ("_up",)

    def __init__(self) -> None:
        self._up = False

    def set(self) -> None:
        self._up = True

    def is_set(self) -> bool:
        return self._up

    def take(self) -> bool:
        """Whether it was set, and clear it. A signal caught between the read and the
        clear is taken with it: the caller is about to act on it anyway."""
        up = self._up
        self._up = False
        return up
