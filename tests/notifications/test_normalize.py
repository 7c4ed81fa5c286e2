"""Field-level contract of the normalizer, on real corpus notifications."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.deadletter import DeadLetters
from adapters.notifications import (
    DecodeError,
    MappingError,
    NormalizationError,
    decode_body,
    events_from_file,
    load_mappings,
    load_sample,
    normalize,
)


def _load(corpus: Path, rel: str) -> dict[str, Any]:
    return decode_body(load_sample(corpus / rel))


def _fact(event: Any, kind: str) -> Any:
    return next(f for f in event.facts if f.kind == kind)


def test_legacy_instance_create_end(corpus: Path) -> None:
    msg = _load(corpus, "notifications/legacy/nova/designate__compute.instance.create.end.json")
    event = normalize(msg)
    assert event is not None
    assert event.id == "af100d58-7a9c-41a1-9311-8c52b44ca294"
    assert event.time.isoformat() == "2012-11-03T17:54:48.797009+00:00"
    assert (event.service, event.host, event.severity) == ("nova", "stack01", "info")
    assert event.request_id == "req-5bef6a23-2e14-4b3f-9eb1-1be293b75fb7"
    assert event.project_id == "33a88272e06a49c1a0f653abc374b56b"
    assert event.user_id == "953f8394fa044302b7d42f47228e427d"
    assert event.instance_id == "3e301a55-fbbe-478d-92d0-eefabf135c38"
    assert event.image_id == "e52f1321-fb9e-40fb-8057-555a850462e8"
    assert event.image_base_hash == hashlib.sha1(event.image_id.encode()).hexdigest()
    assert event.data["state"] == "active"
    assert event.data["name"] == "TestInstance"
    assert event.data["flavor"] == "m1.tiny"
    assert event.data["fixed_ips"] == ["172.16.0.14"]
    fact = _fact(event, "instance")
    assert fact.id == event.instance_id and not fact.delete
    assert fact.fields["host"] == "stack01"
    assert fact.fields["boot_from_volume"] is False
    assert fact.fields["image_base_hash"] == event.image_base_hash


def test_versioned_and_legacy_land_in_the_same_fields(corpus: Path) -> None:
    versioned = normalize(_load(corpus, "notifications/nova-versioned/instance-create-end.json"))
    legacy = normalize(
        _load(corpus, "notifications/legacy/nova/designate__compute.instance.create.end.json")
    )
    assert versioned is not None and legacy is not None
    assert versioned.instance_id == "178b0921-8f85-4257-88b6-2e743b5a975c"
    assert versioned.image_id == "155d900f-4e14-4e4c-a73d-069cbf4541e6"
    assert versioned.request_id == "req-5b6c791d-5709-4f36-8fbe-c3e02869e35d"  # payload.request_id
    assert versioned.host == "compute" and versioned.data["node"] == "fake-mini"
    assert versioned.data["flavor"] == "test_flavor"
    assert versioned.data["macs"] == ["fa:16:3e:4c:2c:30"]
    assert versioned.id.startswith("sha1:")  # doc samples have no message_id
    v_fact, l_fact = _fact(versioned, "instance"), _fact(legacy, "instance")
    assert set(l_fact.fields) <= set(v_fact.fields)


def test_boot_from_volume_pair_has_no_image(corpus: Path) -> None:
    """k2hr3 captures: legacy base_image_ref "" and image_ref_url ".../images/"; versioned ""."""
    for rel in ("notifications/legacy/nova/k2hr3osnl__notifications_nova.json",
                "notifications/nova-versioned-expanded/k2hr3osnl__versioned_notifications_nova.json"):
        event = normalize(_load(corpus, rel))
        assert event is not None
        assert event.instance_id == "12345678-1234-5678-1234-567812345678"
        assert event.image_id is None and event.image_base_hash is None
        assert event.id == "mssageid-ffff-ffff-ffff-ffffffffffff"  # listener shape: metadata
        assert event.request_id == "req-ffffffff-ffff-ffff-ffff-ffffffffffff"
        fact = _fact(event, "instance")
        assert fact.delete is True
        assert fact.fields["boot_from_volume"] is True
        assert "image_id" not in fact.fields


def test_versioned_volume_attach_and_fault(corpus: Path) -> None:
    event = normalize(_load(corpus, "notifications/nova-versioned/instance-volume_swap-error.json"))
    assert event is not None
    assert event.severity == "error"
    assert event.volume_id == event.data["new_volume_id"]
    assert event.data["fault"] == "'tuple' object does not support item assignment"
    assert event.data["exception"] == "TypeError"


def test_service_status(corpus: Path) -> None:
    event = normalize(_load(corpus, "notifications/nova-versioned/service-update.json"))
    assert event is not None
    fact = _fact(event, "service")
    assert fact.id == "nova-compute@host1"
    assert fact.fields == {"binary": "nova-compute", "host": "host1", "disabled": False,
                           "forced_down": False, "up": True}
    forced = _load(corpus, "notifications/nova-versioned/service-update.json")
    forced["payload"]["nova_object.data"]["forced_down"] = True
    down = normalize(forced)
    assert down is not None and _fact(down, "service").fields["up"] is False


def test_cinder_volume_attach_and_string_size(corpus: Path) -> None:
    cinder = "notifications/legacy/cinder/"
    event = normalize(_load(corpus, cinder + "searchlight__volumes__volume.attach.end.json"))
    assert event is not None
    assert (event.service, event.host) == ("cinder", "devstack")
    assert event.data["backend"].startswith("devstack@")
    attached = ["ae81266c-a292-4e48-bf81-a3894bd62f4a"]
    assert _fact(event, "volume").fields["instance_ids"] == attached
    watcher = normalize(_load(corpus, cinder + "watcher__scenario_1_volume-attach.json"))
    assert watcher is not None
    assert watcher.data["size"] == 40  # "40" in the fixture
    assert _fact(watcher, "volume").fields["instance_ids"] == ["server"]


def test_neutron_port(corpus: Path) -> None:
    rel = "notifications/legacy/neutron/searchlight__ports__port_attach.json"
    event = normalize(_load(corpus, rel))
    assert event is not None
    assert event.port_id == "f7c93feb-b837-4bb1-b0bc-7ad2a53d85cb"
    assert event.mac == "fa:16:3e:bf:7f:89"
    assert event.host == "devstack"
    fact = _fact(event, "port")
    assert fact.fields["device_id"] == "939d5843-5ca0-4e63-86f2-7a945724618c"
    assert fact.fields["device_owner"] == "compute:None"
    assert fact.fields["host"] == "devstack"
    assert fact.fields["fixed_ips"][0]["ip_address"] == "192.168.50.3"


def test_mac_is_lower_cased(corpus: Path) -> None:
    msg = _load(corpus, "notifications/legacy/neutron/designate__port.create.end.json")
    msg["payload"]["port"]["mac_address"] = "FA:16:3E:09:EF:F2"
    event = normalize(msg)
    assert event is not None and event.mac == "fa:16:3e:09:ef:f2"
    assert _fact(event, "port").fields["mac"] == "fa:16:3e:09:ef:f2"


@pytest.mark.parametrize(("priority", "severity"), [
    ("INFO", "info"), ("WARN", "warning"), ("warning", "warning"), ("ERROR", "error"),
    ("CRITICAL", "critical"),
])
def test_severity(corpus: Path, priority: str, severity: str) -> None:
    msg = _load(corpus, "notifications/legacy/nova/designate__compute.instance.create.start.json")
    msg["priority"] = priority
    event = normalize(msg)
    assert event is not None and event.severity == severity


def test_wire_envelopes(corpus: Path) -> None:
    wire = corpus / "wire"
    raw = (wire / "jachinte__novaNotification2__nova__keypair.delete.start.json").read_bytes()
    assert "oslo.message" in json.loads(raw)
    event = normalize(decode_body(raw))
    assert event is not None
    assert event.type == "keypair.delete.start"
    assert event.time.isoformat() == "2018-05-29T20:12:38.640725+00:00"
    assert event.service == "nova" and event.request_id and event.request_id.startswith("req-")
    glance = (corpus / "wire/jachinte__glanceNotification__glance__image.create.json").read_text()
    image = normalize(decode_body(glance))
    assert image is not None and image.service == "glance" and image.image_id


def test_stable_fallback_id(corpus: Path) -> None:
    a = normalize(_load(corpus, "notifications/nova-versioned/instance-pause-end.json"))
    b = normalize(_load(corpus, "notifications/nova-versioned/instance-pause-end.json"))
    c = normalize(_load(corpus, "notifications/nova-versioned/instance-pause-start.json"))
    assert a is not None and b is not None and c is not None
    assert a.id == b.id != c.id
    given = normalize(_load(corpus, "notifications/nova-versioned/instance-pause-end.json"),
                      fallback_id="file#1")
    assert given is not None and given.id == "file#1"


@pytest.mark.parametrize("body", [b"", b"not json", b"[1, 2]", b'"text"',
                                  b'{"oslo.version": "2.0", "oslo.message": "{broken"}',
                                  b'{"oslo.version": "2.0", "oslo.message": 5}',
                                  b'{"oslo.version": "3.0", "oslo.message": "{}"}'])
def test_decode_errors(body: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        decode_body(body)
    assert info.value.reason


@pytest.mark.parametrize(("message", "reason"), [
    ({"payload": {}}, "no event_type"),
    ({"event_type": 5, "payload": {}}, "no event_type"),
    ({"event_type": "compute.instance.create.end", "payload": [1]}, "payload is a list"),
    ({"event_type": "compute.instance.create.end", "payload": {}}, "no usable timestamp"),
    ({"event_type": "port.create.end", "timestamp": "2020-01-01 00:00:00",
      "payload": {"port": {"id": {"nested": 1}}}}, "port_id is a dict"),
])
def test_normalization_errors(message: dict[str, Any], reason: str) -> None:
    with pytest.raises(NormalizationError) as info:
        normalize(message)
    assert reason in info.value.reason


def test_unknown_service_is_kept_not_dropped() -> None:
    event = normalize({"event_type": "orchestration.stack.create.end", "priority": "INFO",
                       "publisher_id": "orchestration.heat1", "timestamp": "2020-01-01 00:00:00",
                       "message_id": "m1", "payload": {"tenant_id": "p"}})
    assert event is not None
    assert (event.service, event.host, event.project_id) == ("orchestration", "heat1", "p")


def test_mapping_errors_point_at_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("mappings:\n  - name: x\n    event_types: ['a.*']\n"
                   "    fields: {host: {path: payload.h, transform: shout}}\n")
    with pytest.raises(MappingError, match=r"bad.yaml: mapping 'x'.*unknown transform 'shout'"):
        load_mappings([bad])


def test_events_from_file_jsonl_and_dead_letters(corpus: Path, tmp_path: Path) -> None:
    lines = [
        (corpus / "wire/jachinte__novaNotification2__nova__keypair.delete.start.json").read_text(),
        (corpus / "notifications/legacy/neutron/designate__port.create.end.json").read_text(),
        (corpus / "notifications/legacy/cinder/watcher__capacity.json").read_text(),  # ignored
        "{not json",
        (corpus / "notifications/nova-versioned-expanded/watcher__instance-create-end.json")
        .read_text(),
    ]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(json.dumps(json.loads(t)) if t[0] == "{" and t != "{not json"
                              else t for t in lines) + "\n")
    dead = DeadLetters(None)
    events = list(events_from_file(path, dead_letters=dead))
    assert [e.type for e in events] == ["keypair.delete.start", "port.create.end",
                                        "instance.create.end"]
    assert dead.total == 1 and dead.kept[0]["origin"] == f"{path}:4"
    assert "not JSON" in dead.kept[0]["reason"]
    with pytest.raises(DecodeError, match=r"dump.jsonl:4"):
        list(events_from_file(path))


def test_a_recording_of_a_real_bus_replays_as_its_messages(corpus: Path) -> None:
    """A capture consumer's records (``raw`` = the body as published) are the
    messages themselves: the same events as the bodies decoded one by one."""
    recording = corpus / "openstack-2025.1/notifications.jsonl"
    dead = DeadLetters(None)
    events = list(events_from_file(recording, dead_letters=dead))
    assert dead.total == 0, dead.kept[:3]
    records = [json.loads(line) for line in recording.read_text().splitlines()]
    direct = [normalize(decode_body(r["raw"])) for r in records]
    assert [e.id for e in events] == [e.id for e in direct if e is not None]
    types = {e.type for e in events}
    assert {"compute.instance.create.end", "instance.create.end", "volume.create.end",
            "image.upload", "identity.user.created"} <= types
    cinder = next(e for e in events if e.type == "volume.create.end")
    assert cinder.volume_id and cinder.project_id and cinder.service == "cinder"


def test_no_mapping_files_is_an_error_not_an_empty_set(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="no notification mapping files"):
        load_mappings(sorted(tmp_path.glob("*.yaml")))


def test_events_from_file_expands_refs(corpus: Path) -> None:
    sample = corpus / "notifications/nova-versioned/instance-create-end.json"
    events = list(events_from_file(sample))
    assert len(events) == 1
    payload = events[0].raw["payload"]
    assert payload["nova_object.name"] == "InstanceCreatePayload"  # override kept
    data = payload["nova_object.data"]
    assert data["keypairs"][0]["nova_object.data"]["name"] == "my-key"  # from the override
    assert data["uuid"] == "178b0921-8f85-4257-88b6-2e743b5a975c"  # from InstancePayload
    assert data["fault"] is None  # from InstanceActionPayload
    assert events[0].instance_id == data["uuid"]


def test_fast_built_event_equals_a_validated_one(corpus: Path) -> None:
    from engine.events import Event

    for rel in ("notifications/nova-versioned/instance-create-end.json",
                "notifications/legacy/neutron/searchlight__ports__port_attach.json"):
        event = normalize(_load(corpus, rel))
        assert event is not None
        validated = Event.model_validate(event.model_dump())
        assert validated == event
        assert validated.model_dump_json() == event.model_dump_json()


def test_numbers_and_booleans_in_the_envelope_become_text() -> None:
    """The envelope's all-text check in C lets non-text values through to the loop."""
    event = normalize({"event_type": "port.create.end", "timestamp": "2020-01-01 00:00:00",
                       "publisher_id": "network.h1",
                       "payload": {"port": {"id": 42, "tenant_id": True}}})
    assert event is not None
    assert (event.port_id, event.project_id) == ("42", "True")
