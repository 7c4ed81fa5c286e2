"""The normalizer's shortcuts give what the general code gives, on the whole corpus.

``FieldPlan.fill`` reads plain ``head.key`` specs inline, lists of plain paths
are read inline too, and the bus shape's ``_context_*`` keys are read through
a view: each is checked here against the general extractor closures and the
``ctxt`` shape, over every corpus notification.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.notifications import default_mappings, normalize
from adapters.notifications.decode import (
    FlatContext,
    _publisher_view,
    message_view,
    split_publisher,
)
from adapters.notifications.mapping import FieldPlan
from adapters.notifications.transforms import parse_time, parse_time_plain
from engine.events import EVENT_FIELDS, Event
from tests.paths import corpus_notifications

_FALLBACK = datetime(2025, 1, 1, tzinfo=UTC)


def _messages(corpus: Path) -> list[dict[str, Any]]:
    found = [message for _, message in corpus_notifications(corpus, recorded=False)]
    assert len(found) > 200
    return found


def _general(plan: FieldPlan, root: dict[str, Any], drop_empty_text: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, extract in plan:
        value = extract(root)
        if value is not None and not (drop_empty_text and value == ""):
            out[name] = value
    return out


def test_field_plans_equal_the_general_extractors(corpus: Path) -> None:
    mappings = default_mappings()
    checked = 0
    for message in _messages(corpus):
        mapping = mappings.find(message["event_type"], message.get("publisher_id"))
        if mapping is None or mapping.ignore:
            continue
        for plan, drop in ((mappings.common_fields, True), (mapping.fields, True),
                           (mapping.data, False)):
            fast: dict[str, Any] = {}
            slow: dict[str, Any] = {}
            root = message_view(message)
            root.update(event=fast, data={})
            plan.fill(root, fast, drop)
            root = message_view(message)
            root.update(event=slow, data={})
            assert fast == _general(plan, root, drop), (message["event_type"], fast)
            checked += 1
    assert checked > 500


def _bus_shape(message: dict[str, Any]) -> dict[str, Any]:
    """The ``ctxt`` + ``metadata`` (listener) shape, flattened as it travels on the bus."""
    bus = {key: value for key, value in message.items() if key not in ("ctxt", "metadata")}
    for key, value in message["ctxt"].items():
        bus[f"_context_{key}"] = value
    for key in ("message_id", "timestamp", "priority"):
        if key in message["metadata"]:
            bus[key] = message["metadata"][key]
    return bus


def test_flat_context_reads_like_a_context_dict(corpus: Path) -> None:
    compared = 0
    for message in _messages(corpus):
        if not isinstance(message.get("ctxt"), dict) or not isinstance(
                message.get("metadata"), dict):
            continue
        bus = _bus_shape(message)
        view = message_view(bus)["context"]
        assert isinstance(view, FlatContext)
        assert dict(view) == message["ctxt"]
        listener_event, bus_event = normalize(message), normalize(bus)
        if listener_event is None:
            assert bus_event is None
            continue
        assert bus_event is not None
        assert bus_event.model_dump(exclude={"raw"}) == listener_event.model_dump(exclude={"raw"})
        compared += 1
    assert compared > 30


def test_flat_context_mapping_protocol() -> None:
    message = json.loads('{"_context_request_id": "req-1", "_context_roles": ["admin"], '
                         '"event_type": "x"}')
    view = FlatContext(message)
    assert view["request_id"] == "req-1" and view.get("roles") == ["admin"]
    assert "request_id" in view and "event_type" not in view and view.get("missing") is None
    assert sorted(view) == ["request_id", "roles"] and len(view) == 2


def test_events_built_complete_equal_validated_events(corpus: Path) -> None:
    """The event filled from the field template is what validation would build."""
    checked = 0
    for message in _messages(corpus):
        event = normalize(message, fallback_time=_FALLBACK)
        if event is None:
            continue
        assert list(event.__dict__) == list(EVENT_FIELDS)
        assert event == Event(**event.__dict__)
        checked += 1
    assert checked > 200


def test_oslo_timestamps_parse_as_the_plain_parser_does(corpus: Path) -> None:
    """``parse_time``'s one-parse path for oslo's form gives ``parse_time_plain``'s answer,
    on every corpus timestamp and on near misses (offsets, bad digits, other lengths)."""
    stamps = {str(m.get("timestamp") or m.get("metadata", {}).get("timestamp"))
              for m in _messages(corpus)}
    stamps |= {"2018-05-29 20:12:38.640725", "2018-05-29T20:12:38.640725",
               "2018-05-29 20:12:99.640725", "2018-05-29 20:12:38.64+01:0",
               "2018-05-29 20:12:38.640725Z", "2018-05-29 20:12:38.6407+1",
               "2018-02-30 20:12:38.640725", "20180529T201238.640725+0000",
               "2018-05-29 20:12:38,640725", "x" * 26, "2018-05-29 20:12:38.640725 "}
    fast = 0
    for stamp in stamps:
        assert parse_time(stamp) == parse_time_plain(stamp), stamp
        if len(stamp) == 26 and stamp[19] == "." and parse_time(stamp) is not None:
            fast += 1
    assert fast > 5


def test_publisher_views_are_shared_and_match_the_parts(corpus: Path) -> None:
    """The per-id memo gives ``split_publisher``'s answer, first and later calls alike."""
    ids = {message.get("publisher_id") for message in _messages(corpus)}
    ids |= {None, "", 7, "compute", "compute.", ":h", "nova-compute:h1", "volume.h@b#p"}
    assert len(ids) > 20
    for publisher_id in ids:
        view = _publisher_view(publisher_id)
        prefix, host = split_publisher(publisher_id)
        assert view == {"prefix": prefix, "host": host}
        if isinstance(publisher_id, str):
            assert _publisher_view(publisher_id) is view  # one per id, not one per message
