"""The shapes a ``command.run`` placeholder's value may take.

A rule fills a command's placeholders from event fields, which tenants can
write (an instance name, a hostname in a log line). A value must match its
placeholder's declared shape in full; an undeclared placeholder falls back to
the command's ``value_pattern``, whose default admits a name-like token with no
``..`` (no climbing out of a directory), no ``=`` and no ``,`` (no smuggled
``key=value`` pairs: ``name=evil,role=admin``). No value may start with ``-``
(no smuggled options), whatever its shape.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Literal

Shape = Literal["uuid", "hostname", "integer", "ip", "mac", "name", "interface"]

#: ``{name}`` in a command's argv
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: the fallback for placeholders with no declared shape
DEFAULT_VALUE_PATTERN = r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,254}"

_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                   r"[0-9a-fA-F]{12}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
_INTEGER = re.compile(r"[0-9]{1,18}")
_MAC = re.compile(r"[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}")
_NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_INTERFACE = re.compile(r"(?!.*\.\.)[A-Za-z][A-Za-z0-9/.:-]{0,63}")  # Ethernet1/2, Gi0/1.100


def _ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


SHAPES: dict[str, Callable[[str], bool]] = {
    "uuid": lambda v: _UUID.fullmatch(v) is not None,  # OpenStack ids, with or without dashes
    "hostname": lambda v: _HOSTNAME.fullmatch(v) is not None,  # RFC 1123
    "integer": lambda v: _INTEGER.fullmatch(v) is not None,  # non-negative
    "ip": _ip,  # an IPv4 or IPv6 address
    "mac": lambda v: _MAC.fullmatch(v) is not None,
    "name": lambda v: _NAME.fullmatch(v) is not None,  # letters, digits, . _ - (no ..)
    "interface": lambda v: _INTERFACE.fullmatch(v) is not None,  # a switch port
}


def admits(shape: str | None, pattern: re.Pattern[str], value: str) -> bool:
    """Whether ``value`` may fill a placeholder of ``shape`` (None: ``pattern``)."""
    if value.startswith("-"):
        return False
    if shape is None:
        return pattern.fullmatch(value) is not None
    return SHAPES[shape](value)
