"""What the parsers of oslo.log services share: the stream's reader and event building."""

from __future__ import annotations

from typing import Any

from adapters.logs.base import (
    OSLO_DATA,
    OSLO_IDS,
    Parser,
    Position,
    Result,
    StreamContext,
    emitting,
)
from adapters.logs.build import IdTuple, StreamEvents
from adapters.logs.header import Header
from adapters.logs.oslo import OsloLine, OsloReader, oslo_data
from adapters.logs.parsers.plumbing import INTERFACE_DATA, INTERFACE_EVENT, VlanPlumbing
from engine.catalogue import EventSpec

#: ``host.network.interface`` as the oslo parsers build it from processutils lines.
PLUMBING_EMITS: dict[str, EventSpec] = emitting([INTERFACE_EVENT], OSLO_IDS,
                                                [*INTERFACE_DATA, *OSLO_DATA])


class OsloParser(Parser):
    """A parser of one oslo.log service's stream (``service`` names it in events)."""

    service = ""

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, self.service or self.kind)
        self._oslo = OsloReader(ctx.log_format, ctx.origin)
        self._plumbing = VlanPlumbing()

    def _event(self, head: Header, line: OsloLine, raw: str, position: Position, type_: str,
               data: dict[str, Any], envelope: dict[str, Any] | None = None,
               ids: IdTuple | None = None) -> Result:
        """An event of ``line``; ``envelope`` may override ``instance_id``."""
        instance = line.instance_id
        if envelope and "instance_id" in envelope:
            instance = envelope.pop("instance_id")
        return self._events.make(
            position, type_, line.time or self.time_of(head), raw, oslo_data(line, data),
            head.host or self.ctx.host, line.severity, line.ids if ids is None else ids,
            instance, envelope,
        )

    def plumbing(self, head: Header, line: OsloLine, raw: str, position: Position) -> Result:
        """A ``host.network.interface`` event from an ``ip link add`` command line."""
        data = self._plumbing.read(line.message)
        if data is None:
            return None
        return self._event(head, line, raw, position, INTERFACE_EVENT, data)
