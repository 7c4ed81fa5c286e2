"""Where firings go: the printer (no config) or the alert router plus remediation."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from adapters.alerting.config import build_router
from adapters.alerting.notice import Notice
from adapters.alerting.sinks.terminal import TerminalSink
from adapters.remediation import Remediator
from adapters.remediation.worker import RemediationWorker
from dreamcatcher.config import load_config
from dreamcatcher.errors import RuntimeFailure
from engine.firing import Firing
from engine.yamlsource import SourceError

FiringHandler = Callable[[Firing], None]
Done = Callable[[], None]
Delivery = Callable[[Firing, Done], None]


def printer(fmt: str) -> FiringHandler:
    """Alerts on stdout: readable text (the router's terminal sink, every firing
    shown, nothing folded), or one JSON object per alert."""
    terminal = TerminalSink(sys.stdout)

    def show_json(firing: Firing) -> None:
        sys.stdout.write(orjson.dumps(firing.summary_json()).decode() + "\n")
        sys.stdout.flush()

    def show_text(firing: Firing) -> None:
        terminal.send(Notice(kind="resolved" if firing.resolves else "firing",
                             firing=firing, group_key=firing.group_key,
                             first_time=firing.time, folded=0, total=1))

    return show_json if fmt == "json" else show_text


def _printed(show: FiringHandler) -> Delivery:
    def deliver(firing: Firing, done: Done) -> None:
        show(firing)
        done()
    return deliver


def _all_of(count: int, done: Done) -> Done:
    """``done`` once the returned callable has been called ``count`` times."""
    left = [count]
    lock = threading.Lock()

    def one() -> None:
        with lock:
            left[0] -= 1
            last = left[0] == 0
        if last:
            done()
    return one


@dataclass(frozen=True)
class Outputs:
    """The firing handler, how to drain it at exit, and (with a router) its counters.

    ``deliver(firing, done)`` is the live worker's way in: ``done`` is called once
    the firing is settled everywhere it goes (its outbox entry can be closed).
    """

    handle: FiringHandler
    close: Callable[[], None]
    router_stats: Callable[[], dict[str, Any]] | None = None
    dead_letter_path: Path | None = None
    deliver: Delivery | None = None
    #: the clock for what waits on time with no firing to bring it (the storm throttle's
    #: period summaries); the live worker calls it with the engine's event time
    tick: Callable[[datetime], None] | None = None


def open_outputs(config_path: Path | None, fmt: str, *, live: bool = False) -> Outputs:
    """The printer without a config, else the configured router plus remediation;
    a config that cannot be used raises ``RuntimeFailure`` (one line, status 1).

    ``live``: remediation runs on its own thread (a hook never holds the engine).
    """
    if config_path is None:
        show = printer(fmt)
        return Outputs(show, lambda: None, deliver=_printed(show))
    try:
        config = load_config(config_path)
        router = build_router(config.alerting, live=live)
        remediator = Remediator(config.remediation, config.audit_log)
    except SourceError as exc:  # already names file:line: field
        raise RuntimeFailure("config", str(exc)) from None
    except (ValueError, OSError) as exc:  # a sink that cannot start (bad URL, file)
        raise RuntimeFailure("config", f"{config_path}: {exc}") from None

    worker = RemediationWorker(remediator) if live else None

    def handle(firing: Firing) -> None:
        router.submit(firing)
        if firing.actions:
            if worker is not None:
                worker.submit(firing)
            else:
                remediator.handle(firing)

    def deliver(firing: Firing, done: Done) -> None:
        if not firing.actions:
            router.submit(firing, done)
            return
        both = _all_of(2, done)
        router.submit(firing, both)
        if worker is not None:
            worker.submit(firing, both)
        else:
            remediator.handle(firing)
            both()

    def close() -> None:
        router.close(timeout=10.0)
        if worker is not None:
            worker.close()

    return Outputs(handle, close, router.stats, config.alerting.dead_letter_path, deliver,
                   router.tick)

