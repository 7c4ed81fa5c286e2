"""The live worker's deploy.yaml for a test cloud, and the rule pack it runs.

The worker consumes the cloud as a deployment would: the cloud's vhost and exchanges
(cinder publishes on ``openstack``), the services' own log files through the follower,
the inventory pulled from the cloud's API with openstacksdk (a clouds.yaml entry), and
the shipped rules, some with test-sized thresholds (``RULE_OVERRIDES``).
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from tests.cloud.harness import Cloud
from tests.cloud.services import COMPUTE_HOST, LOG_KINDS, VOLUME_HOST
from tests.paths import REPO

EXCHANGES = ["nova", "openstack", "neutron", "glance", "keystone"]

#: shipped rules whose thresholds are sized for production, set to what a test can reach.
#: The fake driver's console log is 38 bytes, not 50 MB: nova-api's ``len:`` (headers
#: included) is 455 for its console-output answer and 407 for the 202 of stop, start or
#: reboot, so 440 tells them apart as 50 MB does in production. An absence of 2 min would
#: make the test wait 2 min.
RULE_OVERRIDES: dict[str, dict[tuple[str, ...], Any]] = {
    "console-log-flood": {("when", "count", "where", "data.length"): {"gte": 440}},
    "volume-post-lost": {("when", "expect", "within"): "20s"},
    # 200,000 soft-deleted rows make a deleted-including listing take 1-2 s here, not the
    # 138 s of the incident; normal listings took at most 0.41 s in these tests
    "slow-api-db-bloat": {("when", "baseline", "min"): 1.0},
}


def rule_pack(dest: Path) -> Path:
    """The shipped rules copied to ``dest``, with ``RULE_OVERRIDES`` applied."""
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted((REPO / "rules").glob("*.yaml")):
        if src.name.endswith(".test.yaml"):
            continue
        doc = yaml.safe_load(src.read_text(encoding="utf-8"))
        for path, value in RULE_OVERRIDES.get(doc["rule"], {}).items():
            node = doc
            for key in path[:-1]:
                node = node[key]
            assert path[-1] in node, f"{src.name}: no {'.'.join(path)} to override"
            node[path[-1]] = value
        (dest / src.name).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return dest


def deploy_config(cloud: Cloud, tmp: Path, http_port: int) -> Path:
    """Write the worker's deploy.yaml (and its clouds.yaml) under ``tmp``."""
    logs = cloud.layout.logs
    files = [{"path": str(logs / name), "kind": kind, "format": "oslo",
              "host": COMPUTE_HOST if kind.startswith("nova") else VOLUME_HOST}
             for name, kind in LOG_KINDS.items()]
    config = {
        "sources": {
            "amqp": {"transport_url": cloud.transport_url, "exchanges": EXCHANGES,
                     "queue_prefix": "dccloud-worker", "dead_letters": str(tmp / "dead.jsonl")},
            "files": files,
            "offsets": str(tmp / "offsets.json"),
        },
        "inventory": {"pull": {"cloud": "dccloud", "every": "1h", "timeout": "30s"}},
        "clock": {"mode": "wall", "lateness": "2s"},
        "http": {"bind": "127.0.0.1", "port": http_port},
        "rules": [str(rule_pack(tmp / "rules"))],
        "alerting": {"sinks": [{"type": "jsonl", "url": str(tmp / "alerts.jsonl")}],
                     "default_repeat": "4h"},
    }
    path = tmp / "deploy.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    cloud.clouds_yaml(tmp / "clouds.yaml")
    return path


_SAMPLE = re.compile(r'^dreamcatcher_events_total\{(?P<labels>[^}]*)\} (?P<value>[\d.e+]+)$')


def event_counts(http_port: int) -> dict[tuple[str, str], float]:
    """``dreamcatcher_events_total`` by (source, type), read from the worker's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    counts: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m is None:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group("labels")))
        counts[(labels.get("source", ""), labels.get("type", ""))] = float(m.group("value"))
    return counts
