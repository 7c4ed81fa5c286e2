"""The default exchanges reach every service's notifications, wherever it publishes.

Ten services publish through real oslo.messaging Notifiers, each with the
``control_exchange`` it sets in its own code, or none (cinder never calls
``set_transport_defaults``, so it publishes on oslo.messaging's default
``openstack``). In a vhost of its own, since the exchange names are the real ones.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapters.amqp import NotificationConsumer
from tests.amqp.support import Collector, context, notifier, start, stop

pytestmark = pytest.mark.rabbitmq

LEGACY = "notifications/legacy/nova/designate__compute.instance.create.end.json"
#: service -> its control_exchange (None: not set, oslo.messaging's default)
SERVICES = {"nova": "nova", "cinder": None, "neutron": "neutron", "glance": "glance",
            "heat": "heat", "keystone": "keystone", "ironic": "ironic", "magnum": "magnum",
            "aodh": "aodh", "trove": "trove"}


def test_default_exchanges_get_all_ten_services(vhost_url: str, corpus: Path) -> None:
    collector = Collector()
    consumer = NotificationConsumer(vhost_url, collector)  # every default
    thread = start(consumer)
    payload = json.loads((corpus / LEGACY).read_text())["payload"]
    try:
        for service, exchange in SERVICES.items():
            publisher = notifier(vhost_url, exchange, publisher=f"{service}.host-1")
            for i in range(10):
                publisher.info(context(f"req-{service}-{i}"), "compute.instance.create.end",
                               dict(payload, instance_id=f"{service}-{i}"))
        events = collector.wait_for(100, timeout=30)
    finally:
        stop(consumer, thread)
    per_service = Counter(str(e.instance_id).partition("-")[0] for e in events)
    assert per_service == dict.fromkeys(SERVICES, 10), per_service
    assert len({e.instance_id for e in events}) == 100
