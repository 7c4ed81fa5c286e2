"""Network plumbing from the commands agents log before they run them.

oslo.concurrency logs ``Running cmd (subprocess): ip link add link vlan20 name vlan102
type vlan id 102`` (logger ``oslo_concurrency.processutils``, DEBUG) for nova-network's
VLAN manager; the neutron agents log ``Running command: ['ip', 'link', 'add', ...]``
(``neutron.agent.linux.utils``) and the linuxbridge agent announces a VLAN first
(``Creating subinterface eth1.102 for VLAN 102 on interface eth1``). Each ``ip link
add`` becomes a ``host.network.interface`` event, the shape ``ip -details -json link``
gives too. Whether the parent is a VLAN is known by kind only: it was created as one
earlier in the same stream, or announced as one; never guessed from its name.
"""

from __future__ import annotations

import re
from typing import Any

#: The event and its data fields (``hostfacts`` produces the same from ``ip -json link``).
INTERFACE_EVENT = "host.network.interface"
INTERFACE_DATA = ("name", "link", "kind", "link_kind", "vlan_id", "mtu")

_RUNNING = re.compile(r"Running (?:cmd \(subprocess\)|command(?: \([^)]*\))?): (?P<cmd>.*)")
_LIST_CHARS = re.compile(r"[\[\]',\"]")
_ANNOUNCED = re.compile(r"Creating subinterface (?P<name>\S+) for VLAN (?P<id>\d+) "
                        r"on interface (?P<link>\S+)")
_DELETE = re.compile(r"\bip link (?:delete|del) (?:dev )?(?P<name>\S+)")
_VCONFIG = re.compile(r"\bvconfig add (?P<link>\S+) (?P<id>\d+)")


class VlanPlumbing:
    """One stream's memory of the VLAN devices its commands created or announced."""

    __slots__ = ("vlans",)

    def __init__(self) -> None:
        self.vlans: set[str] = set()

    def read(self, message: str) -> dict[str, Any] | None:
        """The interface an ``ip link add`` creates (its data), else None.

        Announcements and deletions only update the memory.
        """
        if message.startswith("Creating subinterface"):
            m = _ANNOUNCED.match(message)
            if m is not None:
                self.vlans.add(m.group("name"))
            return None
        m = _RUNNING.match(message)
        if m is None:
            return None
        cmd = m.group("cmd")
        if cmd[:1] == "[":  # neutron logs the argument list
            cmd = " ".join(_LIST_CHARS.sub("", cmd).split())
        if "ip link add" in cmd:
            return self._added(cmd[cmd.index("ip link add") + len("ip link add"):].split())
        gone = _DELETE.search(cmd)
        if gone is not None:
            self.vlans.discard(gone.group("name"))
            return None
        v = _VCONFIG.search(cmd)
        if v is not None:  # vconfig's default name: <parent>.<id>
            self.vlans.add(f"{v.group('link')}.{v.group('id')}")
        return None

    def _added(self, words: list[str]) -> dict[str, Any] | None:
        """``[link P] [name] N ... type K [id I] ... [mtu M]`` in any order ``ip`` takes."""
        opts: dict[str, str] = {}
        i = 0
        while i < len(words):
            word = words[i]
            if word in ("link", "name", "type", "id", "mtu", "dev") and i + 1 < len(words):
                opts.setdefault(word, words[i + 1])
                i += 2
            else:
                if "name" not in opts and "dev" not in opts and word not in ("up", "down"):
                    opts["name"] = word  # ``ip link add NAME type ...``
                i += 1
        name = opts.get("name") or opts.get("dev")
        kind = opts.get("type")
        if name is None or kind is None:
            return None
        link = opts.get("link")
        if kind == "vlan":
            self.vlans.add(name)
        vlan_id = opts.get("id")
        mtu = opts.get("mtu")
        return {
            "name": name, "link": link, "kind": kind,
            "link_kind": "vlan" if link is not None and link in self.vlans else None,
            "vlan_id": int(vlan_id) if vlan_id is not None and vlan_id.isdigit() else None,
            "mtu": int(mtu) if mtu is not None and mtu.isdigit() else None,
        }
