"""The worker's HTTP endpoint: ``/metrics``, ``/healthz`` and ``/readyz`` (and the
``POST`` routes the worker adds, e.g. ``/ack`` from ``dreamcatcher.ackapi``).

A stdlib ``ThreadingHTTPServer`` on a daemon thread: three fixed paths need no
framework, and a slow scraper must not hold up the engine. Health and
readiness are probes, callbacks returning ``(ok, reasons)``, so the worker
decides what alive and ready mean (threads running; broker connected and
inventory seeded) and this module only reports it: 200 with ``ok``, or 503
with one reason per line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict, Field

from adapters.secrets import Secret, SecretValue
from dreamcatcher.metrics import Metrics

log = structlog.get_logger(__name__)

Probe = Callable[[], tuple[bool, Sequence[str]]]
#: a POST route: (request headers, body) -> (status, content type, body)
PostRoute = Callable[[dict[str, str], bytes], tuple[int, str, bytes]]
#: the largest POST body read; a bigger one is refused unread (413)
MAX_BODY = 64 * 1024


class HttpConfig(BaseModel):
    """``http: {bind: 127.0.0.1, port: 9469}``; port 0 picks a free one (tests).
    ``ack_token``: what ``POST /ack`` must carry (a secret reference is fine)."""

    model_config = ConfigDict(extra="forbid")

    bind: str = "127.0.0.1"
    port: int = Field(default=9469, ge=0, le=65535)
    ack_token: Secret = Field(default=SecretValue(""), validate_default=True)


class Conditions:
    """Named conditions that must all hold, e.g. readiness: ``broker connected`` and
    ``inventory seeded``. Calling it is a ``Probe``; the reasons are the unmet names."""

    def __init__(self, *required: str) -> None:
        self._lock = threading.Lock()
        self._state = dict.fromkeys(required, False)

    def set(self, name: str, ok: bool = True) -> None:
        with self._lock:
            self._state[name] = ok

    def __call__(self) -> tuple[bool, Sequence[str]]:
        with self._lock:
            missing = [f"not yet: {name}" for name, ok in self._state.items() if not ok]
        return not missing, missing


def threads_alive(threads: Callable[[], Iterable[threading.Thread]]) -> Probe:
    """A health probe: every thread ``threads()`` names is alive (the dead ones are the
    reasons). A callable, so threads started later (a reconnect) are seen."""

    def probe() -> tuple[bool, Sequence[str]]:
        dead = [f"thread {t.name} is not running" for t in threads() if not t.is_alive()]
        return not dead, dead

    return probe


def _always() -> tuple[bool, Sequence[str]]:
    return True, ()


class OpsServer:
    """Serves the three paths until ``close``; ``port`` is the bound one."""

    def __init__(self, config: HttpConfig, metrics: Metrics, *,
                 healthy: Probe = _always, ready: Probe = _always,
                 posts: dict[str, PostRoute] | None = None) -> None:
        routes: dict[str, Callable[[], tuple[int, str, bytes]]] = {
            "/metrics": lambda: (200, CONTENT_TYPE_LATEST, metrics.render()),
            "/healthz": lambda: _probe_reply(healthy),
            "/readyz": lambda: _probe_reply(ready),
        }
        self._server = ThreadingHTTPServer((config.bind, config.port),
                                           _handler(routes, posts or {}))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="dreamcatcher-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("http endpoint listening", bind=self._server.server_address[0], port=self.port)
        return self

    def close(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _probe_reply(probe: Probe) -> tuple[int, str, bytes]:
    try:
        ok, reasons = probe()
    except Exception as exc:  # a probe that raises is an unhealthy answer, not a 500
        ok, reasons = False, [f"probe failed: {exc!r}"]
    body = "ok\n" if ok else "".join(f"{r}\n" for r in reasons) or "not ok\n"
    return (200 if ok else 503), "text/plain; charset=utf-8", body.encode()


def _handler(routes: dict[str, Callable[[], tuple[int, str, bytes]]],
             posts: dict[str, PostRoute]) -> type[Any]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "dreamcatcher"

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                status, ctype, body = 404, "text/plain; charset=utf-8", b"not found\n"
            else:
                status, ctype, body = route()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_HEAD = do_GET

        def do_POST(self) -> None:
            route = posts.get(self.path.split("?", 1)[0])
            text = "text/plain; charset=utf-8"
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if route is None:
                status, ctype, body = 404, text, b"not found\n"
            elif not 0 <= length <= MAX_BODY:
                status, ctype, body = 413, text, f"body: 0 to {MAX_BODY} bytes\n".encode()
                self.close_connection = True
            else:
                status, ctype, body = route(
                    {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("http request", line=format % args)

    return Handler
