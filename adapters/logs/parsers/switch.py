"""Switch syslog: BPDU guard, err-disable and link state, per vendor.

Arista EOS names the offending MAC (``source mac fa:16:3e:..``), which is what
ties a tripped port to one instance; Cisco IOS, NX-OS and Junos do not.
``host`` is the switch as the syslog header names it (IOS console lines have
none; then the stream's configured host is used).
"""

from __future__ import annotations

import re
from typing import Any

from adapters.logs.base import (
    Parser,
    Position,
    Result,
    StreamContext,
    emitting,
    pick_severity,
)
from adapters.logs.build import NO_IDS, StreamEvents
from adapters.logs.header import Header

_MNEMONIC = re.compile(r"%(?P<fac>[A-Z0-9_]+)-(?P<sev>\d)-(?P<mnem>[A-Z0-9_]+): (?P<text>.*)")
_BPDU = re.compile(
    r"Received BPDU (?:packet )?on (?:port )?(?P<if>\S+?),? with BPDU [Gg]uard enabled"
    r"(?:.*?\(source mac (?P<mac>[0-9a-fA-F:.]+)\))?"
)
_ERRDIS = re.compile(r"(?P<reason>\S+) error detected on (?P<if>[^\s,]+?)[.,]?(?: |\Z)")
_LINEPROTO = re.compile(r"Line protocol on Interface (?P<if>[^\s,]+)(?: \((?P<desc>[^)]*)\))?,"
                        r" changed state to (?P<state>up|down)")
_LINK = re.compile(r"Interface (?P<if>[^\s,]+)(?: \((?P<desc>[^)]*)\))?,? (?:changed state to|is)"
                   r" (?P<state>up|down|administratively down)(?: \((?P<why>[^)]*)\))?")
_MLAG = re.compile(r"Local interface (?P<if>\S+) is link down")
_STP_DEL = re.compile(r"Interface (?P<if>\S+) has been removed from instance (?P<inst>\S+)")
_JUNOS_BPDU = re.compile(r"ESWD_BPDU_BLOCK_ERROR_DISABLED: (?P<if>[^:\s]+): bpdu-block")
_JUNOS_LINK = re.compile(r"SNMP_TRAP_LINK_(?P<state>UP|DOWN): .*?ifName (?P<if>\S+)")
_SEV = ("critical", "critical", "critical", "error", "warning", "info", "info", "debug")


def _vendor(fac: str, text: str) -> str:
    if fac == "STP" or fac.startswith("ETHPORT"):
        return "cisco-nxos"
    if "BPDU packet" in text or (fac in ("ETH", "MLAG", "LINEPROTO") and "Interface" in text \
            and "(" in text):
        return "arista-eos"
    return "cisco-ios"


class SwitchParser(Parser):
    """Arista EOS, Cisco IOS / NX-OS and Juniper lines about STP and links."""

    kind = "switch"
    _COMMON = ("vendor", "mnemonic", "message", "interface", "switch")
    emits = {
        **emitting(["switch.stp.bpdu_guard"], ["mac"], [*_COMMON, "unit"]),
        **emitting(["switch.errdisable"], (), [*_COMMON, "reason"]),
        **emitting(["switch.link.up", "switch.link.down"], (),
                [*_COMMON, "description", "layer", "reason"]),
        **emitting(["switch.mlag.inactive"], (), _COMMON),
        **emitting(["switch.stp.interface_removed"], (), [*_COMMON, "instance"]),
    }

    def __init__(self, ctx: StreamContext) -> None:
        super().__init__(ctx)
        self._events = StreamEvents(ctx.origin, "switch")

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        msg = head.message
        if msg.startswith("%"):
            m = _MNEMONIC.match(msg)
            if m is None:
                return None
            return self._cisco_like(head, raw, position, m)
        if msg.startswith("ESWD_") or msg.startswith("SNMP_TRAP_LINK"):
            return self._junos(head, raw, position, msg)
        tag = head.msgid
        if tag is not None and (tag.startswith("ESWD_") or tag.startswith("SNMP_TRAP_LINK")):
            # Junos structured-data format: the tag is RFC 5424's MSGID, the text follows
            # the SD; as "TAG: text" it reads as the standard format does
            return self._junos(head, raw, position, f"{tag}: {msg}")
        return None

    def _event(self, head: Header, raw: str, position: Position, type_: str, data: dict[str, Any],
               severity: str | None, mac: str | None = None) -> Result:
        switch = head.host or self.ctx.host
        data["switch"] = switch
        return self._events.make(position, type_, self.time_of(head), raw, data, switch,
                                 severity, NO_IDS, None, {"mac": mac.lower()} if mac else None)

    def _cisco_like(self, head: Header, raw: str, position: Position, m: re.Match[str]) -> Result:
        fac, sev, mnem, text = m.groups()
        severity = _SEV[int(sev)]
        vendor = _vendor(fac, text)
        base = {"vendor": vendor, "mnemonic": f"{fac}-{sev}-{mnem}", "message": text}
        if mnem == "BLOCK_BPDUGUARD":
            b = _BPDU.match(text)
            if b is None:
                return None
            mac = b.group("mac")
            return self._event(head, raw, position, "switch.stp.bpdu_guard",
                               {**base, "interface": b.group("if")}, severity, mac)
        if mnem in ("ERRDISABLE", "ERR_DISABLE"):
            e = _ERRDIS.match(text)
            if e is None:
                return None
            return self._event(head, raw, position, "switch.errdisable",
                               {**base, "interface": e.group("if"), "reason": e.group("reason")},
                               severity)
        if mnem == "UPDOWN" or mnem.startswith("IF_DOWN") or mnem == "IF_UP":
            lm = _LINEPROTO.match(text) or _LINK.match(text)
            if lm is None:
                return None
            state = "up" if lm.group("state") == "up" else "down"
            data = {**base, "interface": lm.group("if"), "description": lm.group("desc"),
                    "layer": "protocol" if fac == "LINEPROTO" else "link"}
            if "why" in lm.re.groupindex and lm.group("why"):
                data["reason"] = lm.group("why")
            return self._event(head, raw, position, f"switch.link.{state}", data, severity)
        if mnem == "INTF_INACTIVE_LOCAL":
            mm = _MLAG.match(text)
            if mm is not None:
                return self._event(head, raw, position, "switch.mlag.inactive",
                                   {**base, "interface": mm.group("if")}, severity)
        if mnem == "INTERFACE_DEL":
            sm = _STP_DEL.match(text)
            if sm is not None:
                return self._event(head, raw, position, "switch.stp.interface_removed",
                                   {**base, "interface": sm.group("if"),
                                    "instance": sm.group("inst")}, severity)
        return None

    def _junos(self, head: Header, raw: str, position: Position, msg: str) -> Result:
        j = _JUNOS_BPDU.match(msg)
        if j is not None:
            ifl = j.group("if")
            data = {"vendor": "juniper", "mnemonic": "ESWD_BPDU_BLOCK_ERROR_DISABLED",
                    "interface": ifl.split(".", 1)[0], "unit": ifl, "message": msg}
            return self._event(head, raw, position, "switch.stp.bpdu_guard", data,
                               pick_severity(None, head, "error"))
        k = _JUNOS_LINK.match(msg)
        if k is not None:
            state = k.group("state").lower()
            data = {"vendor": "juniper", "mnemonic": f"SNMP_TRAP_LINK_{k.group('state')}",
                    "interface": k.group("if").rstrip(","), "message": msg, "layer": "link"}
            return self._event(head, raw, position, f"switch.link.{state}", data,
                               pick_severity(None, head, "warning"))
        return None
