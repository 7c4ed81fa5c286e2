"""The catalogue of everything the shipped producers emit, assembled for ``validate``.

Each producer declares its own part next to the code that emits it: log
parsers (``Parser.emits``), the host-facts reader (``adapters.hostfacts.EMITS``),
notification mappings (``known_types`` with their
``fields``/``data``/``facts``) and inventory snapshots (``FACT_FIELDS``). The
engine only checks rules against the result (``engine.rulecheck``).
"""

from __future__ import annotations

from adapters.hostfacts import EMITS as HOSTFACTS_EMITS
from adapters.inventory.snapshot import FACT_FIELDS
from adapters.logs.router import PARSERS
from adapters.notifications.catalogue import mappings_catalogue
from adapters.notifications.normalize import default_mappings
from engine.catalogue import Catalogue, combine


def log_catalogue() -> Catalogue:
    """Every event type a log parser builds."""
    return combine(Catalogue(dict(parser.emits)) for parser in PARSERS.values())


def shipped_catalogue() -> Catalogue:
    """Log parsers, host facts, notification mappings and snapshot facts, as one catalogue."""
    return combine([log_catalogue(), Catalogue(dict(HOSTFACTS_EMITS)),
                    mappings_catalogue(default_mappings()),
                    Catalogue({}, FACT_FIELDS)])
