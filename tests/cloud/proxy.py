"""The fault proxy between nova and cinder-api (nova's ``[cinder] endpoint_override``).

By default it forwards every request unchanged. A test arms one fault at a time:

- ``drop_volume_posts(n)``: the next ``n`` distinct volume creations (``POST .../volumes``,
  told apart by the volume name nova gives them) are dropped: the connection is closed
  without an answer, as a load balancer that lost the request does, and nova's retries of
  the same creation are dropped too. cinder never sees them.
- ``hold_volumes_creating(seconds)``: for volumes created from now on, ``GET .../volumes/<id>``
  answers ``"status": "creating"`` for ``seconds`` after the volume's creation, so nova's
  real wait loop (``_await_block_device_map_created``) sees a slow backend.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_VOLUMES_POST = re.compile(r"^/v3/(?:[0-9a-f]{32}/)?volumes/?$")
_VOLUME_GET = re.compile(r"^/v3/(?:[0-9a-f]{32}/)?volumes/([0-9a-f-]{36})$")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class CinderProxy:
    """A threaded HTTP proxy on 127.0.0.1:``port`` forwarding to cinder-api on ``target``."""

    def __init__(self, port: int, target: int) -> None:
        self.target = target
        self.lock = threading.Lock()
        self.drops_left = 0
        self.dropped_names: set[str] = set()
        self.dropped = 0  # requests dropped (retries included)
        self.hold_for = 0.0
        self.held: dict[str, float] = {}  # volume id -> when it stops looking "creating"
        self.held_answers = 0
        self.forwarded = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                proxy.relay(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="cinder-proxy")

    def start(self) -> CinderProxy:
        self.thread.start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- faults ---------------------------------------------------------------------------

    def drop_volume_posts(self, n: int) -> None:
        with self.lock:
            self.drops_left = n

    def hold_volumes_creating(self, seconds: float) -> None:
        with self.lock:
            self.hold_for = seconds

    def clear(self) -> None:
        with self.lock:
            self.drops_left = 0
            self.hold_for = 0.0
            self.held.clear()

    # ---- the relay ------------------------------------------------------------------------

    def relay(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        path = req.path.split("?", 1)[0]
        if req.command == "POST" and _VOLUMES_POST.match(path) and self._drop(body):
            req.close_connection = True  # no answer: what a lost request looks like
            return
        conn = http.client.HTTPConnection("127.0.0.1", self.target, timeout=120)
        headers = {k: v for k, v in req.headers.items() if k.lower() not in _HOP}
        conn.request(req.command, req.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        data = self._rewrite(req.command, path, resp.status, data)
        with self.lock:
            self.forwarded += 1
        req.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in _HOP:
                req.send_header(k, v)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        if req.command != "HEAD":
            req.wfile.write(data)

    def _drop(self, body: bytes) -> bool:
        try:
            name = str(json.loads(body).get("volume", {}).get("name") or "")
        except (ValueError, AttributeError):
            name = ""
        with self.lock:
            if name and name in self.dropped_names:
                self.dropped += 1
                return True  # nova's retry of a creation already lost
            if self.drops_left > 0:
                self.drops_left -= 1
                self.dropped_names.add(name or f"unnamed-{self.dropped}")
                self.dropped += 1
                return True
        return False

    def _rewrite(self, method: str, path: str, status: int, data: bytes) -> bytes:
        if status not in (200, 202) or method not in ("GET", "POST"):
            return data
        with self.lock:
            hold = self.hold_for
        if hold <= 0:
            return data
        if method == "POST" and _VOLUMES_POST.match(path):
            vid = json.loads(data).get("volume", {}).get("id")
            if vid:
                with self.lock:
                    self.held[vid] = time.monotonic() + hold
            return data
        m = _VOLUME_GET.match(path)
        if m is None:
            return data
        with self.lock:
            until = self.held.get(m.group(1))
        if until is None or time.monotonic() >= until:
            return data
        doc = json.loads(data)
        doc["volume"]["status"] = "creating"
        with self.lock:
            self.held_answers += 1
        return json.dumps(doc).encode()
