"""Generated mapping plans give what the field-by-field walk gives, on every corpus notification.

``normalize`` runs each mapping as one generated function (``codegen``);
``normalize_plain`` walks the same mapping spec by spec (``FieldPlan.fill``).
Both are compared on every notification of ``tests/corpus`` (stored samples,
listener shapes and the bus recordings of openstack-2025.1), with every field,
and with ``wanted`` sets: then equal on the fields wanted, and on the facts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.notifications import default_mappings, load_sample, normalize
from adapters.notifications.codegen import _merge_overrides, compiled_mappings
from adapters.notifications.normalize import normalize_plain
from engine.events import ENVELOPE_FIELDS, Event
from engine.loader import load_rules
from engine.reads import fields_read
from tests.paths import corpus_notifications

FALLBACK = datetime(2020, 1, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _messages(corpus: Path) -> list[dict[str, Any]]:
    found = [message for _, message in corpus_notifications(corpus)]
    assert len(found) > 600
    return found


def _pair(message: dict[str, Any], wanted: frozenset[str] | None) -> tuple[Any, Any]:
    fast = normalize(message, fallback_time=FALLBACK, wanted=wanted)
    plain = normalize_plain(message, fallback_time=FALLBACK)
    assert (fast is None) == (plain is None), message.get("event_type")
    return fast, plain


def test_plans_equal_the_field_by_field_walk(corpus: Path) -> None:
    compared = 0
    for message in _messages(corpus):
        fast, plain = _pair(message, None)
        if fast is None:
            continue
        assert fast.model_dump() == plain.model_dump(), message["event_type"]
        assert list(fast.data) == list(plain.data)  # same key order: --print-events
        compared += 1
    assert compared > 600


def _equal_on(fast: Event, plain: Event, wanted: frozenset[str]) -> None:
    for name in ("id", "type", "time", "service", "raw"):
        assert getattr(fast, name) == getattr(plain, name)
    assert [f.model_dump() for f in fast.facts] == [f.model_dump() for f in plain.facts]
    for name in wanted:
        if name in ENVELOPE_FIELDS:
            assert getattr(fast, name) == getattr(plain, name), name
        if name == "data":
            assert fast.data == plain.data
        else:
            assert fast.data.get(name) == plain.data.get(name), name


WANTED_SETS = [
    frozenset({"host"}),
    frozenset({"state", "image_base_hash"}),  # derived from image_id, which it needs
    frozenset({"data"}),
    frozenset(),
]


@pytest.mark.parametrize("wanted", WANTED_SETS, ids=lambda w: ",".join(sorted(w)) or "none")
def test_pruned_plans_equal_on_what_is_wanted(corpus: Path, wanted: frozenset[str]) -> None:
    compared = pruned = 0
    for message in _messages(corpus):
        fast, plain = _pair(message, wanted)
        if fast is None:
            continue
        _equal_on(fast, plain, wanted)
        pruned += fast.model_dump(exclude={"raw"}) != plain.model_dump(exclude={"raw"})
        compared += 1
    assert compared > 600
    assert pruned > 100  # the pruning does leave fields out


def test_shipped_rules_fields_are_extracted(corpus: Path) -> None:
    wanted = fields_read(load_rules([ROOT / "rules"]))
    assert wanted is not None
    for message in _messages(corpus):
        fast, plain = _pair(message, wanted)
        if fast is not None:
            _equal_on(fast, plain, wanted)


def test_a_fact_field_pulls_what_it_reads() -> None:
    """The instance fact reads data.state: computed even when no rule wants state."""
    message = load_sample(ROOT / "tests/corpus/notifications/nova-versioned/"
                          "instance-create-end.json")
    event = normalize(message, wanted=frozenset())
    plain = normalize_plain(message)
    assert event is not None and plain is not None
    assert event.facts and event.facts[0].fields["state"] == plain.data["state"]
    assert "old_state" not in event.data or plain.data.get("old_state") is None


def test_plans_are_generated_once_per_wanted_set() -> None:
    mappings = default_mappings()
    first = compiled_mappings(mappings, {"host"})
    assert compiled_mappings(mappings, ["host"]) is first
    assert compiled_mappings(mappings, None) is not first
    mapping = mappings.mappings[0]
    assert first.plan(mapping) is first.plan(mapping)


def test_a_common_field_the_mapping_overrides_is_a_fallback() -> None:
    """neutron-port's own project_id and host: the common ones run only when those find
    nothing (the corpus comparisons above check the values); one that something in
    between reads, or that reads event.*, stays where it was."""
    common = [("project_id", ["payload.tenant_id", "context.project_id"]),
              ("host", "payload.host"), ("user_id", "event.host")]
    own = [("instance_id", "payload.uuid"), ("project_id", "payload.port.tenant_id"),
           ("host", ["payload.port.host"]), ("user_id", "payload.user")]
    left, fallbacks = _merge_overrides(common, own)
    assert fallbacks == {"project_id": ["payload.tenant_id", "context.project_id"]}
    assert [name for name, _ in left] == ["host", "user_id"]
    mapping = next(m for m in default_mappings().mappings if m.name == "neutron-port")
    plan = compiled_mappings(default_mappings(), None).plan(mapping)
    assert plan.fill.__doc__.count("envelope['project_id'] = v") == 2  # one site, in an else
    assert "else:\n" in plan.fill.__doc__


@pytest.mark.parametrize("port", [
    {"id": "p1", "mac_address": "AA:BB", "tenant_id": "t", "binding:host_id": "h@b"},
    {"nova_object.data": {"id": "p2", "mac_address": "CC"}, "nova_object.name": "Port"},
    {"nova_object.data": {"id": "inner", "status": "DOWN"}, "id": "outer"},
    {"nova_object.data": "not a dict", "id": "p3"},
    None, [], [{"id": "p4"}], "text", 5,
], ids=repr)
def test_a_shared_prefix_reads_as_each_path_alone(port: Any) -> None:
    """``payload.port`` is bound once for all its ``payload.port.*`` paths: the same
    values as the plain walk, whatever the port is (a nova object, a list, missing)."""
    mapping = next(m for m in default_mappings().mappings if m.name == "neutron-port")
    assert "_q0m" in compiled_mappings(default_mappings(), None).plan(mapping).fill.__doc__
    message = {"event_type": "port.update.end", "publisher_id": "network.n1",
               "timestamp": "2020-01-01 00:00:00.000000", "message_id": "m",
               "payload": {"port": port, "port_id": "fallback-id"}}
    fast, plain = _pair(message, None)
    assert fast is not None and plain is not None
    assert fast.model_dump() == plain.model_dump()
