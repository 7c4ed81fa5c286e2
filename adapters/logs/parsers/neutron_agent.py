"""neutron's L2 agents (linuxbridge, openvswitch): the interfaces they plumb.

Only their command lines carry events here (see ``plumbing``); every other line is
known oslo.log output without an event of ours.
"""

from __future__ import annotations

from adapters.logs.base import IGNORED, Position, Result
from adapters.logs.header import Header
from adapters.logs.parsers.oslobase import PLUMBING_EMITS, OsloParser


class _AgentParser(OsloParser):
    emits = PLUMBING_EMITS

    def parse(self, head: Header, raw: str, position: Position) -> Result:
        line = self._oslo.parse(head.message)
        if line is None:
            return None
        msg = line.message
        if msg[:8] == "Running " or msg[:21] == "Creating subinterface":
            return self.plumbing(head, line, raw, position) or IGNORED
        return IGNORED


class LinuxbridgeAgentParser(_AgentParser):
    kind = "neutron-linuxbridge-agent"
    service = "neutron-linuxbridge-agent"


class OpenvswitchAgentParser(_AgentParser):
    kind = "neutron-openvswitch-agent"
    service = "neutron-openvswitch-agent"


class NovaNetworkParser(_AgentParser):
    """nova-network (its VLAN manager's ``ip link`` commands)."""

    kind = "nova-network"
    service = "nova-network"
