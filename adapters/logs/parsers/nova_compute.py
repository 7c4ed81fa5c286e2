"""nova-compute: the image cache manager and block-device setup failures.

The removal message was reworded twice (``Removing base file:`` until 2014,
``Removing base or swap file:`` until 2020, ``Removing base, swap or ephemeral
file:`` since); all three, and the matching "too young" wordings, map to one
event type each. A base file is ``_base/<sha1(image id)>[_<size GB>]``.
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
from adapters.logs.errors import as_int
from adapters.logs.header import Header
from adapters.logs.oslo import OsloLine, is_trace
from adapters.logs.parsers.oslobase import PLUMBING_EMITS, OsloParser
from engine.events import Event

_FILE_WORDS = r"(?:base|base or swap|base, swap or ephemeral) file"
_REMOVING = re.compile(r"Removing " + _FILE_WORDS + r": (?P<path>\S+)")
_TOO_YOUNG = re.compile(r"(?:Base|Base or swap|Base, swap or ephemeral) file too young to remove: "
                        r"(?P<path>\S+)")
_IMAGE = re.compile(r"image (?P<image>\S+) at \((?P<path>[^)]*)\): (?P<what>.*)")
_IN_USE = re.compile(r"in use: on this node (?P<local>\d+) local, (?P<remote>\d+) on other nodes")
_BASE_NAME = re.compile(r"(?P<hash>[0-9a-f]{40})(?:_(?P<size>\d+))?\Z")
_NOT_CREATED = re.compile(
    r"Volume (?P<volume>\S+) did not finish being created even after we waited "
    r"(?P<seconds>\d+) seconds or (?P<attempts>\d+) attempts\."
    r"(?: And its status is (?P<status>\w+))?"
)
_BUILD_OF = re.compile(r"Build of instance (?P<instance>\S+) aborted")
_ABORTED = re.compile(r"Build of instance (?P<instance>\S+) aborted: (?P<reason>.*)", re.DOTALL)
_LISTS = (
    ("Active base files:", "nova.imagecache.base_file_active"),
    ("Removable base files:", "nova.imagecache.base_files_removable"),
    ("Unknown base file:", "nova.imagecache.base_file_unknown"),
    ("Unknown base files:", "nova.imagecache.base_file_unknown"),
)


_base_cache: dict[str, tuple[str | None, int | None]] = {}


def base_file(path: str) -> tuple[str | None, int | None]:
    """(sha1 hash, size in GB or None) from a ``_base`` file path (cached: a node has few)."""
    hit = _base_cache.get(path)
    if hit is not None:
        return hit
    m = _BASE_NAME.match(path.rsplit("/", 1)[-1])
    if m is None:
        result: tuple[str | None, int | None] = (None, None)
    else:
        size = m.group("size")
        result = (m.group("hash"), int(size) if size else None)
    if len(_base_cache) > 4096:
        _base_cache.clear()
    _base_cache[path] = result
    return result


class NovaComputeParser(OsloParser):
    """nova-compute logs: image cache lines, volume/block-device failures and the VLAN
    plumbing nova-network runs through oslo.concurrency.

    An exception record's first line keeps its own meaning even with oslo.log's
    exception summary appended (``Instance failed block device setup: nova.exception.
    VolumeNotCreated: ...`` is ``block_device_setup_failed``); the traceback's last line
    (``nova.exception.VolumeNotCreated: ...``) is the ``volume_not_created`` event of the
    same record, with its request ids. ``Build of instance X aborted: ...`` that follows is
    ``build_aborted``: one failure, not a second ``volume_not_created``.
    """

    kind = "nova-compute"
    service = "nova-compute"
    _ENV = (*OSLO_IDS, "instance_id")
    emits = {
        **emitting(["nova.imagecache.image_checking"], [*_ENV, "image_id", "image_base_hash"],
                ["path", "size_gb", *OSLO_DATA]),
        **emitting(["nova.imagecache.image_in_use"], [*_ENV, "image_id", "image_base_hash"],
                ["path", "size_gb", "local", "remote", *OSLO_DATA]),
        **emitting(["nova.imagecache.base_file_removed", "nova.imagecache.base_file_too_young"],
                [*_ENV, "image_base_hash"], ["path", "size_gb", *OSLO_DATA]),
        **emitting([t for _, t in _LISTS], [*_ENV, "image_base_hash"],
                ["paths", "hashes", "path", "size_gb", *OSLO_DATA]),
        **emitting(["nova.compute.block_device_setup_failed"], _ENV, ["message", *OSLO_DATA]),
        **emitting(["nova.compute.build_aborted"], [*_ENV, "volume_id"],
                   ["reason", *OSLO_DATA]),
        **emitting(["nova.compute.volume_not_created"], [*_ENV, "volume_id"],
                ["seconds", "attempts", "volume_status", *OSLO_DATA]),
        **PLUMBING_EMITS,
    }

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        line = self._oslo.parse(head.message)
        if line is None:
            return self._bare(head, raw, position)
        msg = line.message
        if line.module.endswith("imagecache"):
            found = self._imagecache(msg)
            if found is not None:
                type_, data, envelope = found
                return self._event(head, line, raw, position, type_, data, envelope)
        elif msg.startswith("Instance failed block device setup"):
            if line.exception is not None:  # JSON keeps the summary apart: its own event
                self._summary(head, line, raw, position)
            return self._event(head, line, raw, position,
                               "nova.compute.block_device_setup_failed", {"message": msg})
        elif msg.startswith("Build of instance"):
            m = _ABORTED.match(msg)
            if m is not None:
                n = _NOT_CREATED.search(msg)
                return self._event(head, line, raw, position, "nova.compute.build_aborted",
                                   {"reason": m.group("reason")},
                                   {"instance_id": m.group("instance"),
                                    "volume_id": n.group("volume") if n else None})
        elif "did not finish being created" in msg:
            m = _NOT_CREATED.search(msg)
            if m is not None:
                return self._not_created(head, line, raw, position, m)
        elif line.module == "oslo_concurrency.processutils" and msg[:8] == "Running ":
            return self.plumbing(head, line, raw, position) or IGNORED
        return IGNORED if is_trace(line) else None

    def _summary(self, head: Header, line: OsloLine, raw: str, position: Position) -> None:
        """The exception summary of a JSON record, as the traceback's last line would be."""
        summary = line.exception or ""
        m = _NOT_CREATED.search(summary) if "did not finish being created" in summary else None
        if m is None:
            return
        event = self._not_created(head, line, raw, f"{position}.exception", m)
        if isinstance(event, Event):
            self.ready.append(event)

    def _imagecache(self, msg: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        m = _IMAGE.match(msg)
        if m is not None:
            image, path, what = m.groups()
            digest, size = base_file(path)
            envelope = {"image_id": image, "image_base_hash": digest}
            if what == "checking":
                return "nova.imagecache.image_checking", {"path": path, "size_gb": size}, envelope
            used = _IN_USE.match(what)
            if used is not None:
                data = {"path": path, "size_gb": size,
                        "local": as_int(used.group("local"), "local"),
                        "remote": as_int(used.group("remote"), "remote")}
                return "nova.imagecache.image_in_use", data, envelope
            if what.startswith("image is in use"):  # DEBUG wording since 2017
                data = {"path": path, "size_gb": size, "local": None, "remote": None}
                return "nova.imagecache.image_in_use", data, envelope
            return None
        if msg.startswith("Removing "):
            m = _REMOVING.match(msg)
            if m is not None:
                return self._one_file("nova.imagecache.base_file_removed", m.group("path"))
        elif "too young to remove" in msg:
            m = _TOO_YOUNG.match(msg)
            if m is not None:
                return self._one_file("nova.imagecache.base_file_too_young", m.group("path"))
        for prefix, type_ in _LISTS:
            if msg.startswith(prefix):
                paths = msg[len(prefix):].split()
                files = [base_file(p) for p in paths]
                hashes = [h for h, _ in files]
                data = {"paths": paths, "hashes": hashes, "path": paths[0] if paths else None,
                        "size_gb": files[0][1] if files else None}
                return type_, data, {"image_base_hash": hashes[0] if len(set(hashes)) == 1
                                     else None}
        return None

    @staticmethod
    def _one_file(type_: str, path: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        digest, size = base_file(path)
        return type_, {"path": path, "size_gb": size}, {"image_base_hash": digest}

    def _not_created(self, head: Header, line: OsloLine, raw: str, position: Position,
                     m: re.Match[str]) -> Result:
        data = {"seconds": as_int(m.group("seconds"), "seconds"),
                "attempts": as_int(m.group("attempts"), "attempts"),
                "volume_status": m.group("status")}
        instance = line.instance_id
        built = _BUILD_OF.search(line.message)
        if built is not None:
            instance = built.group("instance")
        return self._event(head, line, raw, position, "nova.compute.volume_not_created", data,
                           {"volume_id": m.group("volume"), "instance_id": instance})

    def _bare(self, head: Header, raw: str, position: Position) -> Result:
        """A fault text without the oslo prefix (as the API shows it in an instance fault)."""
        msg = head.message
        m = _NOT_CREATED.search(msg) if "did not finish being created" in msg else None
        if m is None:
            return None
        line = OsloLine(severity=head.severity, message=msg)
        return self._not_created(head, line, raw, position, m)
