"""cinder-api and cinder-volume lines that show a volume's way in.

These are what incidents volume-post-lost and volume-create-lost-in-db need:
the POST reaching cinder-api, ``Create volume of N GB``, the success line
(which names no volume, only its request ids), and cinder-volume's
``VolumeNotFound`` for the same request.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.logs.base import (
    IGNORED,
    OSLO_DATA,
    OSLO_IDS,
    Position,
    Result,
    emitting,
)
from adapters.logs.build import IdTuple
from adapters.logs.errors import as_int
from adapters.logs.header import Header
from adapters.logs.oslo import OsloLine, is_trace
from adapters.logs.parsers.oslobase import OsloParser

_REQUEST = re.compile(r"(?P<method>[A-Z]+) (?P<url>\S+)\Z")
_RETURNED = re.compile(r"(?P<url>\S+) returned with HTTP (?P<status>\d+)")
_CREATE = re.compile(r"Create volume of (?P<size>\d+) GB")
_CREATED = re.compile(
    r"(?:Volume created|Created volume|Create volume request issued) successfully"
)
_NOT_FOUND = re.compile(r"Volume (?:(?P<vid>[0-9a-f-]{36}) )?could not be found")
_BEING_CREATED = re.compile(r"Volume (?P<vid>[0-9a-f-]{36}): being created as (?P<how>\w+)")
_TASK = re.compile(r"Task '(?P<task>[^']+)' \([^)]*\) transitioned into state '(?P<state>\w+)'"
                   r" from state '(?P<prev>\w+)'")
_URL_PATH = re.compile(r"(?:https?://[^/]+)?(?P<path>/\S*)")
_PROJECT = re.compile(r"/v[123](?:\.\d+)?/(?P<project>[0-9a-f]{32})(?:/|\Z)")
_VOLUME = re.compile(r"volumes?[-/](?P<vid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
                     r"[0-9a-f]{12})")


class _CinderParser(OsloParser):
    service = "cinder"

    def _volume_event(self, head: Header, line: OsloLine, raw: str, position: Position,
                      type_: str, data: dict[str, Any], volume_id: str | None = None,
                      ids: IdTuple | None = None) -> Result:
        """``volume_id`` defaults to the volume the message names, ``ids`` to the context's."""
        if volume_id is None:
            m = _VOLUME.search(line.message)
            volume_id = m.group("vid") if m else None
        return self._event(head, line, raw, position, type_, data,
                           {"volume_id": volume_id, "instance_id": None}, ids)


class CinderApiParser(_CinderParser):
    """cinder-api: request lines, ``Create volume of N GB``, the success line."""

    kind = "cinder-api"
    service = "cinder-api"
    emits = {
        **emitting(["cinder.api.request"], [*OSLO_IDS, "volume_id"],
                ["method", "path", "url", "status", "phase", *OSLO_DATA]),
        **emitting(["cinder.api.volume_create"], [*OSLO_IDS, "volume_id"],
                   ["size_gb", *OSLO_DATA]),
        **emitting(["cinder.api.volume_created"], [*OSLO_IDS, "volume_id"],
                   ["message", *OSLO_DATA]),
    }

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        line = self._oslo.parse(head.message)
        if line is None:
            return None
        msg = line.message
        if line.module.endswith("wsgi") and not msg.startswith("Exception"):
            m = _REQUEST.match(msg)
            if m is not None:
                return self._request(head, line, raw, position, m.group("method"),
                                     m.group("url"), None)
            m = _RETURNED.match(msg)
            if m is not None:
                return self._request(head, line, raw, position, None, m.group("url"),
                                     as_int(m.group("status"), "status"))
        m = _CREATE.match(msg)
        if m is not None:
            return self._volume_event(head, line, raw, position, "cinder.api.volume_create",
                               {"size_gb": as_int(m.group("size"), "size")})
        if _CREATED.match(msg):
            return self._volume_event(head, line, raw, position, "cinder.api.volume_created",
                               {"message": msg})
        return IGNORED if is_trace(line) else None

    def _request(self, head: Header, line: OsloLine, raw: str, position: Position,
                 method: str | None, url: str, status: int | None) -> Result:
        pm = _URL_PATH.match(url)
        path = pm.group("path") if pm else url
        proj = _PROJECT.search(path)
        data = {"method": method, "path": path, "url": url, "status": status,
                "phase": "returned" if status is not None else "received"}
        ids = line.ids
        if proj is not None:  # the path names the project: it wins over the context
            ids = (ids[0], ids[1], ids[2], proj.group("project"))
        return self._volume_event(head, line, raw, position, "cinder.api.request", data, ids=ids)


class CinderVolumeParser(_CinderParser):
    """cinder-volume: VolumeNotFound, a volume being created, create-flow task states."""

    kind = "cinder-volume"
    service = "cinder-volume"
    emits = {
        **emitting(["cinder.volume.volume_not_found"], [*OSLO_IDS, "volume_id"],
                   ["message", *OSLO_DATA]),
        **emitting(["cinder.volume.volume_creating"], [*OSLO_IDS, "volume_id"],
                   ["source", *OSLO_DATA]),
        **emitting(["cinder.volume.task_state"], [*OSLO_IDS, "volume_id"],
                ["task", "state", "from_state", *OSLO_DATA]),
    }

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        line = self._oslo.parse(head.message)
        if line is None:
            return None
        msg = line.message
        m = _NOT_FOUND.search(msg) if "could not be found" in msg else None
        if m is not None:
            data = {"message": msg}
            if m.group("vid"):
                return self._volume_event(head, line, raw, position,
                                          "cinder.volume.volume_not_found", data,
                                          volume_id=m.group("vid"))
            return self._volume_event(head, line, raw, position,
                                      "cinder.volume.volume_not_found", data)
        m = _BEING_CREATED.match(msg)
        if m is not None:
            return self._volume_event(head, line, raw, position, "cinder.volume.volume_creating",
                               {"source": m.group("how")}, volume_id=m.group("vid"))
        m = _TASK.match(msg)
        if m is not None:
            data = {"task": m.group("task"), "state": m.group("state"),
                    "from_state": m.group("prev")}
            return self._volume_event(head, line, raw, position, "cinder.volume.task_state", data)
        return IGNORED if is_trace(line) else None
