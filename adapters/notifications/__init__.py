"""Notifications in: decode AMQP bodies, normalize them to ``Event`` through YAML mappings.

Public API (what the engine and the CLI call):

- ``decode_body(body) -> dict``: unwrap the oslo 2.0 envelope or take the bare 1.0 dict.
- ``normalize(message, *, fallback_id=None) -> Event | None``: None = deliberately ignored.
- ``normalizer(wanted)``: the same bound to the fields something reads, for the live consumer.
- ``events_from_file(path) -> Iterator[Event]``: replay input (JSON per line or per file).
"""

from adapters.notifications.decode import content_id, decode_body, message_view
from adapters.notifications.errors import DecodeError, NormalizationError, NotificationError
from adapters.notifications.files import events_from_file
from adapters.notifications.mapping import MappingError, MappingSet, load_mappings
from adapters.notifications.normalize import default_mappings, normalize, normalizer
from adapters.notifications.samples import expand_refs, load_sample

__all__ = [
    "DecodeError",
    "MappingError",
    "MappingSet",
    "NormalizationError",
    "NotificationError",
    "content_id",
    "decode_body",
    "default_mappings",
    "events_from_file",
    "expand_refs",
    "load_mappings",
    "load_sample",
    "message_view",
    "normalize",
    "normalizer",
]
