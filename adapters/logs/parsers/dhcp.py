"""DHCP as the server (dnsmasq, neutron's and nova-network's) and a guest (dhclient) see it.

dnsmasq logs ``DHCP<VERB>(<interface>) [<ip>] <mac> [<hostname or message>]``,
optionally after a transaction id (``--log-dhcp``); after an ACK the trailing
text is the client's hostname, after anything else it is a message such as
``no address available`` or ``wrong server-ID``.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.logs.base import (
    IGNORED,
    Parser,
    Position,
    Result,
    StreamContext,
    emitting,
    pick_severity,
)
from adapters.logs.build import NO_IDS, StreamEvents
from adapters.logs.errors import as_int
from adapters.logs.header import Header

_DNSMASQ = re.compile(r"(?:(?P<xid>\d+) )?DHCP(?P<verb>[A-Z]+)\((?P<if>[^)]*)\) (?P<rest>.*)")
_MAC = re.compile(r"[0-9A-Fa-f]{1,2}(?:[:-][0-9A-Fa-f]{1,2}){5,19}\Z")
_DHCLIENT = re.compile(
    r"DHCP(?P<verb>[A-Z]+)(?: (?:of|for) (?P<ip>\S+))?(?: on (?P<if>\S+))?"
    r"(?: (?:to|from) (?P<server>\S+))?"
)
_BOUND = re.compile(r"bound to (?P<ip>\S+) -- renewal in (?P<secs>\d+) seconds")
_XID_DETAIL = re.compile(r"\d+ (?!DHCP)")
#: the DHCP message types (RFC 2131), as dnsmasq and dhclient print them after ``DHCP``
DHCP_VERBS = ("discover", "offer", "request", "ack", "nak", "decline", "release", "inform")


class DnsmasqParser(Parser):
    """dnsmasq-dhcp lines: one event per DHCP message, keyed by the client MAC."""

    kind = "dnsmasq"
    emits = emitting([f"dnsmasq.dhcp.{v}" for v in DHCP_VERBS], ["mac"],
                  ["verb", "ip", "interface", "hostname", "message", "xid"])

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "dnsmasq")

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        msg = head.message
        m = _DNSMASQ.match(msg)
        if m is None:
            # --log-dhcp detail lines (options, tags, sizes) belong to a transaction
            return IGNORED if _XID_DETAIL.match(msg) else None
        xid, verb, interface, rest = m.groups()
        verb = verb.lower()
        tokens = rest.strip().split(" ", 2)
        ip = None
        if tokens and not _MAC.match(tokens[0]):
            ip = tokens.pop(0)
        if not tokens or not _MAC.match(tokens[0]):
            return None
        mac = tokens.pop(0).lower()
        text = " ".join(tokens).strip() or None
        data: dict[str, Any] = {
            "verb": verb, "ip": ip, "interface": interface,
            "hostname": text if verb == "ack" else None,
            "message": None if verb == "ack" else text, "xid": xid,
        }
        return self._events.make(
            position, f"dnsmasq.dhcp.{verb}", self.time_of(head), raw, data,
            head.host or self.ctx.host,
            pick_severity("warning" if verb == "nak" else None, head, "info"),
            NO_IDS, None, {"mac": mac},
        )


class DhclientParser(Parser):
    """ISC dhclient in a guest or on a host: DHCP exchanges and the bound lease."""

    kind = "dhclient"
    emits = {
        **emitting([f"dhclient.dhcp.{v}" for v in DHCP_VERBS], (),
                ["verb", "ip", "interface", "server", "hostname", "message"]),
        **emitting(["dhclient.dhcp.bound"], (),
                ["verb", "ip", "renewal_seconds", "interface", "hostname", "message"]),
        **emitting(["dhclient.dhcp.no_offers"], (),
                   ["verb", "ip", "interface", "hostname", "message"]),
    }

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "dhclient")

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        prog = head.program
        if prog is not None and not prog.startswith("dhclient"):
            return None  # e.g. the ifup wrapper's sh echoing dhclient's output
        msg = head.message
        data: dict[str, Any]
        if msg.startswith("DHCP"):
            m = _DHCLIENT.match(msg)
            if m is None:
                return None
            verb = m.group("verb").lower()
            data = {"verb": verb, "ip": m.group("ip"), "interface": m.group("if"),
                    "server": m.group("server"), "hostname": None, "message": msg}
            type_ = f"dhclient.dhcp.{verb}"
        elif msg.startswith("bound to "):
            b = _BOUND.match(msg)
            if b is None:
                return None
            data = {"verb": "bound", "ip": b.group("ip"),
                    "renewal_seconds": as_int(b.group("secs"), "renewal"),
                    "interface": None, "hostname": None, "message": msg}
            type_ = "dhclient.dhcp.bound"
        elif msg.startswith("No DHCPOFFERS received"):
            data = {"verb": "no_offers", "ip": None, "interface": None, "hostname": None,
                    "message": msg}
            type_ = "dhclient.dhcp.no_offers"
        else:
            return None
        return self._events.make(
            position, type_, self.time_of(head), raw, data, head.host or self.ctx.host,
            pick_severity("warning" if data["verb"] in ("nak", "no_offers") else None, head,
                          "info"),
        )
