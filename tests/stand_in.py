"""A real HTTP server on 127.0.0.1 (ephemeral port) that tests script and inspect.

It stands in for the chat service, Alertmanager, a webhook receiver or an
OpenStack API: every request is recorded, and each route answers from a
handler that may fail, stall or reply like the real service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes | dict[str, Any] | list[Any] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Route = Callable[[Request], Reply]


class StandIn:
    """Routes are matched by (method, path prefix); the longest prefix wins."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.routes: dict[tuple[str, str], Route] = {}
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per reply

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, dict(self.headers.items()), body)
                with owner._lock:
                    owner.requests.append(req)
                reply = owner._route(req)
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if not isinstance(payload, bytes):
                    payload = orjson.dumps(payload)
                    reply.headers.setdefault("Content-Type", "application/json")
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that give up mid-request (timeouts under test) are expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def route(self, method: str, prefix: str, handler: Route) -> None:
        self.routes[(method, prefix)] = handler

    def _route(self, req: Request) -> Reply:
        best: tuple[str, str] | None = None
        for method, prefix in self.routes:
            matches = method == req.method and req.path.startswith(prefix)
            if matches and (best is None or len(prefix) > len(best[1])):
                best = (method, prefix)
        if best is None:
            return Reply(404, {"error": f"no route for {req.method} {req.path}"})
        return self.routes[best](req)

    def hits(self, method: str, prefix: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == method and r.path.startswith(prefix)]

    def wait_for(
        self, method: str, prefix: str, count: int, timeout: float = 10.0
    ) -> list[Request]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.hits(method, prefix)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        return self.hits(method, prefix)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def sequence(*replies: Reply) -> Route:
    """Answer with the given replies in turn, then repeat the last one."""
    queue = list(replies)
    lock = threading.Lock()

    def handler(_req: Request) -> Reply:
        with lock:
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return Reply(reply.status, reply.body, dict(reply.headers), reply.delay)

    return handler
