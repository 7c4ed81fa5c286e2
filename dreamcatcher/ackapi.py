"""``POST /ack`` on the worker's HTTP endpoint: chat tools acknowledge an alert group.

Two shapes: JSON ``{"group": KEY, "for": "4h", "by": "alice", "comment": "..."}``,
or a chat slash command's form (Mattermost, Slack: ``text=KEY [DURATION]``,
``user_name``, ``token``). The reply is JSON with a ``text`` a chat shows. With
``http.ack_token`` set, the request carries it (``Authorization: Bearer TOKEN``
or the form's ``token``); without one the route is served on a loopback bind only.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any
from urllib.parse import parse_qs

import orjson
import structlog
from pydantic import ValidationError

from adapters.alerting.acks import AckRequest, acknowledge
from adapters.alerting.silences import SilenceFile
from dreamcatcher.httpd import HttpConfig, PostRoute
from engine.yamlsource import validation_problems

log = structlog.get_logger(__name__)
JSON = "application/json"


def _reply(status: int, text: str, **extra: Any) -> tuple[int, str, bytes]:
    return status, JSON, orjson.dumps({"text": text, **extra})


def _request(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], str]:
    """The ack's fields and the token the request carries."""
    token = headers.get("authorization", "").removeprefix("Bearer ").strip()
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        words = form.get("text", "").split()
        fields: dict[str, Any] = {"group": words[0] if words else "",
                                  "by": form.get("user_name", "")}
        if len(words) > 1:
            fields["for"] = words[1]
        if len(words) > 2:
            fields["comment"] = " ".join(words[2:])
        return fields, token or form.get("token", "")
    doc = orjson.loads(body or b"{}")
    if not isinstance(doc, dict):
        raise ValueError("the body is a JSON object")
    return doc, token


def ack_route(store: SilenceFile, token: str) -> PostRoute:
    """The route acknowledging into ``store``; ``token`` empty: none asked for."""

    def route(headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        try:
            fields, given = _request(headers, body)
        except ValueError as exc:  # orjson's JSONDecodeError is one
            return _reply(400, f"not an ack request: {exc}")
        if token and not hmac.compare_digest(given.encode(), token.encode()):
            log.warning("ack refused: wrong or missing token", group=fields.get("group"))
            return _reply(401, "wrong or missing token")
        try:
            request = AckRequest.model_validate(fields)
        except ValidationError as exc:
            loc, message = validation_problems(exc)[0]
            return _reply(400, f"{'.'.join(map(str, loc)) or 'body'}: {message}")
        try:
            ack = acknowledge(store, request, via="http")
        except OSError as exc:
            return _reply(503, f"cannot write the silences file: {exc}")
        return _reply(201, f"acknowledged {ack.group} until "
                      f"{ack.ends_at.isoformat(timespec='seconds')} ({ack.id})",
                      ack=ack.model_dump(mode="json"))

    return route


def _loopback(bind: str) -> bool:
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return bind == "localhost"


def ack_routes(http: HttpConfig, store: SilenceFile | None) -> dict[str, PostRoute]:
    """``{"/ack": ...}`` when acks can be kept and the route is safe to serve, else ``{}``."""
    if store is None or store.path is None:
        return {}
    token = http.ack_token.reveal()
    if not token and not _loopback(http.bind):
        log.warning("POST /ack not served: the endpoint is not on loopback and "
                    "http.ack_token is not set", bind=http.bind)
        return {}
    return {"/ack": ack_route(store, token)}
