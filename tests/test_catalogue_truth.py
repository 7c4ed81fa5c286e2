"""The producers' declarations are true: every corpus event is of a declared type, with
declared fields only.

``validate`` refuses a rule naming a field no producer declares; if a declaration
left out a field a producer really sets, a correct rule would be refused. So
every corpus log line and notification goes through the real parsers and
normalizer here, and each event is held to its type's declaration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.inventory.snapshot import FACT_FIELDS, facts_from_files
from adapters.logs.pipeline import events_from_file
from adapters.notifications import decode_body, load_sample, normalize
from dreamcatcher.catalogue import shipped_catalogue
from engine.catalogue import ALWAYS, Catalogue
from engine.events import ENVELOPE_FIELDS, Event

FALLBACK = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
SNAPSHOT = Path(__file__).parent / "pack" / "snapshot"


def undeclared(event: Event, catalogue: Catalogue) -> list[str]:
    """What of ``event`` its type's declaration does not cover (empty when all is declared)."""
    spec = catalogue.events.get(event.type)
    if spec is None:
        return [f"type {event.type!r} is not in the catalogue"]
    out = [f"{event.type}: envelope {name}" for name in ENVELOPE_FIELDS
           if name not in ALWAYS and getattr(event, name) is not None
           and name not in spec.envelope]
    out += [f"{event.type}: data.{key}" for key in event.data if key not in spec.data]
    return out


def _log_files(corpus: Path) -> list[Path]:
    files = sorted((corpus / "logs").glob("*.log"))
    # the real OpenStack 2025.1 run's own service logs, as its services wrote them
    run = sorted((corpus / "openstack-2025.1" / "logs").glob("*.log"))
    assert len(run) >= 10, "tests/corpus/openstack-2025.1/logs is part of the corpus"
    return files + run


def _notifications(corpus: Path) -> Iterator[tuple[str, dict[str, object]]]:
    notes = corpus / "notifications"
    files = [p for p in notes.rglob("*.json") if "common_payloads" not in p.parts]
    for path in sorted(files) + sorted((corpus / "wire").glob("*.json")):
        yield str(path), decode_body(load_sample(path))
    captured = corpus / "openstack-2025.1" / "notifications.jsonl"
    for number, line in enumerate(captured.read_text().splitlines(), start=1):
        if line.strip():
            yield f"{captured}:{number}", decode_body(json.loads(line)["raw"])


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return shipped_catalogue()


def test_every_corpus_log_event_is_declared(corpus: Path, catalogue: Catalogue) -> None:
    problems: dict[str, str] = {}
    events = 0
    for path in _log_files(corpus):
        for event in events_from_file(path):
            events += 1
            for problem in undeclared(event, catalogue):
                problems.setdefault(problem, f"{path.name}: {event.raw!r:.120}")
    assert events > 1000
    assert not problems, "\n".join(f"{k}  (e.g. {v})" for k, v in sorted(problems.items()))


def test_every_corpus_notification_is_declared(corpus: Path, catalogue: Catalogue) -> None:
    problems: dict[str, str] = {}
    events = 0
    for where, message in _notifications(corpus):
        event = normalize(message, fallback_time=FALLBACK)
        if event is None:
            continue  # an ignored type: it emits nothing, and is not in the catalogue
        events += 1
        for problem in undeclared(event, catalogue):
            problems.setdefault(problem, where)
    assert events > 250
    assert not problems, "\n".join(f"{k}  (e.g. {v})" for k, v in sorted(problems.items()))


def test_ignored_types_are_not_in_the_catalogue(catalogue: Catalogue) -> None:
    """A rule on a type the mappings drop could never fire."""
    for name in ("compute.instance.exists", "instance.exists", "capacity.pool", "volume.usage"):
        assert name not in catalogue.events


def test_the_check_sees_an_undeclared_field(catalogue: Catalogue) -> None:
    """The helper above can fail: an extra data key, a stray envelope field, an unknown type."""
    event = Event(id="x", type="dnsmasq.dhcp.ack", time=FALLBACK, mac="fa:16:3e:00:00:01",
                  data={"verb": "ack", "lease": 3600})
    assert undeclared(event, catalogue) == ["dnsmasq.dhcp.ack: data.lease"]
    event = Event(id="x", type="dnsmasq.dhcp.ack", time=FALLBACK, volume_id="v")
    assert undeclared(event, catalogue) == ["dnsmasq.dhcp.ack: envelope volume_id"]
    event = Event(id="x", type="dnsmasq.dhcp.acked", time=FALLBACK)
    assert undeclared(event, catalogue) == ["type 'dnsmasq.dhcp.acked' is not in the catalogue"]


def test_snapshot_facts_are_declared() -> None:
    facts = facts_from_files(sorted(SNAPSHOT.glob("*.json")))
    assert {f.kind for f in facts} == set(FACT_FIELDS)
    for fact in facts:
        assert set(fact.fields) <= FACT_FIELDS[fact.kind], fact
