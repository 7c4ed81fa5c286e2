"""Walk every notification in the corpus and check type, ids and service.

Expected values are read straight from each raw file (independently of the
mappings), so a mapping that picks the wrong path fails here.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.notifications import decode_body, load_sample, normalize

FALLBACK = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)

# Deliberately ignored (normalize returns None); see mappings/10-ignore.yaml:
# periodic accounting/telemetry, no happening a rule acts on.
IGNORED = {
    "capacity.pool",        # cinder-volume's periodic pool capacity report
    "metrics.update",       # nova-compute's periodic node metrics
    "volume.usage",         # nova's periodic per-attachment I/O counters
    "instance.exists",      # hourly usage audit (billing)
}

# Versioned nova samples that carry no time anywhere (not even in the payload):
# they only normalize with an explicit fallback time.
NO_TIME_PREFIXES = ("keypair.", "libvirt.", "scheduler.select_destinations", "server_group.",
                    "service.create", "service.delete", "aggregate.", "flavor.",
                    "compute.exception", "compute_task.")


def _files(corpus: Path) -> list[Path]:
    notes = corpus / "notifications"
    files = [p for p in notes.rglob("*.json") if "common_payloads" not in p.parts]
    return sorted(files) + sorted((corpus / "wire").glob("*.json"))


def _data(obj: Any) -> Any:
    return obj["nova_object.data"] if isinstance(obj, dict) and "nova_object.data" in obj else obj


def _service_for(path: Path, message: dict[str, Any]) -> str:
    parent = path.parent.name
    if parent in ("nova-versioned", "nova-versioned-expanded", "nova"):
        return "nova"
    if parent in ("cinder", "neutron", "glance"):
        return parent
    return {"image": "glance", "keypair": "nova"}[message["event_type"].split(".")[0]]


def _message_id(message: dict[str, Any]) -> str | None:
    return message.get("message_id") or (message.get("metadata") or {}).get("message_id")


@pytest.fixture(scope="module")
def walked(corpus: Path) -> list[tuple[Path, dict[str, Any], Any]]:
    out = []
    for path in _files(corpus):
        message = decode_body(load_sample(path))
        out.append((path, message, normalize(message, fallback_time=FALLBACK)))
    return out


def test_every_corpus_notification(walked: list[tuple[Path, dict[str, Any], Any]]) -> None:
    checked: Counter[str] = Counter()
    for path, message, event in walked:
        event_type = message["event_type"]
        where = f"{path.parent.name}/{path.name}"
        if event_type in IGNORED:
            assert event is None, where
            checked["ignored"] += 1
            continue
        assert event is not None, where
        assert event.type == event_type, where
        mid = _message_id(message)
        assert event.id == mid if mid else event.id.startswith("sha1:"), where
        assert event.service == _service_for(path, message), where
        assert event.raw is message
        payload = message["payload"]
        data = _data(payload)
        if event_type.startswith("compute.instance."):
            assert event.instance_id == payload["instance_id"], where
            checked["legacy instance"] += 1
        elif event_type.startswith("instance."):
            assert event.instance_id == data["uuid"], where
            image = data.get("image_uuid") or None
            assert event.image_id == image, where
            checked["versioned instance"] += 1
        elif event_type.startswith("service."):
            fact = event.facts[0]
            assert (fact.kind, fact.id) == ("service", f"{data['binary']}@{data['host']}"), where
            assert fact.delete == (event_type == "service.delete"), where
            checked["service"] += 1
        elif event_type.startswith("volume."):
            assert event.volume_id == payload["volume_id"], where
            assert event.facts[0].id == payload["volume_id"], where
            checked["volume"] += 1
        elif event_type.startswith("port."):
            port = payload.get("port") or {}
            assert event.port_id == (port.get("id") or payload.get("port_id")), where
            assert event.mac == (port["mac_address"].lower() if "mac_address" in port else None)
            checked["port"] += 1
        elif event_type.startswith("image.member."):
            assert event.image_id == payload["image_id"], where
            checked["image member"] += 1
        elif event_type.startswith("image."):
            image_id = payload["id"]
            assert event.image_id == image_id, where
            assert event.image_base_hash == hashlib.sha1(image_id.encode()).hexdigest()
            assert event.facts[0].kind == "image", where
            checked["image"] += 1
        else:
            checked["other"] += 1
        if event.image_id:
            assert event.image_base_hash == hashlib.sha1(event.image_id.encode()).hexdigest()
        else:
            assert event.image_base_hash is None, where
    # every family was really walked (a silently skipped folder would fail here):
    # 140 nova doc samples + 31 expanded + 91 legacy + 2 wire bodies = 264 files
    assert dict(checked) == {
        "legacy instance": 11, "versioned instance": 126, "service": 8, "volume": 15,
        "port": 11, "image": 4, "image member": 3, "ignored": 7, "other": 79,
    }
    assert len(walked) == 264


def test_only_timeless_samples_need_a_fallback_time(
    walked: list[tuple[Path, dict[str, Any], Any]],
) -> None:
    """Real captures all carry a time; only some bare nova doc samples do not."""
    for path, message, event in walked:
        if event is None:
            continue
        if event.time == FALLBACK:
            assert path.parent.name.startswith("nova-versioned"), path
            assert message["event_type"].startswith(NO_TIME_PREFIXES), path
        else:
            assert event.time.year >= 2012, path
