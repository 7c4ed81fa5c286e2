"""Host facts in: ``ip -details -json link`` snapshots as ``host.network.interface`` events.

``events_from_file`` reads a file for replay; ``HostFactsWatcher`` follows one live.
"""

from __future__ import annotations

from pathlib import Path

from adapters.hostfacts.iplink import (
    EMITS,
    Problem,
    SnapshotError,
    events_from_bytes,
    events_from_record,
    interface_events,
    mtime_time,
    sniff_form,
)
from adapters.hostfacts.watcher import HostFactsWatcher
from engine.events import Event


def events_from_file(path: Path, host: str | None = None) -> tuple[list[Event], list[Problem]]:
    """A host-facts file in either form: its events (time of the ``ip`` form: the file's
    mtime) and its malformed snapshots as ``(origin, raw, reason)``."""
    path = Path(path)
    mtime = mtime_time(path.stat().st_mtime_ns)
    return events_from_bytes(path.read_bytes(), str(path), host, mtime)


__all__ = [
    "EMITS",
    "HostFactsWatcher",
    "Problem",
    "SnapshotError",
    "events_from_bytes",
    "events_from_file",
    "events_from_record",
    "interface_events",
    "sniff_form",
]
