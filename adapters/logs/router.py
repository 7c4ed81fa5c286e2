"""Which parser reads which stream, decided by where the stream comes from.

A file's name, a syslog program name or an explicit configuration entry picks
one parser family, so each line is matched by that family's few patterns and
never by every regex of every parser. The ``syslog`` kind is a mixed stream
(``/var/log/syslog``, a syslog listener): there the route is taken per line
from the program name in the syslog header.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping

from adapters.logs.base import Parser, Position, Result, StreamContext
from adapters.logs.header import Header
from adapters.logs.parsers.cinder import CinderApiParser, CinderVolumeParser
from adapters.logs.parsers.dhcp import DhclientParser, DnsmasqParser
from adapters.logs.parsers.haproxy import HaproxyParser
from adapters.logs.parsers.neutron_agent import (
    LinuxbridgeAgentParser,
    NovaNetworkParser,
    OpenvswitchAgentParser,
)
from adapters.logs.parsers.nova_api import NovaApiParser
from adapters.logs.parsers.nova_compute import NovaComputeParser
from adapters.logs.parsers.rabbitmq import RabbitmqParser
from adapters.logs.parsers.switch import SwitchParser
from engine.events import Event

PARSERS: dict[str, type[Parser]] = {
    p.kind: p
    for p in (NovaApiParser, NovaComputeParser, CinderApiParser, CinderVolumeParser,
              SwitchParser, DnsmasqParser, DhclientParser, HaproxyParser, RabbitmqParser,
              LinuxbridgeAgentParser, OpenvswitchAgentParser, NovaNetworkParser)
}

_NAME_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), k) for p, k in (
        (r"nova-api|\bn-api\b|nova-osapi|nova-metadata|osapi_compute", "nova-api"),
        (r"nova-compute|\bn-cpu\b", "nova-compute"),
        (r"nova-network|\bn-net\b", "nova-network"),
        (r"neutron-linuxbridge-agent|linuxbridge-agent|\bneutron-lb-agent\b",
         "neutron-linuxbridge-agent"),
        (r"neutron-openvswitch-agent|openvswitch-agent|\bneutron-ovs-agent\b",
         "neutron-openvswitch-agent"),
        (r"cinder-api|\bc-api\b", "cinder-api"),
        (r"cinder-volume|\bc-vol\b", "cinder-volume"),
        (r"dnsmasq", "dnsmasq"),
        (r"dhclient", "dhclient"),
        (r"haproxy", "haproxy"),
        (r"rabbit", "rabbitmq"),
        (r"\b(?:switch|arista|eos|nxos|nx-os|cisco|ios|junos|juniper)\b", "switch"),
        (r"\A(?:stp|ebra|mlag|lacp|eswd|mib2d|l2ald)\Z", "switch"),
        (r"\A(?:syslog|messages|daemon|kern)\Z", "syslog"),
    )
)
_route_cache: dict[str, str | None] = {}


def _normalize(name: str) -> str:
    n = name.lower()
    if n.startswith("syslog:"):
        return "syslog"
    n = n.rsplit("/", 1)[-1]
    n = n.removeprefix("devstack@").split(".service", 1)[0]
    n = n.split(".log", 1)[0]
    return n.replace("_", "-") if "osapi" not in n else n


def kind_for_origin(name: str, routes: Mapping[str, str] | None = None) -> str | None:
    """The parser kind for a file path, a program name or ``syslog:<sender>``.

    ``routes`` (from configuration) maps glob patterns on the full name to a
    kind and is consulted first; then the built-in name rules apply.
    """
    if routes:
        for pattern, kind in routes.items():
            if fnmatch.fnmatchcase(name, pattern):
                return kind
    hit = _route_cache.get(name, "")
    if hit != "":
        return hit
    n = _normalize(name)
    result = next((kind for rule, kind in _NAME_RULES if rule.search(n)), None)
    if len(_route_cache) > 4096:
        _route_cache.clear()
    _route_cache[name] = result
    return result


class SyslogParser(Parser):
    """A mixed syslog stream: route each line by its program name.

    Lines with no program (Cisco sends ``%FAC-SEV-MNEMONIC:`` right after the
    host) go to the switch parser when they look like one, else nowhere.
    """

    kind = "syslog"

    def __init__(self, ctx: StreamContext, routes: Mapping[str, str] | None = None) -> None:
        super().__init__(ctx)
        self._routes = routes
        self._children: dict[str, Parser] = {}

    def child(self, kind: str) -> Parser:
        parser = self._children.get(kind)
        if parser is None:
            parser = PARSERS[kind](self.ctx)
            self._children[kind] = parser
        return parser

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        prog = head.program
        kind = kind_for_origin(prog, self._routes) if prog else None
        if kind is None or kind == "syslog":
            msg = head.message
            if msg.startswith("%") or msg.startswith("ESWD_"):
                kind = "switch"
            else:
                return None
        parser = self.child(kind)
        result = parser.parse(head, raw, position)
        if parser.ready:
            self.ready.extend(parser.ready)
            parser.ready.clear()
        return result

    def flush(self) -> list[Event]:
        out: list[Event] = []
        for parser in self._children.values():
            out.extend(parser.flush())
        return out


def make_parser(kind: str | None, ctx: StreamContext,
                routes: Mapping[str, str] | None = None) -> Parser:
    """A fresh parser for one stream; an unknown or missing kind reads it as syslog."""
    if kind is None or kind == "syslog":
        return SyslogParser(ctx, routes)
    try:
        return PARSERS[kind](ctx)
    except KeyError:
        raise ValueError(f"unknown log kind {kind!r}; known: {sorted(PARSERS)} and 'syslog'") \
            from None
